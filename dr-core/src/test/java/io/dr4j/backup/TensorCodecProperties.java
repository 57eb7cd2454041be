package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.luben.zstd.Zstd;
import io.dr4j.backup.TensorCodec.Dtype;
import io.dr4j.backup.TensorCodec.Split;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AfterContainer;

class TensorCodecProperties {

    private static final int MAX = 64 << 10;
    private static final TensorCodec EXPONENT = new TensorCodec(TensorCodec.DEFAULT_LEVEL, Split.EXPONENT_BYTE, MAX);
    private static final TensorCodec BYTES = new TensorCodec(TensorCodec.DEFAULT_LEVEL, Split.BYTES, MAX);
    private static final TensorCodec.Scratch EXPONENT_SCRATCH = EXPONENT.newScratch();
    private static final TensorCodec.Scratch BYTES_SCRATCH = BYTES.newScratch();
    /** Writers of codec version 1 (element-order planes), which readers still accept. */
    private static final TensorCodec EXPONENT_V1 = new TensorCodec(TensorCodec.DEFAULT_LEVEL, Split.EXPONENT_BYTE, MAX, 1);
    private static final TensorCodec BYTES_V1 = new TensorCodec(TensorCodec.DEFAULT_LEVEL, Split.BYTES, MAX, 1);
    private static final TensorCodec.Scratch EXPONENT_V1_SCRATCH = EXPONENT_V1.newScratch();
    private static final TensorCodec.Scratch BYTES_V1_SCRATCH = BYTES_V1.newScratch();
    /** Guard bytes either side of every dst range: a decode must never touch them. */
    private static final int GUARD = 16;
    private static final byte GUARD_BYTE = (byte) 0xA5;

    @AfterContainer
    static void closeScratch() {
        EXPONENT_SCRATCH.close();
        BYTES_SCRATCH.close();
        EXPONENT_V1_SCRATCH.close();
        BYTES_V1_SCRATCH.close();
    }

    @Provide
    Arbitrary<Dtype> codecDtypes() {
        return Arbitraries.of(Dtype.BF16, Dtype.F16, Dtype.F32);
    }

    @Property(tries = 400)
    void arbitraryBytesRoundTrip(@ForAll("codecDtypes") Dtype dtype, @ForAll @Size(max = 5000) byte[] plain,
            @ForAll @IntRange(min = 0, max = 3) int phase, @ForAll boolean rotate, @ForAll boolean v1) {
        assertRoundTrip(dtype, phase % dtype.width(), plain, codec(rotate, v1));
    }

    /**
     * The encoder's planes are the spec's, not merely something its own decoder inverts: the
     * reference reader of the format vectors (docs/tensor-codec.md, element by element) decodes
     * every encoding back to the plain bytes. Lengths cross the fast loops' eight-element steps.
     */
    @Property(tries = 400)
    void encodingsFollowTheSpec(@ForAll("codecDtypes") Dtype dtype, @ForAll @Size(max = 3000) byte[] plain,
            @ForAll @IntRange(min = 0, max = 3) int phase, @ForAll boolean rotate, @ForAll boolean v1) {
        byte[] encoded = encodeAlways(codec(rotate, v1), dtype, phase % dtype.width(), plain);
        assertThat(encoded[0]).isEqualTo((byte) (v1 ? 1 : 2));
        assertThat(FormatVectorsTest.Reference.tensorDecode(encoded)).isEqualTo(plain);
    }

    /** The same over weights, whose planes zstd compresses (arbitrary bytes mostly stay raw). */
    @Property(tries = 200)
    void weightEncodingsFollowTheSpec(@ForAll("codecDtypes") Dtype dtype, @ForAll @LongRange(min = 0, max = 1_000_000) long seed,
            @ForAll @IntRange(min = 0, max = 20_000) int length, @ForAll @IntRange(min = 0, max = 3) int phase,
            @ForAll boolean rotate, @ForAll boolean v1) {
        byte[] plain = weights(dtype, seed, length, 0.02);
        byte[] encoded = encodeAlways(codec(rotate, v1), dtype, phase % dtype.width(), plain);
        assertThat(FormatVectorsTest.Reference.tensorDecode(encoded)).isEqualTo(plain);
    }

    @Property(tries = 200)
    void weightsRoundTripAtAnyPhaseAndOddLength(@ForAll("codecDtypes") Dtype dtype,
            @ForAll @LongRange(min = 0, max = 1_000_000) long seed, @ForAll @IntRange(min = 0, max = 40_000) int length,
            @ForAll @IntRange(min = 0, max = 3) int skew, @ForAll boolean rotate, @ForAll boolean v1) {
        // a chunk cut at an arbitrary offset of a tensor: skew bytes of its first value are missing
        byte[] tensor = weights(dtype, seed, length + 4, 0.02);
        byte[] chunk = Arrays.copyOfRange(tensor, skew, skew + length);
        int phase = (dtype.width() - skew % dtype.width()) % dtype.width();
        assertRoundTrip(dtype, phase, chunk, codec(rotate, v1));
    }

    @Property(tries = 300)
    void craftedValuesRoundTrip(@ForAll("codecDtypes") Dtype dtype, @ForAll @LongRange(min = 0, max = 1_000_000) long seed,
            @ForAll @IntRange(min = 0, max = 3000) int elements, @ForAll @IntRange(min = 0, max = 3) int phase,
            @ForAll boolean rotate, @ForAll boolean v1) {
        int w = dtype.width();
        int p = phase % w;
        SplittableRandom random = new SplittableRandom(seed);
        int[] specials = dtype == Dtype.F32 ? F32_SPECIALS : dtype == Dtype.BF16 ? BF16_SPECIALS : F16_SPECIALS;
        byte[] plain = new byte[p + elements * w + random.nextInt(w)];
        for (int i = 0; i < plain.length; i++) {
            plain[i] = (byte) random.nextInt();
        }
        for (int i = 0; i < elements; i++) {
            int v = random.nextInt(4) == 0 ? random.nextInt() : specials[random.nextInt(specials.length)];
            for (int b = 0; b < w; b++) {
                plain[p + i * w + b] = (byte) (v >>> (8 * b));
            }
        }
        assertRoundTrip(dtype, p, plain, codec(rotate, v1));
    }

    @Example
    void emptyChunkRoundTripsAndDoesNotPay() {
        for (Dtype dtype : new Dtype[] {Dtype.BF16, Dtype.F16, Dtype.F32}) {
            assertRoundTrip(dtype, 0, new byte[0], EXPONENT);
            assertThat(EXPONENT.encode(dtype, 0, new byte[0], 0, 0, new byte[64], 0, EXPONENT_SCRATCH)).isEqualTo(-1);
        }
    }

    @Example
    void randomBytesDoNotPayAndOtherIsNeverEncoded() {
        byte[] plain = new byte[MAX];
        new SplittableRandom(7).nextBytes(plain);
        byte[] dst = new byte[TensorCodec.maxEncodedLength(plain.length)];
        for (Dtype dtype : Dtype.values()) {
            assertThat(EXPONENT.encode(dtype, 0, plain, 0, plain.length, dst, 0, EXPONENT_SCRATCH)).isEqualTo(-1);
        }
    }

    @Example
    void normalBf16WeightsShrinkBelowTheTarget() {
        byte[] plain = weights(Dtype.BF16, 42, MAX, 0.02);
        byte[] dst = new byte[TensorCodec.maxEncodedLength(plain.length)];
        int n = EXPONENT.encode(Dtype.BF16, 0, plain, 0, plain.length, dst, 0, EXPONENT_SCRATCH);
        assertThat(n).isPositive().isLessThan((int) (plain.length * 0.72));
        // the rotation keeps the random sign bit out of the exponent plane: it must do better than the plain split
        int bytesSplit = BYTES.encodeAlways(Dtype.BF16, 0, plain, 0, plain.length, new byte[dst.length], 0, BYTES_SCRATCH);
        assertThat(n).isLessThan(bytesSplit);
        // version 2 reorders each plane's bytes within groups of eight: zstd sees the same statistics
        int v1 = EXPONENT_V1.encodeAlways(Dtype.BF16, 0, plain, 0, plain.length, new byte[dst.length], 0, EXPONENT_V1_SCRATCH);
        assertThat((double) n).isCloseTo(v1, org.assertj.core.data.Percentage.withPercentage(1));
    }

    /**
     * A damaged encoding is rejected, or it decodes to the right bytes: a few bits do not change
     * the output (the split or phase byte of a chunk with no whole element), none may change it
     * silently. Either way nothing outside dst is written.
     */
    @Property(tries = 1000)
    void damagedEncodingsAreRejectedOrHarmless(@ForAll("codecDtypes") Dtype dtype,
            @ForAll @LongRange(min = 0, max = 1_000_000) long seed, @ForAll @IntRange(min = 0, max = 20_000) int length,
            @ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) int where, @ForAll boolean truncate, @ForAll boolean weights,
            @ForAll boolean v1) {
        byte[] plain = weights ? weights(dtype, seed, length, 0.03) : random(seed, length);
        TensorCodec codec = codec(true, v1);
        byte[] encoded = encodeAlways(codec, dtype, 0, plain);
        byte[] damaged;
        if (truncate) {
            damaged = Arrays.copyOf(encoded, where % encoded.length);
        } else {
            damaged = encoded.clone();
            int bit = where % (damaged.length * 8);
            damaged[bit / 8] ^= (byte) (1 << (bit % 8));
        }
        byte[] dst = guarded(plain.length);
        try {
            codec.decode(damaged, 0, damaged.length, dst, GUARD, plain.length, scratch(codec));
            assertThat(Arrays.copyOfRange(dst, GUARD, GUARD + plain.length)).isEqualTo(plain);
            Statistics.collect("harmless");
        } catch (IllegalArgumentException e) {
            assertThat(e).hasMessageStartingWith("tensor codec:");
            Statistics.collect("rejected");
        }
        assertGuardsIntact(dst, plain.length);
    }

    @Example
    void bytesAfterTheEncodingAreRejected() {
        byte[] plain = weights(Dtype.BF16, 5, 10_000, 0.02);
        byte[] encoded = encodeAlways(EXPONENT, Dtype.BF16, 0, plain);
        byte[] longer = Arrays.copyOf(encoded, encoded.length + 1);
        assertThatThrownBy(() -> EXPONENT.decode(longer, 0, longer.length, new byte[plain.length], 0, plain.length, EXPONENT_SCRATCH))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("header describes");
    }

    @Example
    void aPlaneThatDecompressesShortIsRejected() {
        // a well-formed encoding by hand whose zstd plane 0 holds one byte fewer than the elements need
        int n = 1000;
        byte[] plane0 = new byte[n];
        byte[] frame = Zstd.compress(Arrays.copyOf(plane0, n - 1), 1);
        int header = 13 + 2 * 5;
        byte[] enc = new byte[header + frame.length + n];
        ByteBuffer b = ByteBuffer.wrap(enc).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 1).put((byte) 1).put((byte) 2).put((byte) 1).put((byte) 0).putInt(2 * n).putInt(0);
        b.put((byte) 1).putInt(frame.length).put((byte) 0).putInt(n).put(frame);
        assertThatThrownBy(() -> EXPONENT.decode(enc, 0, enc.length, new byte[2 * n], 0, 2 * n, EXPONENT_SCRATCH))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("decompresses to 999 bytes");
    }

    @Property(tries = 200)
    void aWrongPlainLengthIsRejected(@ForAll("codecDtypes") Dtype dtype, @ForAll @Size(max = 3000) byte[] plain,
            @ForAll @IntRange(min = 1, max = 3000) int delta) {
        byte[] encoded = encodeAlways(EXPONENT, dtype, 0, plain);
        int claimed = plain.length + delta <= MAX ? plain.length + delta : plain.length - 1;
        if (claimed < 0) {
            return;
        }
        byte[] dst = guarded(claimed);
        assertThatThrownBy(() -> EXPONENT.decode(encoded, 0, encoded.length, dst, GUARD, claimed, EXPONENT_SCRATCH))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("tensor codec:");
        assertGuardsIntact(dst, claimed);
    }

    @Example
    void callerErrorsAreRefused() {
        byte[] plain = new byte[100];
        byte[] small = new byte[50];
        assertThatThrownBy(() -> EXPONENT.encode(Dtype.BF16, 2, plain, 0, 100, new byte[200], 0, EXPONENT_SCRATCH))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("phase");
        assertThatThrownBy(() -> EXPONENT.encode(Dtype.BF16, 0, plain, 0, 100, small, 0, EXPONENT_SCRATCH))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dst");
        assertThatThrownBy(() -> EXPONENT.encode(Dtype.BF16, 0, plain, 0, 100, new byte[200], 0, BYTES_SCRATCH))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("scratch");
        byte[] big = new byte[MAX + 2];
        assertThatThrownBy(() -> EXPONENT.encode(Dtype.BF16, 0, big, 0, big.length, new byte[MAX * 2], 0, EXPONENT_SCRATCH))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxChunk");
        assertThatThrownBy(() -> EXPONENT.decode(plain, 0, 100, small, 0, 51, EXPONENT_SCRATCH))
                .isInstanceOf(IndexOutOfBoundsException.class);
    }

    private static TensorCodec codec(boolean rotate, boolean v1) {
        return v1 ? (rotate ? EXPONENT_V1 : BYTES_V1) : rotate ? EXPONENT : BYTES;
    }

    private static TensorCodec.Scratch scratch(TensorCodec codec) {
        return codec == EXPONENT ? EXPONENT_SCRATCH : codec == BYTES ? BYTES_SCRATCH
                : codec == EXPONENT_V1 ? EXPONENT_V1_SCRATCH : BYTES_V1_SCRATCH;
    }

    private static void assertRoundTrip(Dtype dtype, int phase, byte[] plain, TensorCodec codec) {
        TensorCodec.Scratch scratch = scratch(codec);
        byte[] encoded = encodeAlways(codec, dtype, phase, plain);
        assertThat(encoded.length).isLessThanOrEqualTo(TensorCodec.maxEncodedLength(plain.length));
        byte[] dst = guarded(plain.length);
        assertThat(codec.decode(encoded, 0, encoded.length, dst, GUARD, plain.length, scratch)).isEqualTo(plain.length);
        assertThat(Arrays.copyOfRange(dst, GUARD, GUARD + plain.length)).isEqualTo(plain);
        assertGuardsIntact(dst, plain.length);
        // the public entry point agrees whenever it decides the codec pays
        byte[] dst2 = new byte[3 + TensorCodec.maxEncodedLength(plain.length)];
        int n = codec.encode(dtype, phase, plain, 0, plain.length, dst2, 3, scratch);
        if (n >= 0) {
            assertThat(n).isLessThan(plain.length);
            byte[] back = new byte[plain.length];
            codec.decode(dst2, 3, n, back, 0, plain.length, scratch);
            assertThat(back).isEqualTo(plain);
        }
    }

    private static byte[] encodeAlways(TensorCodec codec, Dtype dtype, int phase, byte[] plain) {
        // encode from the middle of a larger array: offsets must be honoured
        byte[] src = new byte[plain.length + 10];
        System.arraycopy(plain, 0, src, 5, plain.length);
        byte[] dst = new byte[7 + TensorCodec.maxEncodedLength(plain.length)];
        TensorCodec.Scratch scratch = scratch(codec);
        int n = codec.encodeAlways(dtype, phase, src, 5, plain.length, dst, 7, scratch);
        return Arrays.copyOfRange(dst, 7, 7 + n);
    }

    private static byte[] guarded(int length) {
        byte[] dst = new byte[length + 2 * GUARD];
        Arrays.fill(dst, GUARD_BYTE);
        return dst;
    }

    private static void assertGuardsIntact(byte[] dst, int length) {
        for (int i = 0; i < GUARD; i++) {
            assertThat(dst[i]).as("guard byte before dst").isEqualTo(GUARD_BYTE);
            assertThat(dst[GUARD + length + i]).as("guard byte after dst").isEqualTo(GUARD_BYTE);
        }
    }

    private static byte[] random(long seed, int length) {
        byte[] b = new byte[length];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    /** Little-endian values of N(0, scale), rounded to the dtype: what a weight tensor holds. */
    static byte[] weights(Dtype dtype, long seed, int length, double scale) {
        SplittableRandom random = new SplittableRandom(seed);
        byte[] b = new byte[length];
        int w = dtype.width();
        for (int i = 0; i + w <= length; i += w) {
            float f = (float) (random.nextGaussian() * scale);
            int v;
            switch (dtype) {
                case BF16:
                    int bits = Float.floatToRawIntBits(f);
                    v = (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16;
                    break;
                case F16:
                    v = toF16(f);
                    break;
                default:
                    v = Float.floatToRawIntBits(f);
            }
            for (int k = 0; k < w; k++) {
                b[i + k] = (byte) (v >>> (8 * k));
            }
        }
        return b;
    }

    /** Float to F16 by truncation (Java 17 has no Float.floatToFloat16Bits); subnormals included. */
    private static int toF16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exp = ((bits >>> 23) & 0xff) - 127 + 15;
        int mantissa = (bits >>> 13) & 0x3ff;
        if (exp >= 31) {
            return sign | 0x7c00;
        }
        if (exp <= 0) {
            return exp < -10 ? sign : sign | ((0x400 | mantissa) >>> (1 - exp));
        }
        return sign | exp << 10 | mantissa;
    }

    private static final int[] BF16_SPECIALS = {
        0x0000, 0x8000, // +0, -0
        0x7f80, 0xff80, // +inf, -inf
        0x7fc0, 0xffc0, 0x7fc1, 0x7f81, 0xff81, 0x7fff, 0xffff, // quiet and signalling NaNs with payloads
        0x0001, 0x8001, 0x007f, 0x807f, // subnormals
        0x0080, 0x7f7f, 0xff7f, 0x3f80, 0xbf80, // smallest normal, largest finite, ±1
    };
    private static final int[] F16_SPECIALS = {
        0x0000, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0xfe00, 0x7c01, 0x7e01, 0xfc01, 0x7fff, 0xffff,
        0x0001, 0x8001, 0x03ff, 0x83ff, 0x0400, 0x7bff, 0xfbff, 0x3c00, 0xbc00,
    };
    private static final int[] F32_SPECIALS = {
        0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fc00001, 0x7f800001,
        0xff800001, 0x7fffffff, 0xffffffff, 0x00000001, 0x80000001, 0x007fffff, 0x807fffff, 0x00800000,
        0x7f7fffff, 0xff7fffff, 0x3f800000, 0xbf800000,
    };
}
