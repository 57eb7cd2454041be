package io.dr4j.backup;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * Lossless byte-plane codec for chunks of floating-point tensors (BF16, F16, F32), after ZipNN
 * (Hershcovitch et al., 2024). Model weights look random to zstd, but only their mantissa is: in a
 * normally distributed BF16 weight the 8 exponent bits carry about 3 bits of information. The
 * codec regroups the bytes of a chunk into one plane per byte of the element, so that all exponents
 * sit together in plane 0, and compresses each plane with zstd only where that saves at least 3%.
 *
 * <p>With {@link Split#EXPONENT_BYTE} (the default) each little-endian element is first rotated
 * left by one bit, which moves the sign from the top to the bottom: plane 0 then holds exactly the
 * 8 exponent bits of a BF16 or F32 value (5 exponent bits and the top 3 mantissa bits of an F16),
 * and the sign travels with the low mantissa bits, which are incompressible anyway. With
 * {@link Split#BYTES} the planes are the element's bytes as stored, most significant first (plane 0
 * of a BF16 is sign + 7 exponent bits). The rotation gains little (0.680 vs 0.684 of raw on
 * BF16): the exponent's lowest bit, which it brings in, is about as random as the sign it moves
 * out. docs/tensor-codec.md specifies the format and has the measurements.
 *
 * <p>Chunks are cut anywhere, so a chunk may begin inside an element ({@code phase} bytes before
 * the first element boundary) and end inside one; those partial elements are stored raw. Every
 * bit pattern round-trips (NaN payloads, infinities, -0, subnormals): the transform is a
 * bijection on bits, never an arithmetic conversion.
 *
 * <h2>Encoded layout (version 1)</h2>
 * All integers little-endian, offsets relative to the start of the encoding.
 * <pre>
 * offset      size  field
 * 0           1     version = 1
 * 1           1     dtype: 1 = BF16, 2 = F16, 3 = F32
 * 2           1     element width w in bytes: 2, 2, 4 (must match the dtype)
 * 3           1     split: 0 = bytes as stored, 1 = rotate left 1 bit (sign to the low byte)
 * 4           1     phase p, 0 &lt;= p &lt; w: bytes before the first whole element
 * 5           4     plain length L (u32)
 * 9           4     CRC-32C of the L plain bytes
 * 13          5 * w plane table, for k = 0..w-1: flags (u8: 0 = raw, 1 = one zstd frame), stored length (u32)
 * 13 + 5w     h     head: the first h = min(p, L) plain bytes, raw
 * ...         t     tail: the last t = (L - h) mod w plain bytes, raw
 * ...         ...   planes 0..w-1 back to back, each stored as its table entry says
 * </pre>
 * With {@code n = (L - h) / w} whole elements, plane {@code k} decodes to {@code n} bytes: byte
 * {@code w-1-k} (0 = least significant) of each element after the split transform. Element
 * {@code i} occupies plain bytes {@code [h + w*i, h + w*(i+1))}.
 *
 * <p>The CRC makes a decoding self-checking. Blobs are authenticated (AES-GCM) before they are
 * decoded, so it is there for what authentication cannot see: a bug in this codec or its callers
 * would otherwise restore wrong weights without a word, the one failure a DR tool must not have.
 *
 * <p>{@link TensorCodec} is immutable and thread-safe; a {@link Scratch} belongs to one thread at a
 * time. {@link #encode} and {@link #decode} allocate nothing on the Java heap in steady state.
 */
final class TensorCodec {

    /** The element types the codec knows; {@link #OTHER} is never encoded. */
    public enum Dtype {
        BF16(1, 2), F16(2, 2), F32(3, 4), OTHER(0, 1);

        private final int code;
        private final int width;

        Dtype(int code, int width) {
            this.code = code;
            this.width = width;
        }

        /** Element width in bytes (1 for {@link #OTHER}). */
        public int width() {
            return width;
        }

        static Dtype ofCode(int code) {
            switch (code) {
                case 1: return BF16;
                case 2: return F16;
                case 3: return F32;
                default: return null;
            }
        }
    }

    /** How an element's bits are divided into planes. */
    public enum Split {
        /** The element's bytes as stored, most significant first. */
        BYTES(0, 0),
        /** Rotated left by one bit first, so that plane 0 holds the exponent without the sign. */
        EXPONENT_BYTE(1, 1);

        private final int code;
        private final int rotation;

        Split(int code, int rotation) {
            this.code = code;
            this.rotation = rotation;
        }
    }

    /** Version byte of the layout above. */
    public static final int VERSION = 1;
    /** Default largest chunk a {@link Scratch} holds: 1 MiB. */
    public static final int DEFAULT_MAX_CHUNK = 1 << 20;
    /**
     * Default zstd level of the planes: 1. On exponent planes it is both faster and smaller than 3
     * (0.359 vs 0.402 of the plane on N(0, 0.02) BF16): the plane is all literals, and the match
     * finders of higher levels spend bits on short spurious matches.
     */
    public static final int DEFAULT_LEVEL = 1;
    /**
     * The match finder is narrowed to a 64-entry hash table of 7-byte matches at every level, which
     * leaves zstd's Huffman-coded literals to do the work: on the same plane 0.326 of the plane at
     * ~1 GB/s instead of 0.359 at ~320 MB/s (the order-0 entropy bound is 0.318).
     */
    private static final int HASH_LOG = 6;
    private static final int MIN_MATCH = 7;

    private static final int FIXED_HEADER = 13;
    private static final int PLANE_ENTRY = 5;
    private static final int MAX_WIDTH = 4;
    private static final int FLAG_RAW = 0;
    private static final int FLAG_ZSTD = 1;
    /** Below this a plane is stored raw: zstd's frame overhead eats any gain. */
    private static final int MIN_COMPRESSED_PLANE = 64;
    private static final int SAMPLE = 4096;
    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    private static final TensorCodec DEFAULTS = new TensorCodec(DEFAULT_LEVEL, Split.EXPONENT_BYTE, DEFAULT_MAX_CHUNK);

    private final int level;
    private final Split split;
    private final int maxChunk;

    /**
     * @param level zstd level of the planes (zstd's range, negative levels are the fast ones)
     * @param split how elements are divided into planes
     * @param maxChunk the largest plain chunk the scratch of this codec holds, at least 1
     */
    public TensorCodec(int level, Split split, int maxChunk) {
        if (level < Zstd.minCompressionLevel() || level > Zstd.maxCompressionLevel()) {
            throw new IllegalArgumentException("zstd level must be in [" + Zstd.minCompressionLevel() + ", "
                    + Zstd.maxCompressionLevel() + "], was " + level);
        }
        if (maxChunk < 1) {
            throw new IllegalArgumentException("maxChunk must be at least 1, was " + maxChunk);
        }
        this.level = level;
        this.split = Objects.requireNonNull(split, "split");
        this.maxChunk = maxChunk;
    }

    /** zstd level {@value #DEFAULT_LEVEL}, {@link Split#EXPONENT_BYTE}, chunks up to 1 MiB. */
    public static TensorCodec defaults() {
        return DEFAULTS;
    }

    /** The largest plain chunk {@link #encode} and {@link #decode} accept. */
    public int maxChunk() {
        return maxChunk;
    }

    /** A new scratch for one thread; close it to free its native zstd contexts. */
    public Scratch newScratch() {
        return new Scratch(this);
    }

    /** An upper bound of the encoding of {@code len} plain bytes: what {@code dst} must have room for. */
    public static int maxEncodedLength(int len) {
        if (len < 0) {
            throw new IllegalArgumentException("len must not be negative, was " + len);
        }
        return Math.addExact(len, FIXED_HEADER + PLANE_ENTRY * MAX_WIDTH);
    }

    /**
     * Encodes {@code src[off, off+len)} as elements of {@code dtype} into {@code dst} from
     * {@code dstOff}, if that pays.
     *
     * @param phase bytes at the start of the chunk before the first element boundary, in
     *     {@code [0, dtype.width())}: the chunk's distance from the tensor's start, negated, modulo the width
     * @return the encoded length, or -1 when the encoding would not be at least 3% smaller than
     *     {@code len} (or {@code dtype} is {@link Dtype#OTHER}); then {@code dst}'s contents are unspecified
     * @throws IllegalArgumentException if {@code len} exceeds {@link #maxChunk()}, {@code phase} is
     *     out of range, {@code dst} has less than {@link #maxEncodedLength} room, or the scratch is another codec's
     */
    public int encode(Dtype dtype, int phase, byte[] src, int off, int len, byte[] dst, int dstOff, Scratch scratch) {
        if (dtype == Dtype.OTHER) {
            return -1;
        }
        int n = encodeAlways(dtype, phase, src, off, len, dst, dstOff, scratch);
        return n < len - len / 32 ? n : -1;
    }

    /** {@link #encode} without the "does it pay" rule: always an encoding (tests and measurements). */
    int encodeAlways(Dtype dtype, int phase, byte[] src, int off, int len, byte[] dst, int dstOff, Scratch scratch) {
        Objects.requireNonNull(dtype, "dtype");
        if (dtype == Dtype.OTHER) {
            throw new IllegalArgumentException("dtype OTHER has no planes");
        }
        checkScratch(scratch);
        Objects.checkFromIndexSize(off, len, src.length);
        if (len > maxChunk) {
            throw new IllegalArgumentException("chunk of " + len + " bytes exceeds the codec's maxChunk " + maxChunk);
        }
        int w = dtype.width;
        if (phase < 0 || phase >= w) {
            throw new IllegalArgumentException("phase must be in [0, " + w + ") for " + dtype + ", was " + phase);
        }
        if (dstOff < 0 || dst.length - dstOff < maxEncodedLength(len)) {
            throw new IllegalArgumentException("dst has " + (dst.length - dstOff) + " bytes from " + dstOff
                    + ", needs " + maxEncodedLength(len));
        }
        int head = Math.min(phase, len);
        int n = (len - head) / w;
        int tail = len - head - n * w;
        byte[] planes = scratch.planes;
        if (w == 2) {
            split2(src, off + head, n, planes, split.rotation);
        } else {
            split4(src, off + head, n, planes, split.rotation);
        }

        dst[dstOff] = (byte) VERSION;
        dst[dstOff + 1] = (byte) dtype.code;
        dst[dstOff + 2] = (byte) w;
        dst[dstOff + 3] = (byte) split.code;
        dst[dstOff + 4] = (byte) phase;
        INT.set(dst, dstOff + 5, len);
        scratch.crc.reset();
        scratch.crc.update(src, off, len);
        INT.set(dst, dstOff + 9, (int) scratch.crc.getValue());
        int pos = dstOff + FIXED_HEADER + PLANE_ENTRY * w;
        System.arraycopy(src, off, dst, pos, head);
        pos += head;
        System.arraycopy(src, off + len - tail, dst, pos, tail);
        pos += tail;
        for (int k = 0; k < w; k++) {
            int entry = dstOff + FIXED_HEADER + PLANE_ENTRY * k;
            int compressed = compressPlane(planes, k * n, n, scratch);
            if (compressed > 0) {
                System.arraycopy(scratch.compressed, 0, dst, pos, compressed);
                dst[entry] = FLAG_ZSTD;
                INT.set(dst, entry + 1, compressed);
                pos += compressed;
            } else {
                System.arraycopy(planes, k * n, dst, pos, n);
                dst[entry] = FLAG_RAW;
                INT.set(dst, entry + 1, n);
                pos += n;
            }
        }
        return pos - dstOff;
    }

    /**
     * The plain length an encoding records (bytes 5..8), for a caller that must bound and size
     * the output before {@link #decode}; -1 if {@code len} is too short to hold it. Not a
     * validation: {@link #decode} checks the rest.
     */
    public static long plainLengthOf(byte[] src, int off, int len) {
        Objects.checkFromIndexSize(off, len, src.length);
        if (len < FIXED_HEADER) {
            return -1;
        }
        return Integer.toUnsignedLong((int) INT.get(src, off + 5));
    }

    /**
     * Decodes {@code src[off, off+len)} into {@code dst[dstOff, dstOff+plainLength)} and checks the
     * result against the encoding's CRC-32C. Writes nothing outside that range; a malformed
     * encoding is rejected before anything is written, and when only the CRC fails the range holds
     * unspecified bytes.
     *
     * @param plainLength the chunk's plain length as recorded beside the encoding; must match the encoding's
     * @return {@code plainLength}
     * @throws IllegalArgumentException if the encoding is truncated, malformed or does not decode to
     *     exactly {@code plainLength} bytes of the recorded CRC (the message starts with "tensor codec:"), or
     *     {@code plainLength} exceeds {@link #maxChunk()}
     * @throws IndexOutOfBoundsException if a range lies outside its array
     */
    public int decode(byte[] src, int off, int len, byte[] dst, int dstOff, int plainLength, Scratch scratch) {
        checkScratch(scratch);
        Objects.checkFromIndexSize(off, len, src.length);
        Objects.checkFromIndexSize(dstOff, plainLength, dst.length);
        if (plainLength > maxChunk) {
            throw new IllegalArgumentException("chunk of " + plainLength + " bytes exceeds the codec's maxChunk " + maxChunk);
        }
        if (len < FIXED_HEADER) {
            throw corrupt("truncated header: " + len + " bytes");
        }
        int version = src[off] & 0xff;
        if (version != VERSION) {
            throw corrupt("unknown version " + version);
        }
        Dtype dtype = Dtype.ofCode(src[off + 1] & 0xff);
        if (dtype == null) {
            throw corrupt("unknown dtype code " + (src[off + 1] & 0xff));
        }
        int w = src[off + 2] & 0xff;
        if (w != dtype.width) {
            throw corrupt("element width " + w + " does not match " + dtype);
        }
        int splitCode = src[off + 3] & 0xff;
        if (splitCode > Split.EXPONENT_BYTE.code) {
            throw corrupt("unknown split " + splitCode);
        }
        int rotation = splitCode == Split.EXPONENT_BYTE.code ? Split.EXPONENT_BYTE.rotation : Split.BYTES.rotation;
        int phase = src[off + 4] & 0xff;
        if (phase >= w) {
            throw corrupt("phase " + phase + " out of range for " + dtype);
        }
        long recorded = Integer.toUnsignedLong((int) INT.get(src, off + 5));
        if (recorded != plainLength) {
            throw corrupt("plain length " + recorded + " recorded, " + plainLength + " expected");
        }
        int tableEnd = FIXED_HEADER + PLANE_ENTRY * w;
        if (len < tableEnd) {
            throw corrupt("truncated plane table: " + len + " bytes");
        }
        int head = Math.min(phase, plainLength);
        int n = (plainLength - head) / w;
        int tail = plainLength - head - n * w;
        long total = (long) tableEnd + head + tail;
        for (int k = 0; k < w; k++) {
            int entry = off + FIXED_HEADER + PLANE_ENTRY * k;
            int flags = src[entry] & 0xff;
            long stored = Integer.toUnsignedLong((int) INT.get(src, entry + 1));
            if (flags == FLAG_RAW ? stored != n : flags != FLAG_ZSTD || stored == 0) {
                throw corrupt("plane " + k + ": flags " + flags + ", stored length " + stored + " for " + n + " elements");
            }
            total += stored;
        }
        if (total != len) {
            throw corrupt("encoding is " + len + " bytes, its header describes " + total);
        }

        // Decompress every compressed plane before writing a byte of dst: a bad plane leaves dst as it was.
        byte[][] planeArray = scratch.planeArray;
        int[] planeOffset = scratch.planeOffset;
        int pos = off + tableEnd + head + tail;
        for (int k = 0; k < w; k++) {
            int entry = off + FIXED_HEADER + PLANE_ENTRY * k;
            int stored = (int) INT.get(src, entry + 1);
            if (src[entry] == FLAG_RAW) {
                planeArray[k] = src;
                planeOffset[k] = pos;
            } else {
                int got;
                try {
                    got = scratch.decompressor.decompressByteArray(scratch.planes, k * n, n, src, pos, stored);
                } catch (ZstdException e) {
                    throw new IllegalArgumentException("tensor codec: plane " + k + " does not decompress: " + e.getMessage(), e);
                }
                if (got != n) {
                    throw corrupt("plane " + k + " decompresses to " + got + " bytes, " + n + " expected");
                }
                planeArray[k] = scratch.planes;
                planeOffset[k] = k * n;
            }
            pos += stored;
        }
        int headAt = off + tableEnd;
        System.arraycopy(src, headAt, dst, dstOff, head);
        System.arraycopy(src, headAt + head, dst, dstOff + plainLength - tail, tail);
        if (w == 2) {
            join2(planeArray, planeOffset, n, dst, dstOff + head, rotation);
        } else {
            join4(planeArray, planeOffset, n, dst, dstOff + head, rotation);
        }
        for (int k = 0; k < w; k++) {
            planeArray[k] = null; // do not keep the caller's array reachable
        }
        scratch.crc.reset();
        scratch.crc.update(dst, dstOff, plainLength);
        int crc = (int) scratch.crc.getValue();
        int expected = (int) INT.get(src, off + 9);
        if (crc != expected) {
            throw corrupt(String.format("decoded bytes have CRC-32C %08x, the encoding records %08x", crc, expected));
        }
        return plainLength;
    }

    // The split and join loops are the codec's hot path: one element per iteration, read and
    // written whole through a VarHandle; the planes of a chunk lie back to back, plane k at k * n.

    private static void split2(byte[] src, int from, int n, byte[] planes, int rotation) {
        int back = 16 - rotation;
        for (int i = 0; i < n; i++) {
            int v = (short) SHORT.get(src, from + 2 * i) & 0xffff;
            int r = (v << rotation) | (v >>> back);
            planes[i] = (byte) (r >>> 8);
            planes[n + i] = (byte) r;
        }
    }

    private static void split4(byte[] src, int from, int n, byte[] planes, int rotation) {
        int n2 = 2 * n;
        int n3 = 3 * n;
        for (int i = 0; i < n; i++) {
            int r = Integer.rotateLeft((int) INT.get(src, from + 4 * i), rotation);
            planes[i] = (byte) (r >>> 24);
            planes[n + i] = (byte) (r >>> 16);
            planes[n2 + i] = (byte) (r >>> 8);
            planes[n3 + i] = (byte) r;
        }
    }

    private static void join2(byte[][] planes, int[] offsets, int n, byte[] dst, int to, int rotation) {
        byte[] p0 = planes[0];
        byte[] p1 = planes[1];
        int o0 = offsets[0];
        int o1 = offsets[1];
        int back = 16 - rotation;
        for (int i = 0; i < n; i++) {
            int r = (p0[o0 + i] & 0xff) << 8 | (p1[o1 + i] & 0xff);
            SHORT.set(dst, to + 2 * i, (short) ((r >>> rotation) | (r << back)));
        }
    }

    private static void join4(byte[][] planes, int[] offsets, int n, byte[] dst, int to, int rotation) {
        byte[] p0 = planes[0];
        byte[] p1 = planes[1];
        byte[] p2 = planes[2];
        byte[] p3 = planes[3];
        int o0 = offsets[0];
        int o1 = offsets[1];
        int o2 = offsets[2];
        int o3 = offsets[3];
        for (int i = 0; i < n; i++) {
            int r = (p0[o0 + i] & 0xff) << 24 | (p1[o1 + i] & 0xff) << 16 | (p2[o2 + i] & 0xff) << 8 | (p3[o3 + i] & 0xff);
            INT.set(dst, to + 4 * i, Integer.rotateRight(r, rotation));
        }
    }

    /** Compresses a plane into the scratch; returns its length, or 0 when the plane is to be stored raw. */
    private static int compressPlane(byte[] planes, int from, int n, Scratch scratch) {
        if (n < MIN_COMPRESSED_PLANE || !mayShrink(planes, from, n, scratch.histogram)) {
            return 0;
        }
        int c;
        try {
            c = scratch.compressor.compressByteArray(scratch.compressed, 0, scratch.compressed.length, planes, from, n);
        } catch (ZstdException e) {
            throw new IllegalStateException("zstd compression failed: " + e.getMessage(), e);
        }
        return c < n - n / 32 ? c : 0;
    }

    /**
     * Estimates a plane's order-0 entropy from up to 4 KiB sampled across it, so that the
     * sign+mantissa planes (~8 bits per byte) skip a trial compression that cannot pay: 3% saving
     * needs at most ~7.76 bits per byte, and 4,096 uniform bytes measure ~7.95.
     */
    private static boolean mayShrink(byte[] plane, int from, int n, int[] histogram) {
        if (n <= SAMPLE) {
            return true;
        }
        Arrays.fill(histogram, 0);
        int runs = 8;
        int run = SAMPLE / runs;
        long step = (n - run) / (runs - 1);
        for (int s = 0; s < runs; s++) {
            int at = from + (int) (s * step);
            for (int i = at; i < at + run; i++) {
                histogram[plane[i] & 0xff]++;
            }
        }
        double sum = 0;
        for (int c : histogram) {
            if (c > 0) {
                sum += c * Math.log(c);
            }
        }
        double bitsPerByte = (Math.log(SAMPLE) - sum / SAMPLE) / Math.log(2);
        return bitsPerByte < 7.8;
    }

    private void checkScratch(Scratch scratch) {
        if (Objects.requireNonNull(scratch, "scratch").owner != this) {
            throw new IllegalArgumentException("scratch belongs to another TensorCodec");
        }
    }

    private static IllegalArgumentException corrupt(String what) {
        return new IllegalArgumentException("tensor codec: " + what);
    }

    /**
     * Reusable buffers of one thread: the planes of one chunk ({@code maxChunk} bytes), a zstd
     * output buffer, and native zstd contexts. Not thread-safe; close it when the thread is done.
     */
    public static final class Scratch implements AutoCloseable {
        private final TensorCodec owner;
        private final byte[] planes;
        private final byte[] compressed;
        private final int[] histogram = new int[256];
        private final CRC32C crc = new CRC32C();
        private final byte[][] planeArray = new byte[MAX_WIDTH][];
        private final int[] planeOffset = new int[MAX_WIDTH];
        private final ZstdCompressCtx compressor;
        private final ZstdDecompressCtx decompressor;

        private Scratch(TensorCodec owner) {
            this.owner = owner;
            this.planes = new byte[owner.maxChunk];
            // a plane is at most half a chunk (two planes), zstd's bound covers its worst case
            this.compressed = new byte[(int) Zstd.compressBound(owner.maxChunk / 2 + 1)];
            this.compressor = new ZstdCompressCtx().setLevel(owner.level).setHashLog(HASH_LOG).setMinMatch(MIN_MATCH);
            this.decompressor = new ZstdDecompressCtx();
        }

        @Override
        public void close() {
            compressor.close();
            decompressor.close();
        }
    }
}
