package io.dr4j.backup;

/**
 * Ceilings a reader applies to what the store asks of it, checked <em>before</em> the resource is
 * spent: the {@code config} object and its key slots are read before anything is authenticated,
 * so without these a store an attacker can write to could make every client run Argon2 with
 * 4 GiB and 100 passes per slot, for thousands of slots, or download a multi-gigabyte
 * "manifest". An object above a ceiling is refused with a {@link ReaderLimitException} naming the
 * field, the value and the ceiling. The defaults are far above what dr4j writes with its own
 * defaults (FORMAT.md §Reader bounds) and below what hurts a 2-core host; raise a ceiling only
 * for a repository you created with larger settings. Immutable; build with {@link #builder()}.
 *
 * @param maxConfigBytes largest {@code config} object read, in bytes (default 1 MiB; dr4j writes about 1 KiB)
 * @param maxKeySlots most key slots in {@code config} (default 16)
 * @param maxKdfMemoryKiB largest Argon2 memory of a password slot, in KiB (default 1 GiB = 1048576; dr4j
 *     creates 65536; at most the format's 4 GiB)
 * @param maxKdfIterations most Argon2 passes of a password slot (default 10; dr4j creates 3; at most the format's 100)
 * @param maxManifestBytes largest snapshot manifest, decompressed, in bytes (default and most 1 GiB, the
 *     format's bound); the sealed object is refused above this plus zstd's worst-case expansion
 * @param maxIndexFileBytes largest index file plaintext, in bytes (default and most 256 MiB, the format's bound)
 * @param maxPackHeaderBytes largest pack header, in bytes (default and most 64 MiB, the format's bound)
 */
public record ReaderLimits(long maxConfigBytes, int maxKeySlots, int maxKdfMemoryKiB, int maxKdfIterations,
        int maxManifestBytes, int maxIndexFileBytes, int maxPackHeaderBytes) {

    /** The format's own bounds (FORMAT.md): no ceiling may be raised above these. */
    static final int FORMAT_MAX_KDF_MEMORY_KIB = 4 * 1024 * 1024;
    static final int FORMAT_MAX_KDF_ITERATIONS = 100;
    static final int FORMAT_MAX_MANIFEST = 1 << 30;
    static final int FORMAT_MAX_INDEX_FILE = 256 << 20;
    static final int FORMAT_MAX_PACK_HEADER = 64 << 20;

    public ReaderLimits {
        between("maxConfigBytes", maxConfigBytes, 4096, 64L << 20);
        between("maxKeySlots", maxKeySlots, 1, 10_000);
        between("maxKdfMemoryKiB", maxKdfMemoryKiB, 8, FORMAT_MAX_KDF_MEMORY_KIB);
        between("maxKdfIterations", maxKdfIterations, 1, FORMAT_MAX_KDF_ITERATIONS);
        between("maxManifestBytes", maxManifestBytes, 1024, FORMAT_MAX_MANIFEST);
        between("maxIndexFileBytes", maxIndexFileBytes, 1024, FORMAT_MAX_INDEX_FILE);
        between("maxPackHeaderBytes", maxPackHeaderBytes, 1024, FORMAT_MAX_PACK_HEADER);
    }

    private static void between(String name, long value, long min, long max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(name + " must be " + min + " to " + max + ", was " + value);
        }
    }

    /** The defaults. */
    public static ReaderLimits defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The largest sealed object whose decompressed payload can be {@code plainBound} bytes: zstd's worst case plus the envelope. */
    public static long sealedBound(long plainBound) {
        // ZSTD_COMPRESSBOUND, plus the 30-byte envelope
        return plainBound + (plainBound >> 8) + (plainBound < (128 << 10) ? ((128 << 10) - plainBound) >> 11 : 0) + 30;
    }

    /** Builds {@link ReaderLimits}. Not thread-safe. */
    public static final class Builder {
        private long maxConfigBytes = 1 << 20;
        private int maxKeySlots = 16;
        private int maxKdfMemoryKiB = 1024 * 1024;
        private int maxKdfIterations = 10;
        private int maxManifestBytes = FORMAT_MAX_MANIFEST;
        private int maxIndexFileBytes = FORMAT_MAX_INDEX_FILE;
        private int maxPackHeaderBytes = FORMAT_MAX_PACK_HEADER;

        private Builder() {
        }

        public Builder maxConfigBytes(long bytes) {
            this.maxConfigBytes = bytes;
            return this;
        }

        public Builder maxKeySlots(int slots) {
            this.maxKeySlots = slots;
            return this;
        }

        public Builder maxKdfMemoryKiB(int kib) {
            this.maxKdfMemoryKiB = kib;
            return this;
        }

        public Builder maxKdfIterations(int iterations) {
            this.maxKdfIterations = iterations;
            return this;
        }

        public Builder maxManifestBytes(int bytes) {
            this.maxManifestBytes = bytes;
            return this;
        }

        public Builder maxIndexFileBytes(int bytes) {
            this.maxIndexFileBytes = bytes;
            return this;
        }

        public Builder maxPackHeaderBytes(int bytes) {
            this.maxPackHeaderBytes = bytes;
            return this;
        }

        /** @throws IllegalArgumentException naming the first ceiling out of range */
        public ReaderLimits build() {
            return new ReaderLimits(maxConfigBytes, maxKeySlots, maxKdfMemoryKiB, maxKdfIterations, maxManifestBytes,
                    maxIndexFileBytes, maxPackHeaderBytes);
        }
    }
}
