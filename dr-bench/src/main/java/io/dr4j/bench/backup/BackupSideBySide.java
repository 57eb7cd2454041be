package io.dr4j.bench.backup;

import static io.dr4j.bench.BenchFiles.deleteTree;
import static io.dr4j.bench.BenchFiles.treeHash;
import static io.dr4j.bench.BenchFiles.treeSize;

import io.dr4j.bench.BenchFiles;
import io.dr4j.bench.CheckpointWorkload;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The side-by-side backup benchmark of DESIGN §7 and issue "backup engine": on the same data and
 * local disk, in one run, full backup of the checkpoint, incremental backup of version 2 and
 * restore of version 2, for dr4j as a user runs it (the {@code dr4j} CLI, {@code java -jar dr4j.jar}
 * with the JVM's default flags; library defaults: password key, encryption, dedup, fsync'd local
 * store, durable restore), {@code restic} (if installed; Debian package {@code restic}) and the
 * floors {@code cp -r} and {@code cp -r && sync} (a durable copy: this disk's physical limit).
 * Each step runs as its own process under {@code /usr/bin/time} (Debian package {@code time}) for
 * peak RSS; the objects each dr4j step wrote (new files in the repository) and read (ranged
 * reads, from the CLI's JSON) are reported. Restored trees are checked against the source by SHA-256.
 *
 * <p>With {@code --cold-restore} the runner empties the kernel's page cache ({@code sync}, then
 * {@code 3} into {@code /proc/sys/vm/drop_caches}; needs root) before every restore row, so that
 * each tool reads its repository (and {@code cp -r} its source) from the disk, as a restore after a
 * disaster does. Without it the restore rows are as the cache happens to be: restic's repository,
 * written through the page cache just before, is cached, while dr4j's packs are written with
 * {@code O_DIRECT} and are not, so the default restore rows compare a cached read with a disk read.
 *
 * <pre>
 * apt-get install -y restic time
 * mvn -B -q -pl dr-bench,examples -am package -DskipTests
 * java -cp dr-bench/target/benchmarks.jar io.dr4j.bench.backup.BackupSideBySide [--cli examples/target/dr4j.jar]
 *     [--shards 8] [--shard-mib 256] [--dir /path] [--dr4j-xmx 256m] [--durability power-loss|process-crash]
 *     [--cold-restore]
 * </pre>
 * Without {@code --cli} the dr4j steps run {@link Dr4jStep} (the library, default flags).
 */
public final class BackupSideBySide {

    private record Row(String tool, String step, double seconds, long bytes, long rssKiB, String note, double cpuSeconds) {
        Row(String tool, String step, double seconds, long bytes, long rssKiB, String note) {
            this(tool, step, seconds, bytes, rssKiB, note, -1);
        }
    }

    private final List<Row> rows = new ArrayList<>();
    private final Path dir;
    private final String jar;

    private final String dr4jXmx;
    private final Path cli;
    private final String durability;
    private final Map<String, Long> objects = new LinkedHashMap<>();
    private final boolean coldRestore;

    private BackupSideBySide(Path dir, String dr4jXmx, Path cli, String durability, boolean coldRestore) {
        this.dir = dir;
        this.coldRestore = coldRestore;
        this.dr4jXmx = dr4jXmx;
        this.cli = cli;
        this.durability = durability;
        this.jar = System.getProperty("java.class.path");
    }

    public static void main(String[] args) throws Exception {
        int shards = 8;
        long shardMiB = 256;
        String dr4jXmx = null;
        Path dir = null;
        Path cli = Files.isRegularFile(Path.of("examples/target/dr4j.jar")) ? Path.of("examples/target/dr4j.jar") : null;
        String durability = "power-loss";
        boolean coldRestore = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--shards" -> shards = Integer.parseInt(args[++i]);
                case "--shard-mib" -> shardMiB = Long.parseLong(args[++i]);
                case "--dir" -> dir = Path.of(args[++i]);
                case "--dr4j-xmx" -> dr4jXmx = args[++i];
                case "--cli" -> cli = Path.of(args[++i]);
                case "--library" -> cli = null;
                case "--durability" -> durability = args[++i];
                case "--cold-restore" -> coldRestore = true;
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (dir == null) {
            dir = Files.createTempDirectory(Path.of(System.getProperty("user.dir")), "dr4j-side-by-side");
        }
        System.out.println("dr4j runs as " + (cli == null ? "the library (Dr4jStep)" : "the CLI " + cli.toAbsolutePath())
                + (dr4jXmx == null ? " with the JVM's default flags" : " with -Xmx" + dr4jXmx)
                + (coldRestore ? "; page cache emptied before every restore row" : "; restore rows read what the page cache holds"));
        new BackupSideBySide(dir, dr4jXmx, cli == null ? null : cli.toAbsolutePath(), durability, coldRestore).run(new CheckpointWorkload(shards, shardMiB << 20, 20261126L));
    }

    private void run(CheckpointWorkload workload) throws Exception {
        deleteTree(dir);
        Files.createDirectories(dir);
        Path src = dir.resolve("checkpoint");
        workload.writeVersion1(src);
        long total = treeSize(src);
        boolean restic = onPath("restic");
        System.out.printf("workload: %d bytes in %s; restic %s%n", total, src, restic ? "found" : "not installed (skipped)");

        // full backup
        rows.add(timed("cp -r", "full", total, List.of("cp", "-r", src.toString(), dir.resolve("cp-full").toString())));
        deleteTree(dir.resolve("cp-full"));
        rows.add(timed("cp -r && sync", "full", total, List.of("sh", "-c", "cp -r '" + src + "' '" + dir.resolve("cp-full") + "' && sync")));
        long t0 = System.nanoTime();
        copyTree(src, dir.resolve("files-copy"));
        rows.add(new Row("Files.copy", "full", (System.nanoTime() - t0) / 1e9, total, -1, "in-process"));
        deleteTree(dir.resolve("files-copy"));
        Map<String, String> resticEnv = Map.of("RESTIC_REPOSITORY", dir.resolve("restic-repo").toString(),
                "RESTIC_PASSWORD", "side-by-side benchmark");
        if (restic) {
            BenchFiles.run(List.of("restic", "init", "-q"), resticEnv);
            rows.add(timed("restic", "full", total, List.of("restic", "backup", "-q", src.toString()), resticEnv));
        }
        Path repo = dir.resolve("dr4j-repo");
        runDr4j("init", repo.toString());
        rows.add(dr4j("full", total, "backup", repo.toString(), src.toString()));
        long dr4jFullStored = treeSize(repo);
        long resticFullStored = restic ? treeSize(dir.resolve("restic-repo")) : 0;

        // incremental backup of version 2
        long changed = workload.mutateToVersion2(src);
        if (restic) {
            rows.add(timed("restic", "incremental", total, List.of("restic", "backup", "-q", src.toString()), resticEnv));
        }
        rows.add(dr4j("incremental", total, "backup", repo.toString(), src.toString()));
        long dr4jV2Stored = treeSize(repo) - dr4jFullStored;
        long resticV2Stored = restic ? treeSize(dir.resolve("restic-repo")) - resticFullStored : 0;

        // restore of version 2
        String expected = treeHash(src);
        deleteTree(dir.resolve("cp-full"));
        dropCaches();
        rows.add(timed("cp -r", "restore", total, List.of("cp", "-r", src.toString(), dir.resolve("cp-restore").toString())));
        deleteTree(dir.resolve("cp-restore"));
        dropCaches();
        rows.add(timed("cp -r && sync", "restore", total, List.of("sh", "-c", "cp -r '" + src + "' '" + dir.resolve("cp-restore")
                + "' && sync")));
        deleteTree(dir.resolve("cp-restore"));
        if (restic) {
            Path target = dir.resolve("restic-restore");
            dropCaches();
            rows.add(timed("restic", "restore", total, List.of("restic", "restore", "latest", "-q", "--target", target.toString()),
                    resticEnv));
            deleteTree(target);
        }
        Path target = dir.resolve("dr4j-restore");
        dropCaches();
        rows.add(dr4j("restore", total, "restore", repo.toString(), target.toString()));
        String restored = treeHash(target);
        if (!restored.equals(expected)) {
            throw new IllegalStateException("dr4j restore differs from the source: " + restored + " vs " + expected);
        }
        deleteTree(target);

        print(changed, dr4jV2Stored, resticV2Stored);
        deleteTree(dir);
    }

    private void print(long changed, long dr4jV2, long resticV2) {
        System.out.println();
        System.out.printf("%-12s %-12s %9s %9s %9s %10s %14s%n", "tool", "step", "seconds", "CPU s", "MB/s", "peak RSS", "vs restic");
        Map<String, Double> resticSeconds = new LinkedHashMap<>();
        rows.stream().filter(r -> r.tool().equals("restic")).forEach(r -> resticSeconds.put(r.step(), r.seconds()));
        for (Row r : rows) {
            Double base = resticSeconds.get(r.step());
            System.out.printf("%-12s %-12s %9.2f %9s %9.0f %10s %14s%n", r.tool(), r.step(), r.seconds(),
                    r.cpuSeconds() < 0 ? "-" : String.format("%.2f", r.cpuSeconds()), r.bytes() / r.seconds() / 1e6,
                    r.rssKiB() < 0 ? "-" : (r.rssKiB() >> 10) + " MiB",
                    base == null ? "" : String.format("%.2fx faster", base / r.seconds()));
        }
        System.out.printf("%nbytes changed in v2: %d; stored for v2: dr4j %d (%.2fx)%s%n", changed, dr4jV2, dr4jV2 / (double) changed,
                resticV2 > 0 ? String.format(", restic %d (%.2fx)", resticV2, resticV2 / (double) changed) : "");
        objects.forEach((step, n) -> System.out.printf("dr4j objects %s: %d%n", step, n));
    }

    private static final String PASSWORD = "side-by-side benchmark";

    /** With {@code --cold-restore}: writes back dirty pages, then empties the page cache (root only; refused clearly otherwise). */
    private void dropCaches() throws Exception {
        if (!coldRestore) {
            return;
        }
        BenchFiles.run(List.of("sync"), Map.of());
        Path control = Path.of("/proc/sys/vm/drop_caches");
        try {
            Files.writeString(control, "3");
        } catch (IOException e) {
            throw new IllegalStateException("--cold-restore needs to write 3 to " + control
                    + " (run as root, or leave --cold-restore out): " + e, e);
        }
    }

    private Row dr4j(String step, long bytes, String... args) throws Exception {
        Path repo = Path.of(args[1]);
        long before = countFiles(repo);
        Row row = timed("dr4j", step, bytes, dr4jCommand(args), Map.of("DR4J_PASSWORD", PASSWORD));
        objects.put(step + " written", countFiles(repo) - before);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"storeReads\"\\s*:\\s*(\\d+)").matcher(row.note());
        if (m.find()) {
            objects.put(step + " read (ranged reads)", Long.parseLong(m.group(1)));
        }
        return row;
    }

    /** The command of one dr4j step: the CLI as a user types it, or the library through {@link Dr4jStep}. */
    private List<String> dr4jCommand(String... args) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        if (dr4jXmx != null) {
            command.add("-Xmx" + dr4jXmx);
        }
        if (cli == null) {
            command.addAll(List.of("-cp", jar, Dr4jStep.class.getName()));
            command.addAll(List.of(args));
            return command;
        }
        command.addAll(List.of("-jar", cli.toString()));
        switch (args[0]) {
            case "init" -> command.addAll(List.of("init", "-r", args[1]));
            case "backup" -> command.addAll(List.of("backup", "-r", args[1], "--json", args[2]));
            case "restore" -> command.addAll(List.of("restore", "-r", args[1], "--json", "--durability", durability, "latest", args[2]));
            default -> throw new IllegalArgumentException(args[0]);
        }
        return command;
    }

    private void runDr4j(String... args) throws Exception {
        BenchFiles.run(dr4jCommand(args), Map.of("DR4J_PASSWORD", PASSWORD));
    }

    private static long countFiles(Path root) throws IOException {
        if (!Files.exists(root)) {
            return 0;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(Files::isRegularFile).filter(p -> !root.relativize(p).toString().startsWith("locks")).count();
        }
    }

    private Row timed(String tool, String step, long bytes, List<String> command) throws Exception {
        return timed(tool, step, bytes, command, Map.of());
    }

    private Row timed(String tool, String step, long bytes, List<String> command, Map<String, String> env) throws Exception {
        Path rss = Files.createTempFile("rss", ".txt");
        List<String> full = new ArrayList<>();
        boolean time = Files.isExecutable(Path.of("/usr/bin/time"));
        if (time) {
            full.addAll(List.of("/usr/bin/time", "-f", "%M %U %S", "-o", rss.toString()));
        }
        full.addAll(command);
        BenchFiles.run(List.of("sync"), Map.of());
        long start = System.nanoTime();
        String out = BenchFiles.run(full, env);
        double seconds = (System.nanoTime() - start) / 1e9;
        // peak RSS in KiB, user and system CPU seconds (the last line: time prints a non-zero exit status before it)
        String[] usage = time ? Files.readString(rss).trim().lines().reduce((a, b) -> b).orElse("-1 -1 0").trim().split("\\s+")
                : new String[] {"-1", "-1", "0"};
        long kib = Long.parseLong(usage[0]);
        double cpu = Double.parseDouble(usage[1]) + Double.parseDouble(usage[2]);
        Files.deleteIfExists(rss);
        String note = out.lines().filter(l -> l.startsWith("RESULT") || l.contains("storeReads")).findFirst()
                .orElse(out.lines().filter(l -> l.startsWith("{")).findFirst().orElse(""));
        System.out.printf("%-8s %-12s %7.2f s %s%n", tool, step, seconds, note.length() > 160 ? note.substring(0, 160) : note);
        return new Row(tool, step, seconds, bytes, kib, note, cpu);
    }

    private static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) throws IOException {
                Files.createDirectories(to.resolve(from.relativize(d)));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
                Files.copy(f, to.resolve(from.relativize(f)), StandardCopyOption.COPY_ATTRIBUTES);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
