package io.dr4j.failover;

/**
 * A source of nanosecond time for the router's ejection, back-off, hysteresis and latency
 * bookkeeping; tests inject a fake one to make those deterministic.
 *
 * <p>Implementations must be thread-safe. Only differences between readings are meaningful.
 */
@FunctionalInterface
public interface Ticker {

    /** Nanoseconds since an arbitrary origin, as {@link System#nanoTime()}. */
    long read();

    /** The system ticker ({@link System#nanoTime()}). */
    static Ticker system() {
        return System::nanoTime;
    }
}
