package io.dr4j.bench.backup;

import io.dr4j.bench.BenchFiles;
import io.dr4j.bench.CheckpointWorkload;
import io.dr4j.bench.s3.BenchS3Server;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code dr4j copy} of a local repository to S3 timed next to {@code rclone sync} of the same
 * repository directory, on one S3Proxy on loopback ({@link BenchS3Server}, {@code filesystem-nio2}):
 * the issue "operator features" closing figure. The source is a local repository (CLI defaults)
 * holding one backup of the DESIGN §7 random checkpoint (8 × 256 MiB); each round copies it with
 * the CLI as a user runs it ({@code java -jar examples/target/dr4j.jar copy}, JVM defaults) into a
 * fresh S3 repository with another password (every chunk is opened, re-hashed and sealed under
 * the destination's key), and syncs the directory with {@code rclone sync} (its defaults:
 * 4 transfers, files compared by size and modification time) into another bucket of the same
 * server. Then the backup of version 2 (10% of each shard rewritten) is added to the source and
 * both tools run again: the incremental copy and the second sync.
 *
 * <p>Each step is one process under {@code /usr/bin/time}: wall time, user+sys CPU and peak RSS
 * of the tool (S3Proxy runs in this JVM, so its CPU is not counted for either), and the requests
 * the server answered for the tool's bucket (PUTs: single PUTs plus multipart part PUTs; objects
 * created; GETs; HEADs). Every round starts from the same saved source repository (so the same
 * pack files) and a fresh dr4j cache directory; the index and catalog cache the full copy fills
 * is what the incremental copy uses, as for a user. The destination's snapshots are verified with
 * {@code dr4j verify --data} in the first round, and rclone's bucket is compared byte for byte
 * with the source directory each round.
 *
 * <pre>
 * mvn -B -q -pl examples,dr-bench -am package -DskipTests
 * java -cp dr-bench/target/benchmarks.jar io.dr4j.bench.backup.CopySideBySide \
 *     [--cli examples/target/dr4j.jar] [--dir DIR] [--shards 8] [--shard-mib 256] [--rounds 3]
 *     [--copy-java-options '-XX:StartFlightRecording=filename=/tmp/copy-{step}.jfr,settings=profile']
 * </pre>
 * {@code --copy-java-options} adds JVM options to the timed {@code dr4j copy} processes only
 * ({@code {step}} becomes the round and step, e.g. {@code 1-full}), to profile them; the figures
 * of such a run are not a user's.
 */
public final class CopySideBySide {

    private static final String SOURCE_PASSWORD = "copy benchmark source";
    private static final String DESTINATION_PASSWORD = "copy benchmark destination, another key";

    private record Row(int round, String tool, String step, double wall, double cpu, long rssKiB,
            BenchS3Server.Requests requests, String note) {
    }

    private final Path dir;
    private final Path cli;
    /** JVM options for the timed {@code dr4j copy} processes only (none by default: a user's run), e.g. a JFR recording. */
    private final List<String> copyJavaOptions;
    private final List<Row> rows = new ArrayList<>();

    private CopySideBySide(Path dir, Path cli, List<String> copyJavaOptions) {
        this.dir = dir;
        this.cli = cli;
        this.copyJavaOptions = copyJavaOptions;
    }

    public static void main(String[] args) throws Exception {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        Path cli = Path.of("examples/target/dr4j.jar");
        Path dir = null;
        int shards = CheckpointWorkload.DEFAULT_SHARDS;
        long shardMib = CheckpointWorkload.DEFAULT_SHARD_SIZE >> 20;
        int rounds = 3;
        List<String> copyJavaOptions = List.of();
        for (int i = 0; i < args.length; i += 2) {
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + args[i] + " needs a value");
            }
            switch (args[i]) {
                case "--cli" -> cli = Path.of(args[i + 1]);
                case "--dir" -> dir = Path.of(args[i + 1]);
                case "--shards" -> shards = Integer.parseInt(args[i + 1]);
                case "--shard-mib" -> shardMib = Long.parseLong(args[i + 1]);
                case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
                case "--copy-java-options" -> copyJavaOptions = List.of(args[i + 1].trim().split("\\s+"));
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (--cli JAR, --dir DIR, --shards N, --shard-mib M, --rounds R, --copy-java-options 'OPTS')");
            }
        }
        if (!Files.isRegularFile(cli)) {
            throw new IllegalArgumentException("no dr4j CLI at " + cli.toAbsolutePath()
                    + "; build it with mvn -B -q -pl examples -am package -DskipTests");
        }
        if (dir == null) {
            dir = Files.createTempDirectory(Path.of(System.getProperty("user.dir")), "dr4j-copy-side-by-side");
        }
        CopySideBySide bench = new CopySideBySide(dir, cli.toAbsolutePath(), copyJavaOptions);
        try {
            bench.run(new CheckpointWorkload(shards, shardMib << 20, 20261126L), rounds);
        } finally {
            BenchFiles.deleteTree(dir);
        }
    }

    private void run(CheckpointWorkload workload, int rounds) throws Exception {
        BenchFiles.deleteTree(dir);
        Files.createDirectories(dir);
        Path checkpoint = dir.resolve("checkpoint");
        workload.writeVersion1(checkpoint);
        // the source repository after the backup of version 1, and the objects the backup of version 2 adds
        Path v1 = dir.resolve("source-v1");
        Path v2 = dir.resolve("source-v2");
        Map<String, String> sourceEnv = Map.of("DR4J_PASSWORD", SOURCE_PASSWORD, "XDG_CACHE_HOME",
                dir.resolve("cache-setup").toString());
        BenchFiles.run(dr4j("init", "-r", v1.toString()), sourceEnv);
        BenchFiles.run(dr4j("backup", "-r", v1.toString(), "--no-progress", checkpoint.toString()), sourceEnv);
        BenchFiles.run(List.of("cp", "-a", v1.toString(), v2.toString()), Map.of());
        workload.mutateToVersion2(checkpoint);
        BenchFiles.run(dr4j("backup", "-r", v2.toString(), "--no-progress", checkpoint.toString()), sourceEnv);
        BenchFiles.deleteTree(checkpoint);
        long v1Bytes = BenchFiles.treeSize(v1);
        long v2Bytes = BenchFiles.treeSize(v2) - v1Bytes;
        System.out.printf(Locale.ROOT, "source repository: %d objects, %.1f MB; the backup of version 2 adds %d objects, %.1f MB%n",
                countFiles(v1), v1Bytes / 1e6, countFiles(v2) - countFiles(v1), v2Bytes / 1e6);
        System.out.println("rclone: " + BenchFiles.run(List.of("rclone", "version"), Map.of()).lines().findFirst().orElse("?"));

        Path s3dir = Files.createDirectories(dir.resolve("s3proxy"));
        try (BenchS3Server server = BenchS3Server.start(s3dir)) {
            System.out.println("S3Proxy " + server.endpoint() + " (filesystem-nio2 in " + s3dir + ")");
            for (int round = 1; round <= rounds; round++) {
                round(server, round, v1, v2);
            }
        }
        print(v1Bytes, v2Bytes);
    }

    private void round(BenchS3Server server, int round, Path v1, Path v2) throws Exception {
        Path source = dir.resolve("source");
        BenchFiles.deleteTree(source);
        BenchFiles.run(List.of("cp", "-a", v1.toString(), source.toString()), Map.of());
        String dr4jBucket = "dr4j-copy-" + round;
        String rcloneBucket = "rclone-sync-" + round;
        server.createBucket(dr4jBucket);
        server.createBucket(rcloneBucket);
        String destination = "s3://" + dr4jBucket + "/repo";
        Map<String, String> env = new HashMap<>(server.awsEnv());
        env.put("DR4J_PASSWORD", SOURCE_PASSWORD);
        env.put("DR4J_DESTINATION_PASSWORD", DESTINATION_PASSWORD);
        env.put("XDG_CACHE_HOME", dir.resolve("cache-" + round).toString());
        List<String> init = new ArrayList<>(List.of("init", "-r", destination, "--password-env", "DR4J_DESTINATION_PASSWORD"));
        init.addAll(server.dr4jS3Options());
        BenchFiles.run(dr4j(init.toArray(String[]::new)), env);
        List<String> copy = new ArrayList<>(List.of("copy", "-r", source.toString(), "--to", destination,
                "--to-password-env", "DR4J_DESTINATION_PASSWORD", "--json", "--no-progress"));
        copy.addAll(server.dr4jS3Options());
        Map<String, String> rcloneEnv = new HashMap<>(server.rcloneEnv("bench"));
        Path emptyConfig = Files.writeString(dir.resolve("rclone.conf"), "");
        // rclone reads AWS_* (a CA bundle, a profile) and RCLONE_* variables of its own: only the remote's are given
        List<String> sync = new ArrayList<>(List.of("env"));
        System.getenv().keySet().stream().filter(k -> k.startsWith("AWS_") || k.startsWith("RCLONE_")).sorted()
                .forEach(k -> sync.addAll(List.of("-u", k)));
        sync.addAll(List.of("rclone", "sync", source.toString(), "bench:" + rcloneBucket + "/repo", "--config",
                emptyConfig.toString()));

        rows.add(timed(round, "dr4j copy", "full", withJavaOptions(dr4j(copy.toArray(String[]::new)), round, "full"), env,
                server, dr4jBucket));
        rows.add(timed(round, "rclone sync", "full", sync, rcloneEnv, server, rcloneBucket));
        sameTree(source, server.bucketDirectory(rcloneBucket).resolve("repo"));

        // add the backup of version 2 to the source (its objects are new files; nothing existing changes)
        BenchFiles.run(List.of("cp", "-a", "-T", v2.toString(), source.toString()), Map.of());
        rows.add(timed(round, "dr4j copy", "incremental", withJavaOptions(dr4j(copy.toArray(String[]::new)), round, "incremental"),
                env, server, dr4jBucket));
        rows.add(timed(round, "rclone sync", "incremental", sync, rcloneEnv, server, rcloneBucket));
        sameTree(source, server.bucketDirectory(rcloneBucket).resolve("repo"));

        if (round == 1) {
            List<String> verify = new ArrayList<>(List.of("verify", "-r", destination, "--password-env",
                    "DR4J_DESTINATION_PASSWORD", "--data", "--no-progress"));
            verify.addAll(server.dr4jS3Options());
            String out = BenchFiles.run(dr4j(verify.toArray(String[]::new)), env);
            System.out.println("dr4j verify --data of the copy: " + out.lines().filter(l -> !l.isBlank()).reduce((a, b) -> b)
                    .orElse(""));
        }
        server.deleteBucket(dr4jBucket);
        server.deleteBucket(rcloneBucket);
        BenchFiles.deleteTree(source);
    }

    private List<String> dr4j(String... args) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", cli.toString()));
        command.addAll(List.of(args));
        return command;
    }

    /** {@code command} with {@link #copyJavaOptions}, where {@code {step}} becomes e.g. {@code 1-full}. */
    private List<String> withJavaOptions(List<String> command, int round, String step) {
        List<String> c = new ArrayList<>(command);
        c.addAll(1, copyJavaOptions.stream().map(o -> o.replace("{step}", round + "-" + step)).toList());
        return c;
    }

    private Row timed(int round, String tool, String step, List<String> command, Map<String, String> env,
            BenchS3Server server, String bucket) throws Exception {
        Path time = Files.createTempFile(dir, "time", ".txt");
        List<String> full = new ArrayList<>(List.of("/usr/bin/time", "-f", "%e %U %S %M", "-o", time.toString()));
        full.addAll(command);
        BenchFiles.run(List.of("sync"), Map.of());
        BenchS3Server.Requests before = server.requests(bucket);
        String out = BenchFiles.run(full, env);
        BenchS3Server.Requests requests = server.requests(bucket).minus(before);
        String[] f = Files.readString(time).trim().lines().reduce((a, b) -> b).orElseThrow().trim().split("\\s+");
        Files.delete(time);
        double wall = Double.parseDouble(f[0]);
        double cpu = Double.parseDouble(f[1]) + Double.parseDouble(f[2]);
        String note = "";
        Matcher m = Pattern.compile("\"chunksCopied\"\\s*:\\s*(\\d+).*\"chunksSkipped\"\\s*:\\s*(\\d+).*\"storeReads\"\\s*:\\s*(\\d+)",
                Pattern.DOTALL).matcher(out);
        if (m.find()) {
            note = "chunks copied " + m.group(1) + ", skipped " + m.group(2) + ", source reads " + m.group(3);
        }
        Row row = new Row(round, tool, step, wall, cpu, Long.parseLong(f[3]), requests, note);
        System.out.printf(Locale.ROOT, "round %d %-12s %-12s %7.2f s wall %7.2f s cpu %5d MiB  PUT %d (objects %d) GET %d HEAD %d  %s%n",
                round, tool, step, wall, cpu, row.rssKiB() >> 10, requests.puts(), requests.objectsCreated(), requests.gets(),
                requests.heads(), note);
        return row;
    }

    private void print(long v1Bytes, long v2Bytes) {
        System.out.println();
        System.out.printf(Locale.ROOT, "%-12s %-12s %9s %9s %9s %9s %8s %8s %8s%n", "tool", "step", "wall s", "MB/s",
                "cpu s", "peak RSS", "PUTs", "objects", "HEADs");
        Map<String, List<Row>> byStep = new LinkedHashMap<>();
        for (Row r : rows) {
            byStep.computeIfAbsent(r.tool() + "/" + r.step(), k -> new ArrayList<>()).add(r);
        }
        for (List<Row> runs : byStep.values()) {
            Row best = runs.stream().min((a, b) -> Double.compare(a.wall(), b.wall())).orElseThrow();
            long bytes = best.step().equals("full") ? v1Bytes : v2Bytes;
            System.out.printf(Locale.ROOT, "%-12s %-12s %9.2f %9.1f %9.2f %5d MiB %8d %8d %8d   (best of %d; walls %s)%n",
                    best.tool(), best.step(), best.wall(), bytes / 1e6 / best.wall(), best.cpu(), best.rssKiB() >> 10,
                    best.requests().puts(), best.requests().objectsCreated(), best.requests().heads(), runs.size(),
                    runs.stream().map(r -> String.format(Locale.ROOT, "%.2f", r.wall())).toList());
        }
    }

    /** Checks that rclone's bucket holds the source directory's files byte for byte. */
    private static void sameTree(Path source, Path copy) throws IOException {
        if (!BenchFiles.treeHash(source).equals(BenchFiles.treeHash(copy))) {
            throw new IllegalStateException("rclone's copy in " + copy + " differs from " + source);
        }
    }

    private static long countFiles(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(Files::isRegularFile).count();
        }
    }
}
