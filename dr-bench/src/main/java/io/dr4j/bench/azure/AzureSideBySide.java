package io.dr4j.bench.azure;

import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.BlobServiceClient;
import com.azure.storage.blob.BlobServiceClientBuilder;
import io.dr4j.azure.AzureBlobStore;
import io.dr4j.bench.BenchFiles;
import io.dr4j.bench.CheckpointWorkload;
import io.dr4j.storage.BlobKey;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Side-by-side upload and download of the DESIGN §7 checkpoint to Azurite on loopback: dr4j's
 * {@link AzureBlobStore} (put from file, get to file) against the Azure SDK's own
 * {@code BlobClient.uploadFromFile} / {@code downloadToFile} with default options, in the same
 * run, from the same files. Each tool uploads and then downloads the files against a freshly
 * started Azurite of its own (Azurite's bookkeeping grows with every blob it has stored, which
 * would tax whichever tool went second); the tools alternate who goes first from round to
 * round, every timed step starts after a {@code sync} so that none pays for another's
 * write-back, and the best round of each is summarised. Every downloaded file is checked
 * against its source. Besides wall time it reports the CPU seconds Azurite (a single-threaded Node process) and
 * this JVM spent in each phase: Azurite near one CPU-second per second means Azurite is the limit.
 *
 * <p>Run (after {@code mvn -B package -DskipTests}, which installs Azurite into dr-azure):
 * <pre>
 * java -cp dr-bench/target/benchmarks.jar io.dr4j.bench.azure.AzureSideBySide \
 *     --azurite dr-azure/node_modules [--shards 8] [--shard-mib 256] [--rounds 1] \
 *     [--block-mib 8] [--range-mib 8] [--concurrency 4] [--content-md5 true] [--single-put-mib 8] [--work /tmp/dr4j-azure-bench]
 * </pre>
 * Needs Node.js; needs about 3 × shards × shard-mib of free disk under {@code --work}.
 */
public final class AzureSideBySide {

    private static final String ACCOUNT = "devstoreaccount1";
    private static final String KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private AzureSideBySide() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = parse(args);
        int shards = Integer.parseInt(opts.getOrDefault("shards", "8"));
        long shardMib = Long.parseLong(opts.getOrDefault("shard-mib", "256"));
        int rounds = Integer.parseInt(opts.getOrDefault("rounds", "1"));
        long blockMib = Long.parseLong(opts.getOrDefault("block-mib", Long.toString(AzureBlobStore.DEFAULT_BLOCK_SIZE >> 20)));
        long rangeMib = Long.parseLong(opts.getOrDefault("range-mib", Long.toString(AzureBlobStore.DEFAULT_RANGE_SIZE >> 20)));
        int concurrency = Integer.parseInt(opts.getOrDefault("concurrency", Integer.toString(AzureBlobStore.DEFAULT_CONCURRENCY)));
        long singlePutMib = Long.parseLong(opts.getOrDefault("single-put-mib", "-1"));
        boolean contentMd5 = Boolean.parseBoolean(opts.getOrDefault("content-md5", "true"));
        Path azuriteMain = azuriteMain(Path.of(opts.getOrDefault("azurite", "dr-azure/node_modules")));
        Path work = Path.of(opts.getOrDefault("work", System.getProperty("java.io.tmpdir") + "/dr4j-azure-bench"));

        BenchFiles.deleteTree(work);
        Files.createDirectories(work);
        CheckpointWorkload workload = new CheckpointWorkload(shards, shardMib << 20, 20261126L);
        System.out.printf("generating %d x %d MiB in %s%n", shards, shardMib, work.resolve("src"));
        List<Path> sources = workload.writeVersion1(work.resolve("src"));
        Map<Path, Long> sourceCrcs = new LinkedHashMap<>();
        for (Path p : sources) {
            sourceCrcs.put(p, crc(p));
        }
        long totalBytes = workload.totalBytes();

        List<Row> rows = new ArrayList<>();
        long threshold = singlePutMib < 0 ? Math.min(blockMib << 20, 256L << 20) : singlePutMib << 20;
        try {
            for (int round = 1; round <= rounds; round++) {
                // alternate who goes first, and give each tool a fresh Azurite: Azurite's own
                // bookkeeping grows with every blob it has seen, which would tax whoever goes second
                for (boolean sdkTurn : round % 2 == 1 ? List.of(true, false) : List.of(false, true)) {
                    Path out = Files.createDirectories(work.resolve("out"));
                    int port = freePort();
                    Path data = work.resolve("azurite-" + round + (sdkTurn ? "-sdk" : "-dr4j"));
                    Process azurite = startAzurite(azuriteMain, port, data);
                    try {
                        String cs = "DefaultEndpointsProtocol=http;AccountName=" + ACCOUNT + ";AccountKey=" + KEY
                                + ";BlobEndpoint=http://127.0.0.1:" + port + "/" + ACCOUNT + ";";
                        BlobServiceClient sdk = new BlobServiceClientBuilder().connectionString(cs).buildClient();
                        BlobContainerClient container = sdk.getBlobContainerClient("bench");
                        container.create();
                        if (sdkTurn) {
                            rows.add(measure(round, "azure-sdk uploadFromFile", "upload", totalBytes, azurite, () -> {
                                for (Path p : sources) {
                                    container.getBlobClient(p.getFileName().toString()).uploadFromFile(p.toString(), true);
                                }
                            }));
                            rows.add(measure(round, "azure-sdk downloadToFile", "download", totalBytes, azurite, () -> {
                                for (Path p : sources) {
                                    container.getBlobClient(p.getFileName().toString())
                                            .downloadToFile(out.resolve(p.getFileName()).toString(), true);
                                }
                            }));
                            verify(sourceCrcs, out, "azure-sdk");
                        } else {
                            try (AzureBlobStore store = AzureBlobStore.builder().connectionString(cs, "bench")
                                    .blockSize(blockMib << 20).rangeSize(rangeMib << 20).concurrency(concurrency)
                                    .contentMd5(contentMd5).singlePutThreshold(threshold).build()) {
                                rows.add(measure(round, "dr4j AzureBlobStore.put", "upload", totalBytes, azurite, () -> {
                                    for (Path p : sources) {
                                        store.put(BlobKey.of(p.getFileName().toString()), p);
                                    }
                                }));
                                rows.add(measure(round, "dr4j AzureBlobStore.get", "download", totalBytes, azurite, () -> {
                                    for (Path p : sources) {
                                        try (InputStream in = store.get(BlobKey.of(p.getFileName().toString()));
                                                OutputStream o = Files.newOutputStream(out.resolve(p.getFileName()),
                                                        StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                                                        StandardOpenOption.WRITE)) {
                                            in.transferTo(o);
                                        }
                                    }
                                }));
                            }
                            verify(sourceCrcs, out, "dr4j");
                        }
                    } finally {
                        azurite.destroy();
                        if (!azurite.waitFor(10, TimeUnit.SECONDS)) {
                            azurite.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
                        }
                        BenchFiles.deleteTree(data);
                        BenchFiles.deleteTree(out);
                    }
                }
            }
        } finally {
            BenchFiles.deleteTree(work);
        }
        print(rows, shards, shardMib, blockMib, rangeMib, concurrency + (contentMd5 ? "" : ", no Content-MD5")
                + (singlePutMib < 0 ? "" : ", single put up to " + singlePutMib + " MiB"));
    }

    private record Row(int round, String tool, String direction, double seconds, long bytes, double azuriteCpu,
            double jvmCpu) {
        double mbPerSecond() {
            return bytes / 1e6 / seconds;
        }
    }

    @FunctionalInterface
    private interface Body {
        void run() throws Exception;
    }

    private static Row measure(int round, String tool, String direction, long bytes, Process azurite, Body body)
            throws Exception {
        settle();
        System.out.printf("round %d: %s %s...%n", round, tool, direction);
        double azuriteBefore = cpuSeconds(azurite.pid());
        double jvmBefore = jvmCpuSeconds();
        long t0 = System.nanoTime();
        body.run();
        double seconds = (System.nanoTime() - t0) / 1e9;
        return new Row(round, tool, direction, seconds, bytes, cpuSeconds(azurite.pid()) - azuriteBefore,
                jvmCpuSeconds() - jvmBefore);
    }

    /**
     * Flushes dirty pages (the previous step's writes) before a timed step, so that no step pays
     * for another's write-back, then lets the machine settle for a second.
     */
    private static void settle() throws IOException, InterruptedException {
        Process sync = new ProcessBuilder("sync").redirectErrorStream(true).start();
        sync.getInputStream().readAllBytes();
        sync.waitFor(5, TimeUnit.MINUTES);
        Thread.sleep(1000);
    }

    private static void print(List<Row> rows, int shards, long shardMib, long blockMib, long rangeMib, String concurrency) {
        System.out.printf("%nAzure side by side: %d x %d MiB to Azurite on 127.0.0.1; dr4j block %d MiB, range %d MiB, "
                + "concurrency %s; SDK defaults%n", shards, shardMib, blockMib, rangeMib, concurrency);
        System.out.printf("%-5s %-28s %-9s %9s %9s %7s %12s %9s%n", "round", "tool", "direction", "seconds", "MB/s",
                "ratio", "azurite-cpu", "jvm-cpu");
        for (Row r : rows) {
            Row sdk = rows.stream().filter(o -> o.round == r.round && o.direction.equals(r.direction)
                    && o.tool.startsWith("azure-sdk")).findFirst().orElse(r);
            System.out.printf(Locale.ROOT, "%-5d %-28s %-9s %9.2f %9.1f %7.2f %11.1fs %8.1fs%n", r.round, r.tool,
                    r.direction, r.seconds, r.mbPerSecond(), r.mbPerSecond() / sdk.mbPerSecond(), r.azuriteCpu, r.jvmCpu);
        }
        System.out.println("ratio = MB/s relative to the SDK in the same round and direction; all downloads verified "
                + "byte for byte (CRC-32C of every file).");
        System.out.printf("%nbest of %d rounds%n", rows.stream().mapToInt(Row::round).max().orElse(0));
        for (String direction : List.of("upload", "download")) {
            double sdkBest = rows.stream().filter(r -> r.direction.equals(direction) && r.tool.startsWith("azure-sdk"))
                    .mapToDouble(Row::mbPerSecond).max().orElse(Double.NaN);
            double dr4jBest = rows.stream().filter(r -> r.direction.equals(direction) && r.tool.startsWith("dr4j"))
                    .mapToDouble(Row::mbPerSecond).max().orElse(Double.NaN);
            System.out.printf(Locale.ROOT, "%-9s azure-sdk %7.1f MB/s   dr4j %7.1f MB/s   dr4j/sdk %.2f%n", direction,
                    sdkBest, dr4jBest, dr4jBest / sdkBest);
        }
    }

    private static void verify(Map<Path, Long> sourceCrcs, Path outDir, String tool) throws IOException {
        for (Map.Entry<Path, Long> e : sourceCrcs.entrySet()) {
            Path copy = outDir.resolve(e.getKey().getFileName());
            if (Files.size(copy) != Files.size(e.getKey()) || crc(copy) != e.getValue()) {
                throw new IllegalStateException(tool + " downloaded different bytes for " + e.getKey().getFileName());
            }
        }
    }

    private static long crc(Path p) throws IOException {
        CRC32C crc = new CRC32C();
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(p)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                crc.update(buf, 0, n);
            }
        }
        return crc.getValue();
    }

    /** CPU seconds (user + system) of a process, from /proc; NaN where /proc is missing. */
    private static double cpuSeconds(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
            return ticks / 100.0; // USER_HZ is 100 on Linux
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    private static double jvmCpuSeconds() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getProcessCpuTime() / 1e9;
        }
        return Double.NaN;
    }

    private static Process startAzurite(Path main, int port, Path location) throws IOException, InterruptedException {
        Files.createDirectories(location);
        Process p = new ProcessBuilder(List.of("node", main.toString(), "--blobHost", "127.0.0.1", "--blobPort",
                Integer.toString(port), "--location", location.toString(), "--silent", "--skipApiVersionCheck",
                "--loose", "--disableTelemetry"))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(location.resolve("azurite.log").toFile()))
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            if (!p.isAlive()) {
                throw new IllegalStateException("Azurite exited with " + p.exitValue() + "; see "
                        + location.resolve("azurite.log"));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return p;
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline) {
                    p.destroyForcibly();
                    throw new IllegalStateException("Azurite did not listen on 127.0.0.1:" + port);
                }
                p.waitFor(50, TimeUnit.MILLISECONDS);
            }
        }
    }

    private static Path azuriteMain(Path given) {
        for (Path candidate : List.of(given.resolve("azurite/dist/src/blob/main.js"), given.resolve("dist/src/blob/main.js"))) {
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new IllegalArgumentException("no Azurite under " + given.toAbsolutePath()
                + ": pass --azurite <dr-azure/node_modules> after building dr-azure (npm ci)");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> opts = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("usage: AzureSideBySide --azurite <dr-azure/node_modules> [--shards N] "
                        + "[--shard-mib M] [--rounds R] [--block-mib B] [--range-mib R] [--concurrency C] [--content-md5 true|false] [--single-put-mib S] [--work DIR]; "
                        + "bad argument '" + args[i] + "'");
            }
            opts.put(args[i].substring(2), args[++i]);
        }
        return opts;
    }
}
