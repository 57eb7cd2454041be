package io.dr4j.bench.backup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dr4j.bench.BenchFiles;
import io.dr4j.bench.CheckpointWorkload;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * Throughput of a rate-limited backup against its limit, as a user runs it: the {@code dr4j} CLI
 * ({@code java -jar examples/target/dr4j.jar}, default JVM flags), one process per step, a fresh
 * local repository per limit, a random checkpoint (random bytes: every byte is new and stored, so
 * the bytes uploaded are the checkpoint's size plus sealing overhead). For each limit it prints
 * the bytes written to the repository directory, the wall time of the backup process and of the
 * backup itself (the snapshot's {@code durationMillis}), and the achieved MiB/s against the limit.
 *
 * <pre>
 * mvn -B -q -pl examples,dr-bench -am package -DskipTests
 * java -cp dr-bench/target/benchmarks.jar io.dr4j.bench.backup.RateLimitSideBySide \
 *     [--cli examples/target/dr4j.jar] [--dir /tmp/dr4j-ratelimit] [--shards 4 --shard-mib 256] [--limits 50MiB,100MiB,none]
 * </pre>
 */
public final class RateLimitSideBySide {

    private static final ObjectMapper JSON = new ObjectMapper();

    private RateLimitSideBySide() {
    }

    public static void main(String[] args) throws Exception {
        Path cli = Path.of("examples/target/dr4j.jar");
        Path dir = Path.of("/tmp/dr4j-ratelimit");
        int shards = 4;
        long shardMib = 256;
        List<String> limits = List.of("50MiB", "100MiB", "none");
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--cli" -> cli = Path.of(args[i + 1]);
                case "--dir" -> dir = Path.of(args[i + 1]);
                case "--shards" -> shards = Integer.parseInt(args[i + 1]);
                case "--shard-mib" -> shardMib = Long.parseLong(args[i + 1]);
                case "--limits" -> limits = List.of(args[i + 1].split(","));
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        BenchFiles.deleteTree(dir);
        Files.createDirectories(dir);
        Path source = dir.resolve("ckpt");
        CheckpointWorkload workload = new CheckpointWorkload(shards, shardMib << 20, 42);
        workload.writeVersion1(source);
        Path key = dir.resolve("key");
        Files.writeString(key, HexFormat.of().formatHex(new byte[32]));
        System.out.printf("workload: %d x %d MiB random (%d MiB)%n", shards, shardMib, workload.totalBytes() >> 20);
        System.out.printf("%-8s %10s %9s %9s %10s %8s%n", "limit", "uploaded", "wall s", "backup s", "MiB/s", "of limit");
        for (String limit : limits) {
            Path repo = dir.resolve("repo-" + limit);
            run(cli, List.of("init", "--repo", repo.toString(), "--key-file", key.toString()));
            long before = BenchFiles.treeSize(repo);
            List<String> backup = new ArrayList<>(List.of("backup", "--repo", repo.toString(), "--key-file", key.toString(),
                    "--json", "--no-progress"));
            if (!limit.equals("none")) {
                backup.addAll(List.of("--limit-upload", limit));
            }
            backup.add(source.toString());
            run(cli, List.of("--version")); // warm the page cache for the jar
            new ProcessBuilder("sync").start().waitFor();
            long start = System.nanoTime();
            String out = run(cli, backup);
            double wall = (System.nanoTime() - start) / 1e9;
            JsonNode snap = JSON.readTree(out);
            double backupSeconds = snap.get("durationMillis").asLong() / 1000.0;
            long uploaded = BenchFiles.treeSize(repo) - before;
            double mibs = uploaded / backupSeconds / (1 << 20);
            String ofLimit = limit.equals("none") ? "-" : String.format("%.3f", mibs / (parseMib(limit)));
            System.out.printf("%-8s %7d MiB %9.2f %9.2f %10.1f %8s%n", limit, uploaded >> 20, wall, backupSeconds, mibs, ofLimit);
            BenchFiles.deleteTree(repo);
        }
        BenchFiles.deleteTree(dir);
    }

    private static double parseMib(String limit) {
        String digits = limit.replaceAll("[^0-9.]", "");
        return Double.parseDouble(digits);
    }

    private static String run(Path cli, List<String> args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("java", "-jar", cli.toString()));
        command.addAll(args);
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out;
        try (InputStream in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed:\n" + out);
        }
        return out;
    }
}
