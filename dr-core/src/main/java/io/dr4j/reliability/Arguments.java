package io.dr4j.reliability;

import java.time.Duration;
import java.util.Objects;

/** Argument checks shared by the reliability types, so that every message names the argument. */
final class Arguments {

    /** Seconds in a Julian year (365.25 days), the "year" of every per-year figure here. */
    static final double SECONDS_PER_YEAR = 365.25 * 24 * 3600;

    private Arguments() {
    }

    static double probability(double value, String name) {
        // The negated form also rejects NaN.
        if (!(value >= 0.0 && value <= 1.0)) {
            throw new IllegalArgumentException(name + " must be a probability in [0, 1], got " + value);
        }
        return value;
    }

    /** Returns {@code duration} in seconds, as a double: long MTTFs overflow {@code toNanos()}. */
    static double positiveSeconds(Duration duration, String name) {
        Objects.requireNonNull(duration, name);
        if (duration.isNegative() || duration.isZero()) {
            throw new IllegalArgumentException(name + " must be a positive duration, got " + duration);
        }
        return duration.getSeconds() + duration.getNano() / 1e9;
    }

    static int atLeast(int value, int minimum, String name) {
        if (value < minimum) {
            throw new IllegalArgumentException(name + " must be at least " + minimum + ", got " + value);
        }
        return value;
    }
}
