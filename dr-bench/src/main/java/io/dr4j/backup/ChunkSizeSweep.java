package io.dr4j.backup;

import io.dr4j.bench.CheckpointWorkload;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Chooses the default chunk sizes: chunks the §7 checkpoint (v1), applies the partial fine-tune
 * (v2), chunks it again, and reports for each candidate (min/avg/max) the bytes v2 adds (new
 * chunks) against the bytes actually changed, and the number of objects a full backup makes.
 * No store is involved: this measures the chunker alone.
 *
 * <pre>
 * mvn -B -q -pl dr-bench -am package -DskipTests
 * java -cp dr-bench/target/benchmarks.jar io.dr4j.backup.ChunkSizeSweep [shards] [shardMiB] [dir]
 * </pre>
 */
public final class ChunkSizeSweep {

    private static final List<ChunkerParameters> CANDIDATES = List.of(
            new ChunkerParameters(64 << 10, 256 << 10, 1 << 20),
            new ChunkerParameters(128 << 10, 512 << 10, 2 << 20),
            new ChunkerParameters(256 << 10, 1 << 20, 4 << 20),
            new ChunkerParameters(512 << 10, 2 << 20, 8 << 20));

    private ChunkSizeSweep() {
    }

    public static void main(String[] args) throws IOException {
        int shards = args.length > 0 ? Integer.parseInt(args[0]) : 8;
        long shardSize = (args.length > 1 ? Long.parseLong(args[1]) : 256) << 20;
        Path dir = args.length > 2 ? Path.of(args[2]) : Files.createTempDirectory("dr4j-sweep");
        CheckpointWorkload workload = new CheckpointWorkload(shards, shardSize, 20261126L);
        Path v1 = dir.resolve("v1");
        workload.writeVersion1(v1);
        Path v2 = dir.resolve("v2");
        workload.writeVersion1(v2);
        long changed = workload.mutateToVersion2(v2);
        Crypto crypto = new Crypto(Crypto.randomBytes(Crypto.MASTER_LENGTH));
        System.out.printf("workload: %d x %d MiB, %d bytes changed in v2%n", shards, shardSize >> 20, changed);
        System.out.printf("%-22s %12s %12s %10s %10s%n", "min/avg/max KiB", "v1 chunks", "v2 new MiB", "new/chg", "MB/s cut");
        for (ChunkerParameters p : CANDIDATES) {
            FastCdc cdc = crypto.chunker(p);
            Set<ChunkId> known = new HashSet<>();
            long start = System.nanoTime();
            long[] v1Stats = chunkAll(cdc, crypto, v1, known, true);
            double seconds = (System.nanoTime() - start) / 1e9;
            long[] v2Stats = chunkAll(cdc, crypto, v2, known, false);
            System.out.printf("%-22s %12d %12.1f %10.3f %10.0f%n",
                    (p.minSize() >> 10) + "/" + (p.avgSize() >> 10) + "/" + (p.maxSize() >> 10), v1Stats[0],
                    v2Stats[1] / 1048576.0, v2Stats[1] / (double) changed, v1Stats[2] / seconds / 1e6);
        }
    }

    /** Returns {chunks, new bytes, total bytes}. */
    private static long[] chunkAll(FastCdc cdc, Crypto crypto, Path dir, Set<ChunkId> known, boolean record) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.sorted().toList();
        }
        long[] counts = new long[3];
        FileChunker chunker = new FileChunker(cdc);
        for (Path file : files) {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                chunker.chunk(ch, (buffer, offset, length, position) -> {
                    ChunkId id = crypto.chunkId(buffer, offset, length);
                    if (record ? known.add(id) : !known.contains(id)) {
                        counts[1] += length;
                    }
                    counts[0]++;
                    counts[2] += length;
                }, () -> false);
            }
        }
        return counts;
    }
}
