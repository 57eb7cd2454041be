package io.dr4j.bench.backup;

import io.dr4j.backup.ChunkerParameters;
import io.dr4j.backup.internal.ChunkId;
import io.dr4j.backup.internal.Crypto;
import io.dr4j.backup.internal.FastCdc;
import io.dr4j.bench.BenchDefaults;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The backup hot path per stage, single-threaded, on incompressible data (like bf16 weights):
 * content-defined chunking of a 16 MiB buffer, the keyed chunk id (HMAC-SHA-256), sealing
 * (entropy check + AES-256-GCM) and opening (AES-256-GCM + id check) of one 256 KiB chunk.
 * Throughput in MB/s = ops/s × bytes per op (16 MiB for {@code cut}, 256 KiB for the others).
 *
 * <pre>
 * java -jar dr-bench/target/benchmarks.jar HotPathBenchmark -rf json -rff hotpath.json
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(BenchDefaults.FORKS)
@Warmup(iterations = BenchDefaults.WARMUP_ITERATIONS, time = BenchDefaults.ITERATION_SECONDS)
@Measurement(iterations = BenchDefaults.MEASUREMENT_ITERATIONS, time = BenchDefaults.ITERATION_SECONDS)
public class HotPathBenchmark {

    private static final int CHUNK = 256 << 10;

    private byte[] buffer;
    private Crypto crypto;
    private FastCdc cdc;
    private ChunkId id;
    private byte[] sealed;

    @Setup
    public void setUp() {
        buffer = new byte[16 << 20];
        SplittableRandom random = new SplittableRandom(1);
        for (int i = 0; i < buffer.length; i++) {
            buffer[i] = (byte) random.nextInt();
        }
        crypto = new Crypto(Crypto.randomBytes(Crypto.MASTER_LENGTH));
        cdc = crypto.chunker(ChunkerParameters.DEFAULT);
        id = crypto.chunkId(buffer, 0, CHUNK);
        sealed = crypto.sealChunk(id, buffer, 0, CHUNK, 3);
    }

    /** Cuts the whole 16 MiB buffer into chunks; returns the chunk count. */
    @Benchmark
    public int cut16MiB() {
        int chunks = 0;
        for (int pos = 0; pos < buffer.length; chunks++) {
            pos += cdc.cut(buffer, pos, buffer.length - pos);
        }
        return chunks;
    }

    @Benchmark
    public ChunkId chunkId256KiB() {
        return crypto.chunkId(buffer, 0, CHUNK);
    }

    @Benchmark
    public byte[] seal256KiB() {
        return crypto.sealChunk(id, buffer, 0, CHUNK, 3);
    }

    @Benchmark
    public byte[] open256KiB() {
        return crypto.openChunk(id, sealed, 1 << 20, "bench");
    }
}
