package io.dr4j.backup;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import io.dr4j.bench.BenchDefaults;
import io.dr4j.bench.WeightsWorkload;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Where {@link TensorCodecBenchmark}'s time goes: the parts of one encode and one decode of a
 * 1 MiB BF16 or F32 chunk, each alone (split, join, CRC-32C, zstd of the exponent plane and its
 * decompression, the entropy sample), on the same 16 cycled chunks. Each operation is one chunk's
 * worth of that part, so ops/s are comparable with {@link TensorCodecBenchmark}'s: a part's share
 * of an encode is (encode ops/s) / (part ops/s).
 *
 * <pre>
 * java -jar dr-bench/target/benchmarks.jar TensorCodecPartsBenchmark -f 1 -wi 2 -i 3 -w 1 -r 1
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(BenchDefaults.FORKS)
@Warmup(iterations = BenchDefaults.WARMUP_ITERATIONS, time = BenchDefaults.ITERATION_SECONDS)
@Measurement(iterations = BenchDefaults.MEASUREMENT_ITERATIONS, time = BenchDefaults.ITERATION_SECONDS)
public class TensorCodecPartsBenchmark {

    private static final int CHUNK = 1 << 20;
    private static final int CHUNKS = 16;

    /** Element type of the weights. */
    @Param({"BF16", "F32"})
    public String dtype;

    private int width;
    private int n;
    private byte[][] plain;
    private byte[][] planes;
    private byte[][] exponent;
    private int[] exponentLength;
    private byte[] out;
    private byte[] planeOut;
    private final int[] histogram = new int[256];
    private final CRC32C crc = new CRC32C();
    private ZstdCompressCtx zstd;
    private ZstdDecompressCtx unzstd;
    private final byte[][] planeArray = new byte[4][];
    private final int[] planeOffset = new int[4];
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        width = TensorCodec.Dtype.valueOf(dtype).width();
        n = CHUNK / width;
        zstd = new ZstdCompressCtx().setLevel(TensorCodec.DEFAULT_LEVEL).setHashLog(TensorCodec.HASH_LOG)
                .setMinMatch(TensorCodec.MIN_MATCH);
        unzstd = new ZstdDecompressCtx();
        SplittableRandom random = new SplittableRandom(20261201L);
        plain = new byte[CHUNKS][CHUNK];
        planes = new byte[CHUNKS][CHUNK];
        exponent = new byte[CHUNKS][(int) Zstd.compressBound(n)];
        exponentLength = new int[CHUNKS];
        out = new byte[CHUNK];
        planeOut = new byte[CHUNK];
        for (int c = 0; c < CHUNKS; c++) {
            boolean norm = width == 4 && c % 8 == 7;
            double sigma = norm ? 0.05 : 0.01 + 0.04 * random.nextDouble();
            WeightsWorkload.normalValues(plain[c], 0, CHUNK, dtype, norm ? 1.0 : 0.0, sigma, random);
            split(plain[c], planes[c]);
            exponentLength[c] = zstd.compressByteArray(exponent[c], 0, exponent[c].length, planes[c], 0, n);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        zstd.close();
        unzstd.close();
    }

    private int nextChunk() {
        next = (next + 1) & (CHUNKS - 1);
        return next;
    }

    /** Version 2's grouped split; {@link #splitV1} is version 1's element loop. */
    private void split(byte[] src, byte[] dst) {
        if (width == 2) {
            TensorCodec.splitGroups2(src, 0, n, n, dst, 1);
        } else {
            TensorCodec.splitGroups4(src, 0, n, n, dst, 1);
        }
    }

    /** Splits one chunk into its planes, version 1's element order. */
    @Benchmark
    public byte splitV1() {
        int c = nextChunk();
        if (width == 2) {
            TensorCodec.split2(plain[c], 0, n, 0, n, planeOut, 1);
        } else {
            TensorCodec.split4(plain[c], 0, n, 0, n, planeOut, 1);
        }
        return planeOut[0];
    }

    /** Joins one chunk's planes, version 1's element order. */
    @Benchmark
    public byte joinV1() {
        int c = nextChunk();
        for (int k = 0; k < width; k++) {
            planeArray[k] = planes[c];
            planeOffset[k] = k * n;
        }
        if (width == 2) {
            TensorCodec.join2(planeArray, planeOffset, 0, n, out, 0, 1);
        } else {
            TensorCodec.join4(planeArray, planeOffset, 0, n, out, 0, 1);
        }
        return out[0];
    }

    /** Splits one chunk into its planes (version 2). */
    @Benchmark
    public byte split() {
        int c = nextChunk();
        split(plain[c], planeOut);
        return planeOut[0];
    }

    /** Joins one chunk's planes (version 2). */
    @Benchmark
    public byte join() {
        int c = nextChunk();
        for (int k = 0; k < width; k++) {
            planeArray[k] = planes[c];
            planeOffset[k] = k * n;
        }
        if (width == 2) {
            TensorCodec.joinGroups2(planeArray, planeOffset, n, out, 0, 1);
        } else {
            TensorCodec.joinGroups4(planeArray, planeOffset, n, out, 0, 1);
        }
        return out[0];
    }

    /** CRC-32C of one chunk. */
    @Benchmark
    public long crc() {
        int c = nextChunk();
        crc.reset();
        crc.update(plain[c], 0, CHUNK);
        return crc.getValue();
    }

    /** zstd (the codec's settings) of one chunk's exponent plane. */
    @Benchmark
    public int exponentZstd() {
        int c = nextChunk();
        return zstd.compressByteArray(planeOut, 0, planeOut.length, planes[c], 0, n);
    }

    /** Decompression of one chunk's exponent plane. */
    @Benchmark
    public int exponentUnzstd() {
        int c = nextChunk();
        return unzstd.decompressByteArray(planeOut, 0, n, exponent[c], 0, exponentLength[c]);
    }

    /** The entropy sample of every plane but the exponent's. */
    @Benchmark
    public boolean sample() {
        int c = nextChunk();
        boolean any = false;
        for (int k = 1; k < width; k++) {
            any |= TensorCodec.mayShrink(planes[c], k * n, n, histogram);
        }
        return any;
    }

    /** One chunk's mantissa planes copied once (what a raw plane costs besides its split). */
    @Benchmark
    public byte copyMantissa() {
        int c = nextChunk();
        System.arraycopy(planes[c], n, planeOut, 0, CHUNK - n);
        return planeOut[0];
    }
}
