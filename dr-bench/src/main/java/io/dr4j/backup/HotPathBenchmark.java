package io.dr4j.backup;

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
 * <p>{@code backupChunkV1}/{@code restoreChunkV1} are what format v1 did per chunk (copy the
 * chunk out, seal into a fresh array; open into a fresh array); {@code backupChunkV2} and
 * {@code restoreChunkV2} are the v2 engine's allocation-free paths (copy into a pooled buffer,
 * seal straight into the pack buffer; open into a reused buffer). Run with {@code -prof gc}:
 * {@code gc.alloc.rate.norm} / 262,144 is the bytes allocated per byte processed.
 *
 * <pre>
 * java -jar dr-bench/target/benchmarks.jar HotPathBenchmark -prof gc -rf json -rff hotpath.json
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
    private byte[] pooledChunk;
    private byte[] pack;
    private int packOffset;
    private byte[] plain;

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
        pooledChunk = new byte[(1 << 20) + 64];
        pack = new byte[(17 << 20)];
        plain = new byte[(1 << 20) + 64];
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

    /** v1's per-chunk backup work: copy the chunk out of the read buffer, hash, seal into a new array. */
    @Benchmark
    public byte[] backupChunkV1() {
        byte[] chunk = java.util.Arrays.copyOfRange(buffer, 4096, 4096 + CHUNK);
        ChunkId chunkId = crypto.chunkId(chunk, 0, CHUNK);
        return crypto.sealChunk(chunkId, chunk, 0, CHUNK, 3);
    }

    /** v2's per-chunk backup work: copy into a pooled buffer, hash, seal straight into the pack buffer. */
    @Benchmark
    public int backupChunkV2() {
        System.arraycopy(buffer, 4096, pooledChunk, 0, CHUNK);
        ChunkId chunkId = crypto.chunkId(pooledChunk, 0, CHUNK);
        if (packOffset + Crypto.maxSealedLength(CHUNK) > pack.length) {
            packOffset = 0;
        }
        int n = Crypto.sealedLength(crypto.sealChunkInto(chunkId, pooledChunk, 0, CHUNK, 3, pack, packOffset));
        packOffset += n;
        return n;
    }

    /** v1's per-chunk restore work: open into a fresh array. */
    @Benchmark
    public byte[] restoreChunkV1() {
        return crypto.openChunk(id, sealed, 1 << 20, "bench");
    }

    /** v2's per-chunk restore work: open from the range buffer into a reused buffer. */
    @Benchmark
    public int restoreChunkV2() {
        return crypto.openChunkInto(id, sealed, 0, sealed.length, 1 << 20, plain, "bench");
    }
}
