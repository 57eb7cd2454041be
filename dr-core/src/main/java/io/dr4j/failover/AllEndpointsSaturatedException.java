package io.dr4j.failover;

import io.dr4j.Dr4jException;
import java.time.Duration;

/**
 * Every endpoint that may take a call is saturated (it answered 429 or 503 with
 * {@code Retry-After} and its time has not passed) or at its {@linkplain ConcurrencyLimit
 * concurrency limit}, and the call could not wait for one to free up: the wait allowed by
 * {@link FailoverRouterBuilder#whenAllSaturated} is zero (fail fast) or shorter than the time
 * until the earliest endpoint is free. This is overload, not an outage: no endpoint is ejected.
 *
 * <p>Immutable, hence thread-safe.
 */
public class AllEndpointsSaturatedException extends Dr4jException {

    private static final long serialVersionUID = 1L;

    private final transient Duration earliest;

    /**
     * @param router the router's name
     * @param earliest how long until the earliest saturated endpoint is free again (zero when
     *                 the endpoints are only at their concurrency limits)
     * @param waited how long the call waited before giving up
     */
    public AllEndpointsSaturatedException(String router, Duration earliest, Duration waited) {
        super("router '" + router + "': every eligible endpoint is saturated or at its concurrency limit"
                + (earliest.isZero() ? "" : "; the earliest is free in " + earliest)
                + (waited.isZero() ? " (fail fast)" : " (waited " + waited + ")"));
        this.earliest = earliest;
    }

    /** How long until the earliest saturated endpoint is free again; zero when they were only at their limits. */
    public Duration earliestAvailableIn() {
        return earliest;
    }
}
