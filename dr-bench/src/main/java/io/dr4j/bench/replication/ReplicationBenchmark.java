package io.dr4j.bench.replication;

import io.dr4j.bench.BenchFiles;
import io.dr4j.bench.CheckpointWorkload;
import io.dr4j.replication.ReplicatedBlobStore;
import io.dr4j.replication.ReplicationStatus;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStore;
import io.dr4j.storage.LocalBlobStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Replicated put throughput of the DESIGN §7 checkpoint (shard files put with
 * {@code put(key, Path)}) to a {@link ReplicatedBlobStore} of three {@link LocalBlobStore}s at
 * W=2, against a single {@code LocalBlobStore}, in the same run and on the same disk. Rounds
 * alternate single and replicated so that drift in the machine's state hits both alike; the
 * median of the rounds is reported.
 *
 * <p>Two figures for the replicated store: <i>acknowledged</i> (until the last put returned,
 * i.e. W=2 members hold every shard: what a backup waits for) and <i>fully replicated</i> (until
 * the third member caught up too). All three members share one disk here, so they compete for
 * its bandwidth; with members on independent disks or sites the writes do not contend.
 *
 * <p>Not JMH: one operation is gigabytes of file I/O, timed with wall clock, and the interesting
 * output is the ratio of two stores in one run. Run with:
 * <pre>
 * mvn -B -pl dr-bench -am package -DskipTests
 * flock /tmp/dr4j-bench.lock java -cp dr-bench/target/benchmarks.jar \
 *     io.dr4j.bench.replication.ReplicationBenchmark [shards=8] [shardMiB=256] [rounds=3] [sync=true] [workDir=java.io.tmpdir] [linkMBps=0] [memberDirs=-]
 * </pre>
 * {@code sync=true} makes every put fsync its file (the stores' default); {@code false} measures
 * the page cache instead of the disk. {@code linkMBps > 0} puts every store (the single one too)
 * behind its own simulated link of that many MB/s, as members at different sites would be: then
 * the members no longer share one bottleneck, and the figure shows whether the fan-out really
 * runs in parallel. {@code memberDirs} (three comma-separated directories, e.g. the mount points
 * of three disks) puts member {@code i} in the {@code i}-th directory and the single store in
 * the first, so that each member has a device of its own; {@code -} (default) puts everything
 * under {@code workDir}. {@code dr-bench/scripts/independent-disks.sh} makes three such devices
 * on a machine that has only one disk (RAM-backed ext4 loop devices; root needed).
 */
public final class ReplicationBenchmark {

    private ReplicationBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int shards = args.length > 0 ? Integer.parseInt(args[0]) : CheckpointWorkload.DEFAULT_SHARDS;
        long shardMiB = args.length > 1 ? Long.parseLong(args[1]) : CheckpointWorkload.DEFAULT_SHARD_SIZE >> 20;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        boolean sync = args.length > 3 ? Boolean.parseBoolean(args[3]) : true;
        long linkBytesPerSecond = args.length > 5 ? Long.parseLong(args[5]) * 1_000_000L : 0;
        Path work = Files.createTempDirectory(args.length > 4 ? Path.of(args[4]) : Path.of(System.getProperty("java.io.tmpdir")),
                "dr4j-replication-bench");
        List<Path> memberRoots = new ArrayList<>();
        try {
            if (args.length > 6 && !args[6].equals("-")) {
                for (String dir : args[6].split(",")) {
                    memberRoots.add(Files.createTempDirectory(Path.of(dir), "dr4j-replication-bench"));
                }
                if (memberRoots.size() != 3) {
                    throw new IllegalArgumentException("memberDirs needs exactly three directories, was " + args[6]);
                }
            } else {
                memberRoots.addAll(List.of(work, work, work));
            }
            run(work, memberRoots, new CheckpointWorkload(shards, shardMiB << 20, 20261126L), rounds, sync, linkBytesPerSecond);
        } finally {
            BenchFiles.deleteTree(work);
            for (Path root : memberRoots) {
                BenchFiles.deleteTree(root);
            }
        }
    }

    private static void run(Path work, List<Path> roots, CheckpointWorkload workload, int rounds, boolean sync, long link)
            throws Exception {
        List<Path> shards = workload.writeVersion1(work.resolve("checkpoint"));
        double totalMb = workload.totalBytes() / 1e6;
        System.out.printf(Locale.ROOT, "checkpoint: %d shards, %.0f MB total, sync=%s, %d rounds, %s, source %s, stores in %s%n",
                shards.size(), totalMb, sync, rounds, link > 0 ? "each store behind a " + link / 1_000_000 + " MB/s link" : "no link limit",
                work, roots.stream().distinct().toList());
        double[] single = new double[rounds];
        double[] acked = new double[rounds];
        double[] full = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            Path singleDir = roots.get(0).resolve("single-" + r);
            try (BlobStore store = linked(LocalBlobStore.builder(singleDir).sync(sync).build(), link)) {
                long start = System.nanoTime();
                putAll(store, shards);
                single[r] = totalMb / seconds(start);
            }
            BenchFiles.deleteTree(singleDir);

            String replicated = "replicated-" + r;
            ReplicatedBlobStore store = ReplicatedBlobStore.builder()
                    .member("site-a", linked(LocalBlobStore.builder(roots.get(0).resolve(replicated).resolve("a")).sync(sync).build(), link))
                    .member("site-b", linked(LocalBlobStore.builder(roots.get(1).resolve(replicated).resolve("b")).sync(sync).build(), link))
                    .member("site-c", linked(LocalBlobStore.builder(roots.get(2).resolve(replicated).resolve("c")).sync(sync).build(), link))
                    .writeQuorum(2)
                    .repairLog(LocalBlobStore.builder(roots.get(0).resolve(replicated).resolve("log")).sync(sync).build())
                    .build();
            try {
                long start = System.nanoTime();
                putAll(store, shards);
                acked[r] = totalMb / seconds(start);
                if (!store.awaitBackground(Duration.ofMinutes(30))) {
                    throw new IllegalStateException("background writes did not finish");
                }
                ReplicationStatus status = store.status();
                if (!status.fullyReplicated()) {
                    store.repair(); // writes the background budget turned away, paid back as repair would
                }
                full[r] = totalMb / seconds(start);
                System.out.printf(Locale.ROOT, "round %d: single %.1f MB/s, replicated W=2/3 acknowledged %.1f MB/s"
                        + " (%.0f%% of single), fully replicated %.1f MB/s; owed after puts: %d%n",
                        r + 1, single[r], acked[r], 100 * acked[r] / single[r], full[r], status.owedWrites());
            } finally {
                store.close();
            }
            for (Path root : roots) {
                BenchFiles.deleteTree(root.resolve(replicated));
            }
        }
        double s = median(single);
        double a = median(acked);
        double f = median(full);
        System.out.printf(Locale.ROOT, "median: single %.1f MB/s; replicated W=2/3 acknowledged %.1f MB/s = %.0f%% of single;"
                + " fully replicated %.1f MB/s = %.0f%% of single%n", s, a, 100 * a / s, f, 100 * f / s);
    }

    private static BlobStore linked(BlobStore store, long bytesPerSecond) {
        return bytesPerSecond > 0 ? new LinkLimitedBlobStore(store, bytesPerSecond) : store;
    }

    private static void putAll(BlobStore store, List<Path> shards) throws IOException {
        for (Path shard : shards) {
            store.put(BlobKey.of("checkpoint/" + shard.getFileName()), shard);
        }
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
