package io.dr4j.failover;

import java.time.Duration;
import java.util.List;

/**
 * Something a {@link FailoverListener} hears about. Immutable values, hence thread-safe.
 */
public sealed interface FailoverEvent {

    /** Why an endpoint was ejected. */
    enum EjectionReason {
        /** Too many failures in a row ({@code consecutiveFailures}). */
        CONSECUTIVE_FAILURES,
        /** Connections to it were refused ({@code consecutiveConnectFailures}, 1 by default): nothing listens there. */
        UNREACHABLE,
        /** Its circuit breaker opened on the failure rate. */
        FAILURE_RATE,
        /** A trial call or probe failed while it was recovering. */
        RECOVERY_FAILED,
        /** Active health probes failed {@code unhealthyThreshold} times in a row. */
        HEALTH_CHECK
    }

    /**
     * An endpoint stopped receiving traffic.
     *
     * @param endpoint the endpoint
     * @param reason why
     * @param duration how long before trial calls start; {@code Duration.ZERO} when it waits for probes instead
     * @param ejections how many times it has been ejected, this one included
     */
    record Ejected(Endpoint<?> endpoint, EjectionReason reason, Duration duration, int ejections) implements FailoverEvent {
    }

    /**
     * An endpoint said it is overloaded (429, 503 with {@code Retry-After}) and is left alone for
     * a while; it is not ejected and stays healthy. Sent when it becomes saturated, not for every
     * answer while it is.
     *
     * @param endpoint the endpoint
     * @param duration how long it is taken out of selection (the advice, capped; or the default)
     */
    record Saturated(Endpoint<?> endpoint, Duration duration) implements FailoverEvent {
    }

    /**
     * An endpoint is healthy again and back in rotation.
     *
     * @param endpoint the endpoint
     */
    record Restored(Endpoint<?> endpoint) implements FailoverEvent {
    }

    /**
     * The traffic split across priority levels changed: a region failed over, spilled over or
     * failed back.
     *
     * @param priorities the priority levels, most preferred first
     * @param previousLoad per level, percent of traffic before
     * @param load per level, percent of traffic now
     */
    record Failover(List<Integer> priorities, List<Integer> previousLoad, List<Integer> load) implements FailoverEvent {
    }

    /**
     * Panic routing started or ended: too few endpoints look healthy, so calls go to all of them
     * (healthy or not) rather than overload the few or fail everything.
     *
     * @param active whether panic routing is now on
     * @param healthPercent the overall health (after overprovisioning), 0 to 100
     */
    record Panic(boolean active, int healthPercent) implements FailoverEvent {
    }
}
