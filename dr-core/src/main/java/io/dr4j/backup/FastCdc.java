package io.dr4j.backup;


/**
 * FastCDC content-defined chunking (Xia et al., USENIX ATC 2016, with normalized chunking level
 * 2) over a keyed gear table: the 256 gear values come from the repository's secret chunker key,
 * so chunk boundaries (and hence chunk sizes visible to the store) do not fingerprint content.
 *
 * <p>The rolling hash is {@code fp = (fp << 1) + gear[b]}; a bit {@code k} of {@code fp} depends
 * on the last {@code k + 1} bytes, so the masks test the high bits, which depend on the last 64
 * bytes. Before the average size a stricter mask (two more bits) makes cuts rarer, after it a
 * looser mask (two fewer) makes them likelier, which narrows the size distribution around the
 * average.
 *
 * <p>Immutable and thread-safe; {@link #cut} allocates nothing.
 */
final class FastCdc {

    private final long[] gear;
    private final int minSize;
    private final int avgSize;
    private final int maxSize;
    private final long maskSmall;
    private final long maskLarge;

    /**
     * @param parameters chunk sizes
     * @param gear 256 pseudo-random values derived from the repository key
     */
    public FastCdc(ChunkerParameters parameters, long[] gear) {
        if (gear.length != 256) {
            throw new IllegalArgumentException("gear table needs 256 entries, has " + gear.length);
        }
        this.gear = gear.clone();
        this.minSize = parameters.minSize();
        this.avgSize = parameters.avgSize();
        this.maxSize = parameters.maxSize();
        int bits = Integer.numberOfTrailingZeros(avgSize);
        this.maskSmall = highBits(bits + 2);
        this.maskLarge = highBits(Math.max(1, bits - 2));
    }

    private static long highBits(int n) {
        return n >= 64 ? -1L : -1L << (64 - n);
    }

    /** The minimum chunk size: no cut is made before it (except at the end of the input). */
    public int minSize() {
        return minSize;
    }

    /** The maximum chunk size: a caller must offer at least this many bytes unless at end of input. */
    public int maxSize() {
        return maxSize;
    }

    /**
     * Returns the length of the chunk that starts at {@code data[offset]}, given {@code length}
     * available bytes. If fewer than {@link #maxSize()} bytes are available the caller must be at
     * the end of its input, since the cut would otherwise depend on how the input was buffered.
     */
    public int cut(byte[] data, int offset, int length) {
        if (length <= minSize) {
            return length;
        }
        int n = Math.min(length, maxSize);
        int normal = Math.min(avgSize, n);
        long fp = 0;
        long[] g = gear;
        int i = minSize;
        for (; i < normal; i++) {
            fp = (fp << 1) + g[data[offset + i] & 0xff];
            if ((fp & maskSmall) == 0) {
                return i + 1;
            }
        }
        for (; i < n; i++) {
            fp = (fp << 1) + g[data[offset + i] & 0xff];
            if ((fp & maskLarge) == 0) {
                return i + 1;
            }
        }
        return n;
    }
}
