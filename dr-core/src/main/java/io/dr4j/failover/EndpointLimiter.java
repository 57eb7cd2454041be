package io.dr4j.failover;

import com.netflix.concurrency.limits.Limit;
import com.netflix.concurrency.limits.limit.Gradient2Limit;
import com.netflix.concurrency.limits.limit.VegasLimit;

/**
 * One endpoint's concurrency limit: fixed, or adaptive through a Netflix {@code concurrency-limits}
 * {@link Limit} that is fed each call's latency and in-flight count, with saturation answers
 * and timeouts as drops. The current limit is a volatile int that the algorithm updates when it
 * changes, so the pick reads it without a lock; {@link #onSample} takes the algorithm's own lock
 * (it is synchronized), which is why only routers configured with an adaptive limit pay for it.
 *
 * <p>Thread-safe.
 */
final class EndpointLimiter {

    private static final EndpointLimiter UNLIMITED = new EndpointLimiter(null, Integer.MAX_VALUE);

    private final Limit adaptive;
    private volatile int limit;

    private EndpointLimiter(Limit adaptive, int initial) {
        this.adaptive = adaptive;
        this.limit = initial;
        if (adaptive != null) {
            adaptive.notifyOnChange(l -> this.limit = Math.max(1, l));
        }
    }

    /** A limiter for one endpoint (each endpoint learns its own limit). */
    public static EndpointLimiter of(ConcurrencyLimit config) {
        if (config instanceof ConcurrencyLimit.Fixed f) {
            return new EndpointLimiter(null, f.max());
        }
        if (config instanceof ConcurrencyLimit.Adaptive a) {
            Limit limit = switch (a.algorithm()) {
                case VEGAS -> VegasLimit.newBuilder().initialLimit(a.initial()).maxConcurrency(a.max()).build();
                case GRADIENT -> new Gradient2Limit.Builder().initialLimit(a.initial()).minLimit(1)
                        .maxConcurrency(a.max()).build();
            };
            return new EndpointLimiter(limit, a.initial());
        }
        return UNLIMITED;
    }

    /** Calls allowed in flight now. */
    public int limit() {
        return limit;
    }

    /** Feeds one finished call; {@code dropped} for saturation answers and timeouts. */
    public void onSample(long startNanos, long rttNanos, int inflight, boolean dropped) {
        if (adaptive != null) {
            adaptive.onSample(startNanos, Math.max(1, rttNanos), inflight, dropped);
        }
    }
}
