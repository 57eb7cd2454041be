package io.dr4j.bench.backup;

import static io.dr4j.bench.BenchFiles.treeHash;
import static io.dr4j.bench.BenchFiles.treeSize;

import io.dr4j.bench.BenchFiles;
import io.dr4j.bench.CheckpointWorkload;
import io.dr4j.bench.WeightsWorkload;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The tensor codec as a user meets it: the {@code dr4j} CLI ({@code java -jar dr4j.jar}, the JVM's
 * default flags) on the weights workload ({@link WeightsWorkload}) with the codec on and off, and on
 * random data of the same size ({@link CheckpointWorkload}) with the codec off and on, all with the
 * same build, in rounds so that the configurations take turns on a shared machine.
 *
 * <p>Each configuration and round: a fresh copy of version 1 in {@code src}, {@code init} (with
 * {@code --no-tensor-codec} when off), a full backup, version 2 made in place (whole tensors
 * rewritten, or 10% of each random shard), an incremental backup, and a restore of version 2 that
 * must hash equal to the source; the order of the configurations is reversed every other round.
 * {@code --warmup} rounds (default 1) run first and are not recorded: on a VM, the first writes
 * into page-cache pages the guest has not touched yet cost several times more system time
 * ({@code cp -r && sync} of 2 GiB took 9.4 s cold and 2.2 s once warm here), which would land on
 * whichever configuration runs first. Reports wall seconds, CPU seconds (user + system), peak RSS and stored bytes (the repository's
 * size on disk: packs, index files, manifests and config), the median over rounds, and {@code zstd -3} of the weights files
 * when the zstd CLI is installed, and, round by round, the wall and CPU ratios of issue 16's criterion:
 * the weights with the codec on against random data with it off. Run it under the build lock
 * ({@code flock /tmp/dr4j-mvn.lock java ...}) so that no build shares the machine while it times.
 *
 * <pre>
 * java -cp dr-bench/target/benchmarks.jar io.dr4j.bench.backup.CodecSideBySide \
 *     [--cli examples/target/dr4j.jar] [--rounds 3] [--warmup 1] [--dir /tmp/dr4j-codec] [--shards 8] [--shard-mib 256]
 * </pre>
 *
 * Not thread-safe; a command-line tool.
 */
public final class CodecSideBySide {

    private static final String PASSWORD = "codec side-by-side";

    private record Config(String workload, boolean codec) {
        String label() {
            return workload + ", codec " + (codec ? "on" : "off");
        }
    }

    private record Step(double seconds, long rssKiB, double cpuSeconds) {
    }

    private final Path dir;
    private final Path cli;
    private final Map<String, List<Double>> seconds = new LinkedHashMap<>();
    private final Map<String, List<Long>> rss = new LinkedHashMap<>();
    private final Map<String, List<Double>> cpu = new LinkedHashMap<>();
    private final Map<String, Long> stored = new LinkedHashMap<>();
    private boolean recording;

    private CodecSideBySide(Path dir, Path cli) {
        this.dir = dir;
        this.cli = cli;
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "dr4j-codec-side-by-side");
        Path cli = Path.of("examples/target/dr4j.jar");
        int rounds = 3;
        int warmup = 1;
        int shards = WeightsWorkload.DEFAULT_SHARDS;
        long shardMiB = WeightsWorkload.DEFAULT_SHARD_SIZE >> 20;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--dir" -> dir = Path.of(args[++i]);
                case "--cli" -> cli = Path.of(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--shards" -> shards = Integer.parseInt(args[++i]);
                case "--shard-mib" -> shardMiB = Long.parseLong(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (!Files.isRegularFile(cli)) {
            throw new IllegalArgumentException("no dr4j CLI jar at " + cli + "; build it with "
                    + "mvn -B -q -pl examples -am package -DskipTests");
        }
        new CodecSideBySide(dir, cli.toAbsolutePath()).run(shards, shardMiB << 20, warmup, rounds);
    }

    private void run(int shards, long shardSize, int warmup, int rounds) throws Exception {
        BenchFiles.deleteTree(dir);
        Files.createDirectories(dir);
        WeightsWorkload weights = new WeightsWorkload(shards, shardSize, 20261201L);
        Path weightsV1 = dir.resolve("weights-v1");
        weights.writeVersion1(weightsV1);
        long weightsRaw = treeSize(weightsV1);
        // Random shards of the same total size as the weights files (headers included).
        CheckpointWorkload random = new CheckpointWorkload(shards, weightsRaw / shards, 20261126L);
        Path randomV1 = dir.resolve("random-v1");
        random.writeVersion1(randomV1);
        long randomRaw = treeSize(randomV1);
        System.out.printf("weights: %d bytes, random: %d bytes, in %s; CLI %s with the JVM's default flags%n", weightsRaw,
                randomRaw, dir, cli);
        long zstd = zstdSize(weightsV1);

        List<Config> configs = List.of(new Config("weights", true), new Config("weights", false),
                new Config("random", false), new Config("random", true));
        long weightsChanged = 0;
        long randomChanged = 0;
        for (int round = 1 - warmup; round <= rounds; round++) {
            recording = round >= 1;
            // alternate the order, so that no configuration always runs first (or after the same one)
            List<Config> order = new ArrayList<>(configs);
            if (round % 2 == 0) {
                java.util.Collections.reverse(order);
            }
            for (Config c : order) {
                boolean w = c.workload().equals("weights");
                Path src = dir.resolve("src");
                Path repo = dir.resolve("repo");
                Path target = dir.resolve("restore");
                BenchFiles.deleteTree(src);
                BenchFiles.deleteTree(repo);
                BenchFiles.deleteTree(target);
                BenchFiles.run(List.of("cp", "-r", (w ? weightsV1 : randomV1).toString(), src.toString()), Map.of());
                List<String> init = new ArrayList<>(List.of("init", "-r", repo.toString()));
                if (!c.codec()) {
                    init.add("--no-tensor-codec");
                }
                dr4j(init);
                record(c, "full backup", dr4j(List.of("backup", "-r", repo.toString(), "--json", src.toString())));
                long full = treeSize(repo);
                stored.put(c.label() + "|full", full);
                long changed = w ? weights.mutateToVersion2(src) : random.mutateToVersion2(src);
                if (w) {
                    weightsChanged = changed;
                } else {
                    randomChanged = changed;
                }
                record(c, "incremental", dr4j(List.of("backup", "-r", repo.toString(), "--json", src.toString())));
                stored.put(c.label() + "|incremental", treeSize(repo) - full);
                record(c, "restore", dr4j(List.of("restore", "-r", repo.toString(), "--json", "latest", target.toString())));
                if (!treeHash(target).equals(treeHash(src))) {
                    throw new IllegalStateException(c.label() + ": the restore differs from the source");
                }
                System.out.printf("%s %d %-20s done%n", recording ? "round" : "warm-up round", recording ? round : round + warmup, c.label());
            }
        }
        BenchFiles.deleteTree(dir);

        System.out.println();
        System.out.printf("%-20s %-12s %8s %8s %8s %10s %10s%n", "configuration", "step", "median s", "min s", "max s",
                "median CPU", "peak RSS");
        for (Map.Entry<String, List<Double>> e : seconds.entrySet()) {
            List<Double> s = e.getValue().stream().sorted().toList();
            long maxRss = rss.get(e.getKey()).stream().mapToLong(Long::longValue).max().orElse(-1);
            String[] k = e.getKey().split("\\|");
            List<Double> c = cpu.get(e.getKey()).stream().sorted().toList();
            System.out.printf("%-20s %-12s %8.2f %8.2f %8.2f %8.2f s %6d MiB%n", k[0], k[1], median(s), s.get(0),
                    s.get(s.size() - 1), median(c), maxRss >> 10);
        }
        System.out.println();
        // issue 16's criterion, round by round: weights with the codec against random data without it
        for (String step : List.of("full backup", "restore")) {
            List<Double> ws = seconds.get("weights, codec on|" + step);
            List<Double> rs = seconds.get("random, codec off|" + step);
            List<Double> wc = cpu.get("weights, codec on|" + step);
            List<Double> rc = cpu.get("random, codec off|" + step);
            List<Double> wall = new ArrayList<>();
            List<Double> cpus = new ArrayList<>();
            StringBuilder perRound = new StringBuilder();
            for (int i = 0; i < ws.size(); i++) {
                wall.add(ws.get(i) / rs.get(i));
                cpus.add(wc.get(i) / rc.get(i));
                perRound.append(String.format(" %.2f/%.2f", wall.get(i), cpus.get(i)));
            }
            System.out.printf("%-12s weights-on / random-off, wall/CPU per round:%s; median wall %.2f, median CPU %.2f, "
                    + "ratio of summed CPU %.3f%n", step, perRound, median(wall), median(cpus),
                    wc.stream().mapToDouble(Double::doubleValue).sum() / rc.stream().mapToDouble(Double::doubleValue).sum());
        }
        System.out.println();
        System.out.printf("weights raw %d bytes; zstd -3 of the files: %s%n", weightsRaw,
                zstd < 0 ? "zstd not installed" : String.format("%d (%.4fx)", zstd, zstd / (double) weightsRaw));
        for (Config c : configs) {
            boolean w = c.workload().equals("weights");
            long raw = w ? weightsRaw : randomRaw;
            long changed = w ? weightsChanged : randomChanged;
            long full = stored.get(c.label() + "|full");
            long inc = stored.get(c.label() + "|incremental");
            System.out.printf("%-20s full stored %d (%.4fx raw); incremental stored %d (%.3fx of %d rewritten bytes)%n", c.label(),
                    full, full / (double) raw, inc, inc / (double) changed, changed);
        }
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private void record(Config c, String step, Step s) {
        if (!recording) {
            return;
        }
        String key = c.label() + "|" + step;
        seconds.computeIfAbsent(key, k -> new ArrayList<>()).add(s.seconds());
        rss.computeIfAbsent(key, k -> new ArrayList<>()).add(s.rssKiB());
        cpu.computeIfAbsent(key, k -> new ArrayList<>()).add(s.cpuSeconds());
    }

    private Step dr4j(List<String> args) throws Exception {
        Path rssFile = Files.createTempFile("rss", ".txt");
        try {
            List<String> command = new ArrayList<>(List.of("/usr/bin/time", "-f", "%M %U %S", "-o", rssFile.toString(),
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", cli.toString()));
            command.addAll(args);
            BenchFiles.run(List.of("sync"), Map.of());
            long start = System.nanoTime();
            BenchFiles.run(command, Map.of("DR4J_PASSWORD", PASSWORD));
            double s = (System.nanoTime() - start) / 1e9;
            String[] last = Files.readString(rssFile).trim().lines().reduce((a, b) -> b).orElse("-1 0 0").trim().split(" ");
            return new Step(s, Long.parseLong(last[0]), Double.parseDouble(last[1]) + Double.parseDouble(last[2]));
        } finally {
            Files.deleteIfExists(rssFile);
        }
    }

    private static long zstdSize(Path root) throws Exception {
        if (!Files.isExecutable(Path.of("/usr/bin/zstd"))) {
            return -1;
        }
        long total = 0;
        List<Path> files;
        try (Stream<Path> walk = Files.walk(root)) {
            files = walk.filter(Files::isRegularFile).sorted().toList();
        }
        for (Path f : files) {
            Process p = new ProcessBuilder("/usr/bin/zstd", "-3", "-T1", "-q", "-c", f.toString())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            try (InputStream in = p.getInputStream()) {
                total += in.transferTo(java.io.OutputStream.nullOutputStream());
            }
            if (p.waitFor() != 0) {
                throw new IllegalStateException("zstd failed on " + f);
            }
        }
        return total;
    }
}
