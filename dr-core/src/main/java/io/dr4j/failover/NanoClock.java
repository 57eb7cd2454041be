package io.dr4j.failover;

import java.time.Clock;
import java.time.Instant;
import java.util.Objects;

/**
 * The router's reading of its {@link Clock} in nanoseconds, for ejection, back-off, saturation,
 * hysteresis and latency bookkeeping.
 *
 * <p>The clock is the only time source. For the JDK's system clocks the elapsed-time readings
 * come from the monotonic counter that underlies them ({@link System#nanoTime()}), so that a
 * wall-clock step (NTP) cannot eject or restore an endpoint and a read allocates nothing; any
 * other clock, such as a test's fake one, is read through {@link Clock#instant()}. Only
 * differences between readings are meaningful; {@link #clock()} gives wall time (HTTP dates).
 *
 * <p>Thread-safe if the clock is.
 */
final class NanoClock {

    private static final Class<?> SYSTEM_CLOCK = Clock.systemUTC().getClass();

    private final Clock clock;
    private final boolean system;

    private NanoClock(Clock clock) {
        this.clock = clock;
        this.system = clock.getClass() == SYSTEM_CLOCK;
    }

    public static NanoClock of(Clock clock) {
        return new NanoClock(Objects.requireNonNull(clock, "clock"));
    }

    /** Nanoseconds since an arbitrary origin. */
    public long read() {
        if (system) {
            return System.nanoTime();
        }
        Instant now = clock.instant();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    public Clock clock() {
        return clock;
    }
}
