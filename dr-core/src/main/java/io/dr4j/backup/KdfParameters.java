package io.dr4j.backup;

/**
 * Argon2id parameters for deriving a key-encryption key from a password (RFC 9106).
 *
 * <p>{@link #DEFAULT} is 64 MiB of memory, 3 passes, parallelism 1: RFC 9106's second
 * recommended option scaled to take well under a second on a server core, so opening a
 * repository stays quick while an offline guess costs 64 MiB of memory each. Lower values are
 * for tests only.
 *
 * @param memoryKiB memory cost in KiB (at least 8 × parallelism)
 * @param iterations number of passes (at least 1)
 * @param parallelism lanes (1 to 16)
 */
public record KdfParameters(int memoryKiB, int iterations, int parallelism) {

    /** 64 MiB, 3 passes, 1 lane. */
    public static final KdfParameters DEFAULT = new KdfParameters(64 * 1024, 3, 1);

    public KdfParameters {
        if (parallelism < 1 || parallelism > 16) {
            throw new IllegalArgumentException("Argon2 parallelism must be 1 to 16, was " + parallelism);
        }
        if (memoryKiB < 8 * parallelism || memoryKiB > 4 * 1024 * 1024) {
            throw new IllegalArgumentException("Argon2 memory must be between " + (8 * parallelism)
                    + " KiB and 4 GiB, was " + memoryKiB + " KiB");
        }
        if (iterations < 1 || iterations > 100) {
            throw new IllegalArgumentException("Argon2 iterations must be 1 to 100, was " + iterations);
        }
    }
}
