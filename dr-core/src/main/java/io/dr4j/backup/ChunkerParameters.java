package io.dr4j.backup;

/**
 * Content-defined chunking sizes: minimum, average (target) and maximum chunk size in bytes.
 *
 * <p>The default, {@link #DEFAULT} = 64 KiB / 256 KiB / 1 MiB, was chosen with
 * {@code io.dr4j.backup.ChunkSizeSweep} on the partial fine-tune workload (DESIGN §7: 8
 * shards of 256 MiB, 10% of each rewritten in 4 MiB runs at unaligned offsets). Each rewritten
 * run drags in about one average chunk around it, so the bytes stored for v2 per byte changed
 * were 1.16 (256 KiB average), 1.35 (512 KiB), 1.70 (1 MiB) and 2.24 (2 MiB); only the 256 KiB
 * average meets dr4j's 1.3 target. The price is more objects (about 4 per MiB, 7,200 for a 2 GiB
 * checkpoint), which dr4j offsets with parallel store requests.
 *
 * @param minSize no chunk is smaller, except a file's last (at least 64 bytes)
 * @param avgSize the target average, a power of two between minSize and maxSize
 * @param maxSize no chunk is larger (at most 64 MiB)
 */
public record ChunkerParameters(int minSize, int avgSize, int maxSize) {

    /** 64 KiB / 256 KiB / 1 MiB. */
    public static final ChunkerParameters DEFAULT = new ChunkerParameters(64 << 10, 256 << 10, 1 << 20);

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
