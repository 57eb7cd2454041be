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
 * <h2>Encoded layout (versions 1 and 2)</h2>
 * All integers little-endian, offsets relative to the start of the encoding.
 * <pre>
 * offset      size  field
 * 0           1     version: 1 or 2 (the order of each plane's bytes, below)
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
 * {@code i} occupies plain bytes {@code [h + w*i, h + w*(i+1))}. Version 1 stores plane bytes in
 * element order. Version 2 (what dr4j writes) takes the elements in groups of 8: plane byte
 * {@code 8g + j} holds element {@code 8g + PI[j]}, with {@code PI = 0 4 1 5 2 6 3 7} for
 * {@code w = 2} and {@code 0 4 2 6 1 5 3 7} for {@code w = 4}, and the {@code n mod 8} elements
 * after the last whole group are in element order: the order in which eight elements loaded as
 * longs regroup into one long per plane with a few mask-and-shift steps, 2-3x faster than a loop
 * over elements, while the planes' statistics (all zstd sees) do not change.
 *
 * <p>The CRC makes a decoding self-checking. Blobs are authenticated (AES-GCM) before they are
 * decoded, so it is there for what authentication cannot see: a bug in this codec or its callers
 * would otherwise restore wrong weights without a word, the one failure a DR tool must not have.
 *
 * <p>{@link TensorCodec} is immutable and thread-safe; a {@link Scratch} belongs to one thread at a
 * time. {@link #encode} and {@link #decode} allocate nothing on the Java heap in steady state.
 *
 * <p><b>Size.</b> About 660 lines, above the project's ~600: the codec is one encoding and its
 * exact inverse (the byte order of docs/tensor-codec.md), and both versions' split and join for
 * 2- and 4-byte elements, grouped and per element, sit side by side so that each direction can
 * be read against the other and against the spec; split apart they would be harder to check.
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

    /**
     * Version byte dr4j writes: 2, the layout above with each plane's bytes in the grouped order
     * of {@link #GROUP} elements. Readers accept 1 and 2.
     */
    public static final int VERSION = 2;
    /** Version 1: the layout above, plane bytes in element order (still read). */
    static final int VERSION_1 = 1;
    /** Elements per group of version 2's plane order. */
    static final int GROUP = 8;
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
    static final int HASH_LOG = 6;
    static final int MIN_MATCH = 7;

    private static final int FIXED_HEADER = 13;
    private static final int PLANE_ENTRY = 5;
    private static final int MAX_WIDTH = 4;
    private static final int FLAG_RAW = 0;
    private static final int FLAG_ZSTD = 1;
    /** Below this a plane is stored raw: zstd's frame overhead eats any gain. */
    private static final int MIN_COMPRESSED_PLANE = 64;
    private static final int SAMPLE = 4096;
    private static final long DST_SIZE_TOO_SMALL = Zstd.errDstSizeTooSmall();
    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    /** The low byte of every 16-bit lane, and of every 32-bit lane's 16-bit halves. */
    private static final long LOW_BYTES = 0x00ff00ff00ff00ffL;
    private static final long LOW_HALVES = 0x0000ffff0000ffffL;

    private static final TensorCodec DEFAULTS = new TensorCodec(DEFAULT_LEVEL, Split.EXPONENT_BYTE, DEFAULT_MAX_CHUNK);

    private final int level;
    private final Split split;
    private final int maxChunk;
    private final int version;

    /**
     * @param level zstd level of the planes (zstd's range, negative levels are the fast ones)
     * @param split how elements are divided into planes
     * @param maxChunk the largest plain chunk the scratch of this codec holds, at least 1
     */
    public TensorCodec(int level, Split split, int maxChunk) {
        this(level, split, maxChunk, VERSION);
    }

    /** As {@link #TensorCodec(int, Split, int)}, writing layout {@code version} (1 or 2): tests and measurements. */
    TensorCodec(int level, Split split, int maxChunk, int version) {
        if (version != VERSION_1 && version != VERSION) {
            throw new IllegalArgumentException("codec version must be 1 or 2, was " + version);
        }
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
        this.version = version;
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
        int grouped = version == VERSION ? n - n % GROUP : 0;
        if (w == 2) {
            splitGroups2(src, off + head, grouped, n, planes, split.rotation);
            split2(src, off + head + 2 * grouped, n - grouped, grouped, n, planes, split.rotation);
        } else {
            splitGroups4(src, off + head, grouped, n, planes, split.rotation);
            split4(src, off + head + 4 * grouped, n - grouped, grouped, n, planes, split.rotation);
        }

        dst[dstOff] = (byte) version;
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
            int compressed = compressPlane(planes, k * n, n, dst, pos, scratch);
            if (compressed > 0) {
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
        if (version != VERSION && version != VERSION_1) {
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
        int grouped = version == VERSION ? n - n % GROUP : 0;
        if (w == 2) {
            joinGroups2(planeArray, planeOffset, grouped, dst, dstOff + head, rotation);
            join2(planeArray, planeOffset, grouped, n - grouped, dst, dstOff + head + 2 * grouped, rotation);
        } else {
            joinGroups4(planeArray, planeOffset, grouped, dst, dstOff + head, rotation);
            join4(planeArray, planeOffset, grouped, n - grouped, dst, dstOff + head + 4 * grouped, rotation);
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

    // The split and join loops are the codec's hot path; the planes of a chunk lie back to back,
    // plane k at k * n. Version 2 moves eight elements per step as two (w = 2) or four (w = 4)
    // longs: the lanes are rotated with masks and regrouped into one long per plane by the mask
    // and shift steps below, whose byte order within the group is the spec's PI_2 / PI_4. The
    // elements after the last whole group, and all of a version 1 encoding, go one at a time.

    /** Splits {@code count} two-byte elements from {@code src[from]} into plane bytes {@code at ..} of planes of {@code n}. */
    static void split2(byte[] src, int from, int count, int at, int n, byte[] planes, int rotation) {
        int back = 16 - rotation;
        for (int i = 0; i < count; i++) {
            int v = (short) SHORT.get(src, from + 2 * i) & 0xffff;
            int r = (v << rotation) | (v >>> back);
            planes[at + i] = (byte) (r >>> 8);
            planes[n + at + i] = (byte) r;
        }
    }

    static void split4(byte[] src, int from, int count, int at, int n, byte[] planes, int rotation) {
        int n2 = 2 * n;
        int n3 = 3 * n;
        for (int i = at; i < at + count; i++) {
            int r = Integer.rotateLeft((int) INT.get(src, from + 4 * (i - at)), rotation);
            planes[i] = (byte) (r >>> 24);
            planes[n + i] = (byte) (r >>> 16);
            planes[n2 + i] = (byte) (r >>> 8);
            planes[n3 + i] = (byte) r;
        }
    }

    /** Splits the first {@code grouped} (a multiple of 8) two-byte elements in version 2's grouped order. */
    static void splitGroups2(byte[] src, int from, int grouped, int n, byte[] planes, int rotation) {
        for (int i = 0; i < grouped; i += GROUP) {
            long x1 = rotl16((long) LONG.get(src, from + 2 * i), rotation);
            long x2 = rotl16((long) LONG.get(src, from + 2 * i + 8), rotation);
            LONG.set(planes, i, ((x1 >>> 8) & LOW_BYTES) | (x2 & ~LOW_BYTES));
            LONG.set(planes, n + i, (x1 & LOW_BYTES) | ((x2 & LOW_BYTES) << 8));
        }
    }

    /** Splits the first {@code grouped} (a multiple of 8) four-byte elements in version 2's grouped order. */
    static void splitGroups4(byte[] src, int from, int grouped, int n, byte[] planes, int rotation) {
        int n2 = 2 * n;
        int n3 = 3 * n;
        for (int i = 0; i < grouped; i += GROUP) {
            int at = from + 4 * i;
            long x0 = rotl32((long) LONG.get(src, at), rotation);
            long x1 = rotl32((long) LONG.get(src, at + 8), rotation);
            long x2 = rotl32((long) LONG.get(src, at + 16), rotation);
            long x3 = rotl32((long) LONG.get(src, at + 24), rotation);
            // 16-bit halves: low halves of elements 0, 2, 1, 3 and 4, 6, 5, 7; high halves alike
            long l01 = (x0 & LOW_HALVES) | ((x1 & LOW_HALVES) << 16);
            long h01 = ((x0 >>> 16) & LOW_HALVES) | (x1 & ~LOW_HALVES);
            long l23 = (x2 & LOW_HALVES) | ((x3 & LOW_HALVES) << 16);
            long h23 = ((x2 >>> 16) & LOW_HALVES) | (x3 & ~LOW_HALVES);
            // bytes: elements 0, 4, 2, 6, 1, 5, 3, 7; plane 0 is the top byte
            LONG.set(planes, i, ((h01 >>> 8) & LOW_BYTES) | (h23 & ~LOW_BYTES));
            LONG.set(planes, n + i, (h01 & LOW_BYTES) | ((h23 & LOW_BYTES) << 8));
            LONG.set(planes, n2 + i, ((l01 >>> 8) & LOW_BYTES) | (l23 & ~LOW_BYTES));
            LONG.set(planes, n3 + i, (l01 & LOW_BYTES) | ((l23 & LOW_BYTES) << 8));
        }
    }

    /** Joins {@code count} two-byte elements from plane bytes {@code at ..} into {@code dst[to]}. */
    static void join2(byte[][] planes, int[] offsets, int at, int count, byte[] dst, int to, int rotation) {
        byte[] p0 = planes[0];
        byte[] p1 = planes[1];
        int o0 = offsets[0] + at;
        int o1 = offsets[1] + at;
        int back = 16 - rotation;
        for (int i = 0; i < count; i++) {
            int r = (p0[o0 + i] & 0xff) << 8 | (p1[o1 + i] & 0xff);
            SHORT.set(dst, to + 2 * i, (short) ((r >>> rotation) | (r << back)));
        }
    }

    static void join4(byte[][] planes, int[] offsets, int at, int count, byte[] dst, int to, int rotation) {
        byte[] p0 = planes[0];
        byte[] p1 = planes[1];
        byte[] p2 = planes[2];
        byte[] p3 = planes[3];
        int o0 = offsets[0] + at;
        int o1 = offsets[1] + at;
        int o2 = offsets[2] + at;
        int o3 = offsets[3] + at;
        for (int i = 0; i < count; i++) {
            int r = (p0[o0 + i] & 0xff) << 24 | (p1[o1 + i] & 0xff) << 16 | (p2[o2 + i] & 0xff) << 8 | (p3[o3 + i] & 0xff);
            INT.set(dst, to + 4 * i, Integer.rotateRight(r, rotation));
        }
    }

    /** Joins the first {@code grouped} (a multiple of 8) two-byte elements from version 2's grouped order. */
    static void joinGroups2(byte[][] planes, int[] offsets, int grouped, byte[] dst, int to, int rotation) {
        byte[] p0 = planes[0];
        byte[] p1 = planes[1];
        int o0 = offsets[0];
        int o1 = offsets[1];
        for (int i = 0; i < grouped; i += GROUP) {
            long hi = (long) LONG.get(p0, o0 + i);
            long lo = (long) LONG.get(p1, o1 + i);
            LONG.set(dst, to + 2 * i, rotr16((lo & LOW_BYTES) | ((hi & LOW_BYTES) << 8), rotation));
            LONG.set(dst, to + 2 * i + 8, rotr16(((lo >>> 8) & LOW_BYTES) | (hi & ~LOW_BYTES), rotation));
        }
    }

    /** Joins the first {@code grouped} (a multiple of 8) four-byte elements from version 2's grouped order. */
    static void joinGroups4(byte[][] planes, int[] offsets, int grouped, byte[] dst, int to, int rotation) {
        byte[] p0 = planes[0];
        byte[] p1 = planes[1];
        byte[] p2 = planes[2];
        byte[] p3 = planes[3];
        int o0 = offsets[0];
        int o1 = offsets[1];
        int o2 = offsets[2];
        int o3 = offsets[3];
        for (int i = 0; i < grouped; i += GROUP) {
            long b3 = (long) LONG.get(p0, o0 + i);
            long b2 = (long) LONG.get(p1, o1 + i);
            long b1 = (long) LONG.get(p2, o2 + i);
            long b0 = (long) LONG.get(p3, o3 + i);
            long l01 = (b0 & LOW_BYTES) | ((b1 & LOW_BYTES) << 8);
            long l23 = ((b0 >>> 8) & LOW_BYTES) | (b1 & ~LOW_BYTES);
            long h01 = (b2 & LOW_BYTES) | ((b3 & LOW_BYTES) << 8);
            long h23 = ((b2 >>> 8) & LOW_BYTES) | (b3 & ~LOW_BYTES);
            int at = to + 4 * i;
            LONG.set(dst, at, rotr32((l01 & LOW_HALVES) | ((h01 & LOW_HALVES) << 16), rotation));
            LONG.set(dst, at + 8, rotr32(((l01 >>> 16) & LOW_HALVES) | (h01 & ~LOW_HALVES), rotation));
            LONG.set(dst, at + 16, rotr32((l23 & LOW_HALVES) | ((h23 & LOW_HALVES) << 16), rotation));
            LONG.set(dst, at + 24, rotr32(((l23 >>> 16) & LOW_HALVES) | (h23 & ~LOW_HALVES), rotation));
        }
    }

    /** Each 16-bit lane of {@code x} rotated left by {@code r} (0 or 1). */
    private static long rotl16(long x, int r) {
        return r == 0 ? x : ((x << 1) & 0xfffefffefffefffeL) | ((x >>> 15) & 0x0001000100010001L);
    }

    private static long rotr16(long x, int r) {
        return r == 0 ? x : ((x >>> 1) & 0x7fff7fff7fff7fffL) | ((x << 15) & 0x8000800080008000L);
    }

    /** Each 32-bit lane of {@code x} rotated left by {@code r} (0 or 1). */
    private static long rotl32(long x, int r) {
        return r == 0 ? x : ((x << 1) & 0xfffffffefffffffeL) | ((x >>> 31) & 0x0000000100000001L);
    }

    private static long rotr32(long x, int r) {
        return r == 0 ? x : ((x >>> 1) & 0x7fffffff7fffffffL) | ((x << 31) & 0x8000000080000000L);
    }

    /**
     * Compresses a plane straight into {@code dst[at ..]}; returns its length, or 0 when the plane is
     * to be stored raw (then {@code dst[at ..]} holds unspecified bytes).
     */
    private static int compressPlane(byte[] planes, int from, int n, byte[] dst, int at, Scratch scratch) {
        if (n < MIN_COMPRESSED_PLANE || !mayShrink(planes, from, n, scratch.histogram)) {
            return 0;
        }
        // room for what pays and no more: a frame that would not save 3% fails as too large instead
        int limit = Math.min(dst.length - at, n - n / 32 - 1);
        int c;
        try {
            c = scratch.compressor.compressByteArray(dst, at, limit, planes, from, n);
        } catch (ZstdException e) {
            if (e.getErrorCode() == DST_SIZE_TOO_SMALL) {
                return 0;
            }
            throw new IllegalStateException("zstd compression failed: " + e.getMessage(), e);
        }
        return c;
    }

    /**
     * Estimates a plane's order-0 entropy from up to 4 KiB sampled across it, so that the
     * sign+mantissa planes (~8 bits per byte) skip a trial compression that cannot pay: 3% saving
     * needs at most ~7.76 bits per byte, and 4,096 uniform bytes measure ~7.95.
     */
    static boolean mayShrink(byte[] plane, int from, int n, int[] histogram) {
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
     * Reusable buffers of one thread: the planes of one chunk ({@code maxChunk} bytes) and native
     * zstd contexts (planes are compressed straight into the caller's output). Not thread-safe; close it when the thread is done.
     */
    public static final class Scratch implements AutoCloseable {
        private final TensorCodec owner;
        private final byte[] planes;
        private final int[] histogram = new int[256];
        private final CRC32C crc = new CRC32C();
        private final byte[][] planeArray = new byte[MAX_WIDTH][];
        private final int[] planeOffset = new int[MAX_WIDTH];
        private final ZstdCompressCtx compressor;
        private final ZstdDecompressCtx decompressor;

        private Scratch(TensorCodec owner) {
            this.owner = owner;
            this.planes = new byte[owner.maxChunk];
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
