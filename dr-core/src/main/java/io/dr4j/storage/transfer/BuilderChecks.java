package io.dr4j.storage.transfer;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The checks a store builder makes: every option at most once (as Caffeine's builders refuse an
 * option set twice), numeric options within their bounds, and options that exclude each other.
 * One instance per builder; not thread-safe, like the builder.
 */
public final class BuilderChecks {

    private final Set<String> set = new HashSet<>();

    /**
     * Records that {@code option} is being set.
     *
     * @throws IllegalStateException if it was set before
     */
    public void once(String option) {
        if (!set.add(option)) {
            throw new IllegalStateException(option + " was already set");
        }
    }

    /** Whether {@code option} was set. */
    public boolean wasSet(String option) {
        return set.contains(option);
    }

    /** Whether any of {@code options} was set. */
    public boolean anySet(List<String> options) {
        return options.stream().anyMatch(set::contains);
    }

    /**
     * Fails if any of {@code options} was set, naming it, with {@code why} (e.g. "configures the
     * client the store builds; it cannot be combined with client(...)").
     *
     * @throws IllegalStateException naming the first such option
     */
    public void refuse(List<String> options, String why) {
        for (String option : options) {
            if (set.contains(option)) {
                throw new IllegalStateException(option + " " + why);
            }
        }
    }

    /**
     * Returns {@code value} if it lies in {@code [min, max]}.
     *
     * @throws IllegalArgumentException naming the option, the bounds and the value otherwise
     */
    public static long between(String option, long value, long min, long max, String unit) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(option + " must be between " + min + " and " + max
                    + (unit.isEmpty() ? "" : " " + unit) + ", was " + value);
        }
        return value;
    }

    /** {@link #between(String, long, long, long, String)} for an {@code int} option without unit. */
    public static int between(String option, int value, int min, int max) {
        return (int) between(option, value, min, max, "");
    }
}
