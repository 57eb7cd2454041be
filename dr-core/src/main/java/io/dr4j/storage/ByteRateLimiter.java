package io.dr4j.storage;

import java.io.InterruptedIOException;
import java.util.function.LongSupplier;

/**
 * A token bucket over bytes: {@link #acquire} blocks until the bytes asked for fit under
 * {@code bytesPerSecond}, with at most {@code burstBytes} sent ahead of the rate after an idle
 * spell. A request larger than the bucket is never refused: it waits until the rate has paid for
 * the part the bucket did not hold (the bucket goes into debt, and later requests queue behind
 * it). Over any interval of length {@code t}, the bytes granted are at most
 * {@code burstBytes + bytesPerSecond * t}.
 *
 * <p>Thread-safe: callers reserve their bytes in arrival order under a lock and sleep outside it.
 * Time comes from an injectable nanosecond ticker and sleeper, so tests use a fake clock.
 */
final class ByteRateLimiter {

    /** Sleeps for a number of nanoseconds. */
    interface Sleeper {
        void sleepNanos(long nanos) throws InterruptedException;
    }

    private static final long NANOS = 1_000_000_000L;

    private final long bytesPerSecond;
    private final long burstBytes;
    private final LongSupplier ticker;
    private final Sleeper sleeper;
    /** Bytes that may be sent now; negative while earlier requests are still being paid for. */
    private double available;
    private long lastNanos;

    ByteRateLimiter(long bytesPerSecond, long burstBytes, LongSupplier ticker, Sleeper sleeper) {
        if (bytesPerSecond <= 0) {
            throw new IllegalArgumentException("a rate limit must be positive, was " + bytesPerSecond + " bytes/s");
        }
        if (burstBytes <= 0) {
            throw new IllegalArgumentException("a burst must be positive, was " + burstBytes + " bytes");
        }
        this.bytesPerSecond = bytesPerSecond;
        this.burstBytes = burstBytes;
        this.ticker = ticker;
        this.sleeper = sleeper;
        this.lastNanos = ticker.getAsLong();
        this.available = burstBytes;
    }

    long bytesPerSecond() {
        return bytesPerSecond;
    }

    /**
     * Takes {@code bytes} from the bucket, sleeping until the rate allows them.
     *
     * @throws InterruptedIOException if interrupted while waiting (the bytes stay reserved)
     */
    void acquire(long bytes) throws InterruptedIOException {
        if (bytes <= 0) {
            return;
        }
        long waitNanos;
        synchronized (this) {
            long now = ticker.getAsLong();
            available = Math.min(burstBytes, available + (double) (now - lastNanos) * bytesPerSecond / NANOS);
            lastNanos = now;
            available -= bytes;
            waitNanos = available >= 0 ? 0 : (long) Math.ceil(-available * NANOS / bytesPerSecond);
        }
        if (waitNanos > 0) {
            try {
                sleeper.sleepNanos(waitNanos);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while rate-limited to " + bytesPerSecond + " bytes/s");
            }
        }
    }
}
