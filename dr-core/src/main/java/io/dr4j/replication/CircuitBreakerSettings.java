package io.dr4j.replication;

import java.time.Duration;

/**
 * When a member of a {@link ReplicatedBlobStore} is considered down: its circuit breaker opens
 * when at least {@code failureRatePercent} of the last {@code windowCalls} calls failed (once at
 * least {@code minimumCalls} were made), stays open for {@code openFor}, then lets
 * {@code halfOpenCalls} probe calls through. dr4j's own value type, so that the builder's
 * signature does not expose the breaker library underneath (resilience4j). Immutable and
 * thread-safe.
 *
 * @param windowCalls the size of the count-based window, at least 1
 * @param minimumCalls calls before the failure rate counts, between 1 and {@code windowCalls}
 * @param failureRatePercent the failure rate that opens the breaker, in (0, 100]
 * @param openFor how long an open breaker refuses calls, positive
 * @param halfOpenCalls probe calls let through once {@code openFor} passed, at least 1
 */
public record CircuitBreakerSettings(int windowCalls, int minimumCalls, float failureRatePercent, Duration openFor,
        int halfOpenCalls) {

    /** The defaults: a window of 10 calls, at least 5, open at 50% failures for 30 s, 2 probe calls half-open. */
    public static final CircuitBreakerSettings DEFAULT = new CircuitBreakerSettings(10, 5, 50, Duration.ofSeconds(30), 2);

    public CircuitBreakerSettings {
        if (windowCalls < 1 || minimumCalls < 1 || minimumCalls > windowCalls) {
            throw new IllegalArgumentException("need 1 <= minimumCalls <= windowCalls, were " + minimumCalls + " and "
                    + windowCalls);
        }
        if (!(failureRatePercent > 0 && failureRatePercent <= 100)) {
            throw new IllegalArgumentException("failureRatePercent must be in (0, 100], was " + failureRatePercent);
        }
        if (openFor == null || openFor.isNegative() || openFor.isZero()) {
            throw new IllegalArgumentException("openFor must be positive, was " + openFor);
        }
        if (halfOpenCalls < 1) {
            throw new IllegalArgumentException("halfOpenCalls must be at least 1, was " + halfOpenCalls);
        }
    }
}
