package io.dr4j.failover;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Finagle's retry budget, lock-free: every request deposits {@code percent} of a token, every
 * retry (or hedge) withdraws a whole one, and deposits and withdrawals expire after {@code ttl},
 * so retries can never exceed {@code percent} of recent traffic plus a reserve of
 * {@code minPerSecond * ttl} tokens that lets a quiet client retry at all.
 *
 * <p>The window is {@value #SLICES} slices of milli-tokens in a ring; the slice that time enters
 * is cleared by whichever thread gets there first (a CAS on the slice's epoch). A deposit racing
 * with the clearing of its slice may be lost: the budget errs toward fewer retries.
 */
final class RetryBudget {

    static final int SLICES = 10;
    private static final long MILLI = 1000;

    private final long depositMilli;
    private final long reserveMilli;
    private final long sliceNanos;
    /** Striped counters: every call deposits, so a single atomic here would be a point of contention between threads. */
    private final LongAdder[] balance = new LongAdder[SLICES];
    private final AtomicLongArray epochs = new AtomicLongArray(SLICES);
    private final AtomicLong refused = new AtomicLong();

    /**
     * @param percent fraction of requests that may be retried, 0 to 1
     * @param minPerSecond retries always allowed per second
     * @param ttlNanos how long a deposit counts
     * @param now the ticker's current reading
     */
    public RetryBudget(double percent, int minPerSecond, long ttlNanos, long now) {
        this.depositMilli = Math.round(percent * MILLI);
        this.reserveMilli = (long) minPerSecond * (ttlNanos / 1_000_000_000L) * MILLI;
        this.sliceNanos = Math.max(1, ttlNanos / SLICES);
        long epoch = Math.floorDiv(now, sliceNanos);
        for (int i = 0; i < SLICES; i++) {
            epochs.set(i, epoch - Math.floorMod(epoch - i, SLICES));
            balance[i] = new LongAdder();
        }
    }

    /** Records one request. */
    public void deposit(long now) {
        if (depositMilli != 0) {
            balance[slice(now)].add(depositMilli);
        }
    }

    /** Takes one token if the budget has one; false means "do not retry". */
    public boolean tryWithdraw(long now) {
        int current = slice(now);
        long sum = reserveMilli;
        for (int i = 0; i < SLICES; i++) {
            sum += balance[i].sum();
        }
        if (sum >= MILLI) {
            balance[current].add(-MILLI);
            return true;
        }
        refused.incrementAndGet();
        return false;
    }

    /** Whole tokens available now. */
    public long available(long now) {
        slice(now);
        long sum = reserveMilli;
        for (int i = 0; i < SLICES; i++) {
            sum += balance[i].sum();
        }
        return Math.max(0, sum / MILLI);
    }

    /** Retries refused so far. */
    public long refused() {
        return refused.get();
    }

    /** The ring index for {@code now}, clearing slices whose epoch has passed. */
    private int slice(long now) {
        long epoch = Math.floorDiv(now, sliceNanos);
        int index = Math.floorMod(epoch, SLICES);
        long seen = epochs.get(index);
        if (seen != epoch) {
            // Every slice whose epoch is a whole window old (this one, and any skipped while idle) is stale.
            for (int i = 0; i < SLICES; i++) {
                long e = epochs.get(i);
                if (epoch - e >= SLICES && epochs.compareAndSet(i, e, e + SLICES * ((epoch - e) / SLICES))) {
                    balance[i].reset();
                }
            }
        }
        return index;
    }
}
