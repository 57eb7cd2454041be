package io.dr4j.failover;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A lock-free log-scale latency histogram (4 buckets per power of two, so a quantile is off by
 * at most 19%) that forgets: every {@code refreshNanos} the cached quantile is recomputed and
 * all counts are halved, so it follows the recent latency. Used to time hedged requests.
 */
final class LatencyHistogram {

    private static final int SUB = 4;
    private static final int BUCKETS = 64 * SUB;

    private final AtomicLongArray counts = new AtomicLongArray(BUCKETS);
    private final double quantile;
    private final long refreshNanos;
    private final long minSamples;
    private final AtomicLong nextRefresh;
    private volatile long cachedNanos = Long.MAX_VALUE;

    public LatencyHistogram(double quantile, long refreshNanos, long minSamples, long now) {
        this.quantile = quantile;
        this.refreshNanos = refreshNanos;
        this.minSamples = minSamples;
        this.nextRefresh = new AtomicLong(now);
    }

    public void record(long nanos) {
        counts.incrementAndGet(bucket(Math.max(1, nanos)));
    }

    /** The quantile of recent latencies, or {@link Long#MAX_VALUE} while there are too few samples. */
    public long quantileNanos(long now) {
        long due = nextRefresh.get();
        if (now - due >= 0 && nextRefresh.compareAndSet(due, now + refreshNanos)) {
            cachedNanos = compute();
        }
        return cachedNanos;
    }

    private long compute() {
        long total = 0;
        long[] snapshot = new long[BUCKETS];
        for (int i = 0; i < BUCKETS; i++) {
            snapshot[i] = counts.get(i);
            total += snapshot[i];
        }
        for (int i = 0; i < BUCKETS; i++) {
            if (snapshot[i] != 0) {
                counts.addAndGet(i, -(snapshot[i] / 2));
            }
        }
        if (total < minSamples) {
            return Long.MAX_VALUE;
        }
        long rank = (long) Math.ceil(quantile * total);
        long seen = 0;
        for (int i = 0; i < BUCKETS; i++) {
            seen += snapshot[i];
            if (seen >= rank) {
                return upperBound(i);
            }
        }
        return upperBound(BUCKETS - 1);
    }

    static int bucket(long nanos) {
        int exp = 63 - Long.numberOfLeadingZeros(nanos);
        int sub = exp < 2 ? 0 : (int) ((nanos >>> (exp - 2)) & (SUB - 1));
        return exp * SUB + sub;
    }

    static long upperBound(int bucket) {
        int exp = bucket / SUB;
        int sub = bucket % SUB;
        if (exp < 2) {
            return 1L << (exp + 1);
        }
        long base = 1L << exp;
        long step = base / SUB;
        long bound = base + step * (sub + 1);
        return bound < 0 ? Long.MAX_VALUE : bound;
    }
}
