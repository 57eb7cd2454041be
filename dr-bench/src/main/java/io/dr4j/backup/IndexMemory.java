package io.dr4j.backup;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.SplittableRandom;

/**
 * The resident cost of the loaded repository index per chunk: fills a {@link ChunkIndex} with
 * {@code N} random chunk ids (1 million by default, about 256 GiB of checkpoints at the default
 * chunk size, in 16 MiB packs) and reports the bytes its arrays hold and the heap growth measured
 * after a full GC, per chunk. The javadoc of {@code ChunkIndex} bounds its arrays at 65 bytes per chunk plus 96 per pack.
 *
 * <pre>
 * java -cp dr-bench/target/benchmarks.jar io.dr4j.backup.IndexMemory [chunks]
 * </pre>
 */
public final class IndexMemory {

    private IndexMemory() {
    }

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        System.gc();
        long before = memory.getHeapMemoryUsage().getUsed();
        ChunkIndex index = new ChunkIndex();
        SplittableRandom random = new SplittableRandom(42);
        byte[] packId = new byte[32];
        byte[] id = new byte[ChunkId.LENGTH];
        int pack = 0;
        for (int i = 0; i < n; i++) {
            if (i % 64 == 0) {
                random.nextBytes(packId);
                pack = index.pack(packId);
            }
            random.nextBytes(id);
            index.add(ChunkId.wrap(id.clone()), pack, (i % 64) * 262_174, 262_174, 262_144, 0);
        }
        System.gc();
        long after = memory.getHeapMemoryUsage().getUsed();
        // every id must be found again: the figure is for a working index
        SplittableRandom again = new SplittableRandom(42);
        for (int i = 0; i < n; i++) {
            if (i % 64 == 0) {
                again.nextBytes(packId);
            }
            again.nextBytes(id);
            if (index.find(ChunkId.wrap(id.clone())) < 0) {
                throw new IllegalStateException("chunk " + i + " lost");
            }
        }
        System.out.printf("chunks %d, packs %d%n", index.size(), n / 64 + 1);
        System.out.printf("index arrays: %.1f MB = %.1f bytes per chunk%n", index.residentBytes() / 1e6, index.residentBytes() / (double) n);
        System.out.printf("heap growth after GC: %.1f MB = %.1f bytes per chunk%n", (after - before) / 1e6, (after - before) / (double) n);
        if (index.size() != n) {
            throw new IllegalStateException("size " + index.size());
        }
    }
}
