package io.dr4j.backup;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import io.dr4j.bench.BenchDefaults;
import io.dr4j.bench.WeightsWorkload;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
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
 * The tensor codec against plain zstd -3 (what a chunk gets without it), single-threaded, on
 * 1 MiB chunks of weights: 16 chunks cycled per invocation so that no one chunk sits in cache.
 * BF16 chunks hold N(0, σ) with σ in the workload's per-tensor ranges
 * ({@link WeightsWorkload}: 0.01 to 0.05); F32 chunks N(0, σ) alike, one in eight a layer norm
 * N(1, 0.05). Each operation is one 1 MiB chunk, so MB/s = ops/s × 1.048576; with
 * {@code -prof gc}, {@code gc.alloc.rate.norm} is bytes allocated per chunk. The ratio
 * (encoded/raw) of each variant is printed once per fork at setup.
 *
 * <pre>
 * java -jar dr-bench/target/benchmarks.jar TensorCodecBenchmark -prof gc -f 3 -wi 2 -i 3 -w 1 -r 1
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(BenchDefaults.FORKS)
@Warmup(iterations = BenchDefaults.WARMUP_ITERATIONS, time = BenchDefaults.ITERATION_SECONDS)
@Measurement(iterations = BenchDefaults.MEASUREMENT_ITERATIONS, time = BenchDefaults.ITERATION_SECONDS)
public class TensorCodecBenchmark {

    private static final int CHUNK = 1 << 20;
    private static final int CHUNKS = 16;
    private static final int ZSTD_LEVEL = 3;

    /** Element type of the weights. */
    @Param({"BF16", "F32"})
    public String dtype;

    private TensorCodec codec;
    private TensorCodec.Scratch scratch;
    private TensorCodec.Dtype codecDtype;
    private ZstdCompressCtx zstd;
    private ZstdDecompressCtx unzstd;
    private byte[][] plain;
    private byte[][] encoded;
    private int[] encodedLength;
    private byte[][] compressed;
    private int[] compressedLength;
    private byte[] out;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        codec = TensorCodec.defaults();
        scratch = codec.newScratch();
        codecDtype = TensorCodec.Dtype.valueOf(dtype);
        zstd = new ZstdCompressCtx().setLevel(ZSTD_LEVEL);
        unzstd = new ZstdDecompressCtx();
        SplittableRandom random = new SplittableRandom(20261201L);
        plain = new byte[CHUNKS][CHUNK];
        encoded = new byte[CHUNKS][TensorCodec.maxEncodedLength(CHUNK)];
        encodedLength = new int[CHUNKS];
        compressed = new byte[CHUNKS][(int) Zstd.compressBound(CHUNK)];
        compressedLength = new int[CHUNKS];
        out = new byte[Math.max(TensorCodec.maxEncodedLength(CHUNK), (int) Zstd.compressBound(CHUNK))];
        long tensorBytes = 0;
        long zstdBytes = 0;
        for (int c = 0; c < CHUNKS; c++) {
            boolean norm = codecDtype == TensorCodec.Dtype.F32 && c % 8 == 7;
            double sigma = norm ? 0.05 : 0.01 + 0.04 * random.nextDouble();
            WeightsWorkload.normalValues(plain[c], 0, CHUNK, dtype, norm ? 1.0 : 0.0, sigma, random);
            encodedLength[c] = codec.encode(codecDtype, 0, plain[c], 0, CHUNK, encoded[c], 0, scratch);
            if (encodedLength[c] < 0) {
                throw new IllegalStateException("the tensor codec does not pay on chunk " + c + " of " + dtype);
            }
            compressedLength[c] = zstd.compressByteArray(compressed[c], 0, compressed[c].length, plain[c], 0, CHUNK);
            tensorBytes += encodedLength[c];
            zstdBytes += compressedLength[c];
        }
        double raw = (double) CHUNKS * CHUNK;
        System.out.printf(Locale.ROOT, "%n%s ratio (encoded/raw): tensor codec %.4f, zstd -%d %.4f%n", dtype,
                tensorBytes / raw, ZSTD_LEVEL, zstdBytes / raw);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        scratch.close();
        zstd.close();
        unzstd.close();
    }

    private int nextChunk() {
        next = (next + 1) & (CHUNKS - 1);
        return next;
    }

    /** Encodes one 1 MiB chunk with the tensor codec; returns the encoded length. */
    @Benchmark
    public int tensorEncode() {
        int c = nextChunk();
        return codec.encode(codecDtype, 0, plain[c], 0, CHUNK, out, 0, scratch);
    }

    /** Decodes one encoded 1 MiB chunk. */
    @Benchmark
    public int tensorDecode() {
        int c = nextChunk();
        return codec.decode(encoded[c], 0, encodedLength[c], out, 0, CHUNK, scratch);
    }

    /** Compresses one 1 MiB chunk with zstd -3 (reused context, as the engine would). */
    @Benchmark
    public int zstdCompress() {
        int c = nextChunk();
        return zstd.compressByteArray(out, 0, out.length, plain[c], 0, CHUNK);
    }

    /** Decompresses one zstd -3 chunk. */
    @Benchmark
    public int zstdDecompress() {
        int c = nextChunk();
        return unzstd.decompressByteArray(out, 0, CHUNK, compressed[c], 0, compressedLength[c]);
    }
}
