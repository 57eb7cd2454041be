package io.dr4j.failover;

import java.time.Duration;
import java.util.Objects;

/**
 * When to send a backup ("hedged") copy of a slow idempotent asynchronous call to another
 * endpoint: after the router's observed latency {@code percentile} (but never sooner than
 * {@code minDelay}). Each hedge spends a token of the retry budget, so hedging cannot amplify
 * an outage; the first success wins and the other attempt is cancelled. Until
 * {@value #MIN_SAMPLES} latencies have been observed no hedge is sent. Immutable.
 *
 * @param percentile the latency quantile after which to hedge, 0.5 to 0.999 (e.g. 0.95)
 * @param minDelay the smallest hedge delay, at least 1 ms
 * @param maxHedges backup copies per attempt, 1 to 3
 */
public record HedgePolicy(double percentile, Duration minDelay, int maxHedges) {

    /** Latencies needed before the percentile is trusted. */
    public static final int MIN_SAMPLES = 100;

    /** Validates the components. */
    public HedgePolicy {
        Objects.requireNonNull(minDelay, "minDelay");
        if (!(percentile >= 0.5 && percentile <= 0.999)) {
            throw new IllegalArgumentException("hedge percentile must be 0.5 to 0.999, was " + percentile);
        }
        if (minDelay.toMillis() < 1) {
            throw new IllegalArgumentException("hedge minDelay must be at least 1 ms, was " + minDelay);
        }
        if (maxHedges < 1 || maxHedges > 3) {
            throw new IllegalArgumentException("maxHedges must be 1 to 3, was " + maxHedges);
        }
    }

    /** Hedge once after the observed p95 latency, no sooner than 10 ms. */
    public static HedgePolicy p95() {
        return new HedgePolicy(0.95, Duration.ofMillis(10), 1);
    }
}
