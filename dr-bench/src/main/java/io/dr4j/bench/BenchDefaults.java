package io.dr4j.bench;

/**
 * Fork, warm-up and measurement defaults shared by every dr4j JMH benchmark, in one place.
 * Benchmarks reference these constants in their annotations; override on the command line
 * ({@code -f}, {@code -wi}, {@code -i}) for quicker or longer runs.
 */
public final class BenchDefaults {
    /** JVM forks per benchmark. */
    public static final int FORKS = 1;
    /** Warm-up iterations. */
    public static final int WARMUP_ITERATIONS = 2;
    /** Measurement iterations. */
    public static final int MEASUREMENT_ITERATIONS = 5;
    /** Seconds per iteration for hot-path (CPU) benchmarks. */
    public static final int ITERATION_SECONDS = 2;

    private BenchDefaults() {
    }
}
