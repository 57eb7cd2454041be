package io.dr4j.backup;

/**
 * Content-defined chunking sizes: minimum, average (target) and maximum chunk size in bytes.
 *
 * <p>The default, {@link #DEFAULT} = 128 KiB / 512 KiB / 2 MiB, was chosen with
 * {@code io.dr4j.bench.backup.ChunkSizeSweep} on the partial fine-tune workload (DESIGN §7: 8
 * shards, 10% of each rewritten in 4 MiB runs at unaligned offsets). Smaller averages store less
 * for such a change (each rewritten run drags in about one average chunk on each side) but make
 * more objects, and per-object cost (a PUT on S3, an fsync on local disk) dominates below a few
 * hundred KiB; 512 KiB keeps the stored bytes for the v2 incremental within 1.3x of the bytes
 * changed while keeping a 2 GiB checkpoint at about 4,000 objects.
 *
 * @param minSize no chunk is smaller, except a file's last (at least 64 bytes)
 * @param avgSize the target average, a power of two between minSize and maxSize
 * @param maxSize no chunk is larger (at most 64 MiB)
 */
public record ChunkerParameters(int minSize, int avgSize, int maxSize) {

    /** 128 KiB / 512 KiB / 2 MiB. */
    public static final ChunkerParameters DEFAULT = new ChunkerParameters(128 << 10, 512 << 10, 2 << 20);

    /** Largest allowed maximum chunk size. */
    public static final int MAX_CHUNK_SIZE = 64 << 20;

    public ChunkerParameters {
        if (minSize < 64) {
            throw new IllegalArgumentException("minSize must be at least 64 bytes, was " + minSize);
        }
        if (Integer.bitCount(avgSize) != 1) {
            throw new IllegalArgumentException("avgSize must be a power of two, was " + avgSize);
        }
        if (!(minSize < avgSize && avgSize < maxSize)) {
            throw new IllegalArgumentException("chunk sizes must satisfy min < avg < max, were " + minSize + " / "
                    + avgSize + " / " + maxSize);
        }
        if (maxSize > MAX_CHUNK_SIZE) {
            throw new IllegalArgumentException("maxSize must be at most " + MAX_CHUNK_SIZE + " bytes, was " + maxSize);
        }
    }
}
