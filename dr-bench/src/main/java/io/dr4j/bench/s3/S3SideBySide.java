package io.dr4j.bench.s3;

import io.dr4j.aws.S3BlobStore;
import io.dr4j.bench.BenchFiles;
import io.dr4j.bench.CheckpointWorkload;
import io.dr4j.storage.BlobKey;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.transfer.s3.S3TransferManager;
import software.amazon.awssdk.transfer.s3.model.FileDownload;
import software.amazon.awssdk.transfer.s3.model.FileUpload;

/**
 * Side-by-side S3 upload and download of the DESIGN §7 checkpoint (8 × 256 MiB of random bytes
 * plus a config file) against one S3Proxy on loopback ({@code filesystem-nio2} in a temporary
 * directory), in the same run: dr4j's {@link S3BlobStore} (parallel multipart, parallel ranged
 * reads), the AWS S3 Transfer Manager on the Java (CRT-less) async client (multipart uploads;
 * downloads through a plain async client, see below), and {@code rclone} if it is installed. Every download is compared byte for byte with the source.
 * Prints tool, direction, seconds, MB/s (10^6 bytes) and the ratio to the best tool.
 *
 * <pre>
 * mvn -B -q -pl dr-bench -am package -DskipTests
 * java -cp dr-bench/target/benchmarks.jar io.dr4j.bench.s3.S3SideBySide [--shards 8] [--shard-mib 256]
 *      [--part-mib 16] [--concurrency 8] [--rounds 1] [--tools dr4j,dr4j-repo,tm,rclone]
 *      [--dr4j-files 4] [--dr4j-concurrency C]
 * </pre>
 *
 * {@code dr4j} runs the store with its defaults for an S3-compatible server on {@code http://}:
 * every body signed in full (its SHA-256 in {@code x-amz-content-sha256}, checked by S3Proxy), no
 * aws-chunked streaming, no {@code Content-MD5}. {@code dr4j-md5} adds a {@code Content-MD5} to
 * every part (the default over {@code https://}), to show what that costs. The Transfer Manager
 * runs with {@code WHEN_REQUIRED} checksums (S3Proxy refuses the SDK's flexible checksums).
 * dr4j puts and gets {@code --dr4j-files} files at a time through one store; the Transfer
 * Manager starts all files at once; rclone uses its defaults (4 transfers × 4 parts) with the
 * shared part size.
 *
 * Each tool uploads all shards to its own prefix, downloads them into an empty directory, and
 * its objects are deleted before the next tool runs; with {@code --rounds N} the tools take turns
 * N times and the best time of each is reported. All tools share the machine with S3Proxy, so
 * the figures are for this loopback setup only; run it on a quiet machine.
 */
public final class S3SideBySide {

    private static final String BUCKET = "bench";

    private final Path work;
    private final List<Path> files;
    private final long totalBytes;
    private final long partSize;
    private final int concurrency;
    private final URI endpoint;
    private final String accessKey;
    private final String secretKey;
    private final BenchS3Server server;
    private int filesAtOnce = 4;
    private int dr4jConcurrency;

    private S3SideBySide(Path work, List<Path> files, long partSize, int concurrency, URI endpoint,
            BenchS3Server server) throws IOException {
        this.work = work;
        this.files = files;
        long total = 0;
        for (Path f : files) {
            total += Files.size(f);
        }
        this.totalBytes = total;
        this.partSize = partSize;
        this.concurrency = concurrency;
        this.endpoint = endpoint;
        this.server = server;
        this.accessKey = server.accessKey();
        this.secretKey = server.secretKey();
    }

    public static void main(String[] args) throws Exception {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        Map<String, String> options = parse(args);
        int shards = Integer.parseInt(options.getOrDefault("shards", "8"));
        long shardMib = Long.parseLong(options.getOrDefault("shard-mib", "256"));
        long partSize = Long.parseLong(options.getOrDefault("part-mib", "16")) << 20;
        int concurrency = Integer.parseInt(options.getOrDefault("concurrency", "8"));
        int rounds = Integer.parseInt(options.getOrDefault("rounds", "1"));
        List<String> tools = List.of(options.getOrDefault("tools", "dr4j,tm,rclone").split(","));

        Path work = Files.createTempDirectory("dr4j-s3-bench");
        try {
            Path data = work.resolve("data");
            CheckpointWorkload workload = new CheckpointWorkload(shards, shardMib << 20, 20261126L);
            List<Path> files = new ArrayList<>(workload.writeVersion1(data));
            files.add(data.resolve("config.json"));
            Path s3dir = Files.createDirectories(work.resolve("s3proxy"));
            try (BenchS3Server server = BenchS3Server.start(s3dir)) {
                server.createBucket(BUCKET);
                URI endpoint = server.endpoint();
                S3SideBySide bench = new S3SideBySide(work, files, partSize, concurrency, endpoint, server);
                System.out.printf(Locale.ROOT, "workload: %d files, %.1f MB; part %d MiB, concurrency %d; S3Proxy %s (filesystem-nio2)%n",
                        files.size(), bench.totalBytes / 1e6, partSize >> 20, concurrency, endpoint);
                bench.filesAtOnce = Integer.parseInt(options.getOrDefault("dr4j-files", "4"));
                bench.dr4jConcurrency = Integer.parseInt(options.getOrDefault("dr4j-concurrency", String.valueOf(concurrency)));
                bench.run(tools, rounds);
            }
        } finally {
            BenchFiles.deleteTree(work);
        }
    }

    private record Result(String tool, String direction, double seconds) {
    }

    private void run(List<String> tools, int rounds) throws Exception {
        Map<String, Result> best = new LinkedHashMap<>();
        List<String> notes = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            for (String tool : tools) {
                double[] times;
                switch (tool) {
                    case "dr4j" -> times = dr4j(false);
                    case "dr4j-md5" -> times = dr4j(true);
                    case "dr4j-repo" -> times = dr4jRepository();
                    case "tm" -> times = transferManager();
                    case "rclone" -> {
                        if (!rcloneInstalled()) {
                            if (round == 0) {
                                notes.add("rclone: not installed (apt-get install rclone)");
                            }
                            continue;
                        }
                        times = rclone();
                    }
                    default -> throw new IllegalArgumentException("unknown tool " + tool + " (dr4j, dr4j-md5, tm, rclone)");
                }
                keepBest(best, new Result(label(tool), "upload", times[0]));
                keepBest(best, new Result(label(tool), "download", times[1]));
            }
        }
        System.out.printf(Locale.ROOT, "%-34s %-9s %9s %9s %8s%n", "tool", "direction", "seconds", "MB/s", "vs best");
        for (String direction : List.of("upload", "download")) {
            double fastest = best.values().stream().filter(r -> r.direction().equals(direction))
                    .mapToDouble(Result::seconds).min().orElse(Double.NaN);
            for (Result r : best.values()) {
                if (r.direction().equals(direction)) {
                    System.out.printf(Locale.ROOT, "%-34s %-9s %9.2f %9.1f %8.2f%n", r.tool(), direction, r.seconds(),
                            totalBytes / 1e6 / r.seconds(), r.seconds() / fastest);
                }
            }
        }
        notes.forEach(System.out::println);
    }

    private static void keepBest(Map<String, Result> best, Result r) {
        best.merge(r.tool() + "/" + r.direction(), r, (a, b) -> a.seconds() <= b.seconds() ? a : b);
    }

    private String label(String tool) {
        return switch (tool) {
            case "dr4j" -> "dr4j S3BlobStore (defaults)";
            case "dr4j-md5" -> "dr4j S3BlobStore (+Content-MD5)";
            case "dr4j-repo" -> "dr4j Repository backup/restore";
            case "tm" -> "AWS S3 Transfer Manager (Java)";
            default -> "rclone " + rcloneVersion();
        };
    }

    // ------------------------------------------------------------------------------------ dr4j

    @FunctionalInterface
    private interface FileTask {
        void run(Path file) throws IOException;
    }

    private void runAll(ExecutorService pool, FileTask task) throws Exception {
        List<Future<?>> futures = new ArrayList<>();
        for (Path f : files) {
            futures.add(pool.submit(() -> {
                task.run(f);
                return null;
            }));
        }
        for (Future<?> f : futures) {
            f.get();
        }
    }

    private double[] dr4j(boolean forceMd5) throws Exception {
        Path out = freshDir("out-dr4j");
        double[] times;
        io.dr4j.aws.S3BlobStoreBuilder builder = S3BlobStore.builder(BUCKET)
                .endpoint(endpoint).pathStyle(true).s3Compatible(true).conditionalPuts(false)
                .credentials(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)))
                .keyPrefix("dr4j").partSize(partSize).concurrency(dr4jConcurrency);
        if (forceMd5) {
            builder.contentMd5(true);
        }
        try (S3BlobStore store = builder.build()) {
            ExecutorService pool = Executors.newFixedThreadPool(filesAtOnce);
            try {
                long t0 = System.nanoTime();
                runAll(pool, f -> store.put(BlobKey.of(f.getFileName().toString()), f));
                double up = seconds(t0);
                long t1 = System.nanoTime();
                runAll(pool, f -> {
                    try (InputStream in = store.get(BlobKey.of(f.getFileName().toString()))) {
                        Files.copy(in, out.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                    }
                });
                double down = seconds(t1);
                times = new double[] {up, down};
            } finally {
                pool.shutdownNow();
            }
            verify("dr4j", out);
            for (Path f : files) {
                store.delete(BlobKey.of(f.getFileName().toString()));
            }
            return times;
        } finally {
            BenchFiles.deleteTree(out);
        }
    }

    /**
     * The backup engine on S3: a full backup of the checkpoint into a repository (chunked, hashed,
     * encrypted, in ~16 MiB packs) as "upload", and a restore of it (each pack fetched once by
     * ranged GETs, every chunk authenticated, files fsync'd and swapped in) as "download": what a
     * user gets next to {@code rclone copy} of the plain files from the same server.
     */
    private double[] dr4jRepository() throws Exception {
        Path out = work.resolve("out-dr4j-repo");
        BenchFiles.deleteTree(out);
        Path source = files.get(0).getParent().getParent();
        io.dr4j.aws.S3BlobStoreBuilder builder = S3BlobStore.builder(BUCKET)
                .endpoint(endpoint).pathStyle(true).s3Compatible(true).conditionalPuts(false)
                .credentials(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)))
                .keyPrefix("dr4j-repo");
        io.dr4j.backup.KeyProvider key = io.dr4j.backup.KeyProvider.rawKey(new byte[32]);
        io.dr4j.backup.RepositoryOptions options = io.dr4j.backup.RepositoryOptions.builder().noCache().build();
        double[] times = new double[2];
        try (S3BlobStore store = builder.build()) {
            io.dr4j.backup.Repository.init(store, key, io.dr4j.backup.InitOptions.defaults(), options).close();
            try (io.dr4j.backup.Repository repo = io.dr4j.backup.Repository.open(store, key, options)) {
                long t0 = System.nanoTime();
                io.dr4j.backup.Snapshot s = repo.backup(source);
                times[0] = seconds(t0);
                long t1 = System.nanoTime();
                io.dr4j.backup.RestoreResult r = repo.restore(s.id(), out, io.dr4j.backup.RestoreOptions.defaults());
                times[1] = seconds(t1);
                System.out.printf(Locale.ROOT, "dr4j-repo: %d chunks in %d ranged GETs for the restore%n",
                        s.stats().newChunks(), r.storeReads());
            }
            for (Path f : files) {
                if (!sameBytes(f, out.resolve(source.relativize(f)))) {
                    throw new IllegalStateException("dr4j-repo restored different bytes for " + f);
                }
            }
            try (java.util.stream.Stream<io.dr4j.storage.BlobInfo> all = store.list("")) {
                for (io.dr4j.storage.BlobInfo info : all.toList()) {
                    store.delete(info.key());
                }
            }
            return times;
        } finally {
            BenchFiles.deleteTree(out);
        }
    }

    // ------------------------------------------------------------------------ Transfer Manager

    private S3AsyncClient asyncClient(boolean multipart) {
        return S3AsyncClient.builder()
                .endpointOverride(endpoint).forcePathStyle(true).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)))
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                // all files start at once, as the Transfer Manager is used: give it enough
                // connections and patience that it is not failed by its own pool on a busy machine
                .httpClientBuilder(NettyNioAsyncHttpClient.builder()
                        .maxConcurrency(Math.max(64, files.size() * concurrency))
                        .connectionAcquisitionTimeout(Duration.ofMinutes(5)))
                .multipartEnabled(multipart)
                .multipartConfiguration(c -> c.minimumPartSizeInBytes(partSize).thresholdInBytes(partSize)
                        .apiCallBufferSizeInBytes(partSize * concurrency))
                .build();
    }

    /**
     * Uploads with the Java multipart client (parallel parts, all files at once). Downloads with
     * a plain async client, one GET per file, all files at once: the Java multipart download
     * fetches by part number, and S3Proxy answers part-number GETs without the Content-Range
     * the SDK requires ("Content range header is missing").
     */
    private double[] transferManager() throws Exception {
        Path out = freshDir("out-tm");
        try (S3AsyncClient uploadClient = asyncClient(true);
                S3AsyncClient downloadClient = asyncClient(false);
                S3TransferManager up = S3TransferManager.builder().s3Client(uploadClient).build();
                S3TransferManager down = S3TransferManager.builder().s3Client(downloadClient).build()) {
            long t0 = System.nanoTime();
            List<CompletableFuture<?>> uploads = new ArrayList<>();
            for (Path f : files) {
                FileUpload upload = up.uploadFile(u -> u.source(f)
                        .putObjectRequest(p -> p.bucket(BUCKET).key("tm/" + f.getFileName())));
                uploads.add(upload.completionFuture());
            }
            CompletableFuture.allOf(uploads.toArray(CompletableFuture[]::new)).join();
            double upSeconds = seconds(t0);
            long t1 = System.nanoTime();
            List<CompletableFuture<?>> downloads = new ArrayList<>();
            for (Path f : files) {
                FileDownload download = down.downloadFile(d -> d.destination(out.resolve(f.getFileName()))
                        .getObjectRequest(g -> g.bucket(BUCKET).key("tm/" + f.getFileName())));
                downloads.add(download.completionFuture());
            }
            CompletableFuture.allOf(downloads.toArray(CompletableFuture[]::new)).join();
            double downSeconds = seconds(t1);
            verify("Transfer Manager", out);
            for (Path f : files) {
                uploadClient.deleteObject(d -> d.bucket(BUCKET).key("tm/" + f.getFileName())).join();
            }
            return new double[] {upSeconds, downSeconds};
        } finally {
            BenchFiles.deleteTree(out);
        }
    }

    // ------------------------------------------------------------------------------------ rclone

    private static boolean rcloneInstalled() {
        try {
            Process p = new ProcessBuilder("rclone", "version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private static String rcloneVersion() {
        try {
            Process p = new ProcessBuilder("rclone", "version").redirectErrorStream(true).start();
            String first = new String(p.getInputStream().readAllBytes()).lines().findFirst().orElse("");
            p.waitFor(30, TimeUnit.SECONDS);
            return first.replace("rclone ", "").trim();
        } catch (IOException | InterruptedException e) {
            return "";
        }
    }

    private double[] rclone() throws Exception {
        Path out = freshDir("out-rclone");
        Path config = Files.writeString(work.resolve("rclone.conf"), "");
        try {
            // rclone's defaults (4 transfers × 4 parts) except the part size, which all tools share
            List<String> common = List.of("--config", config.toString(), "--s3-chunk-size", (partSize >> 20) + "M",
                    "--s3-upload-cutoff", (partSize >> 20) + "M", "--multi-thread-cutoff", (partSize >> 20) + "M");
            long t0 = System.nanoTime();
            rcloneRun(common, "copy", files.get(0).getParent().toString(), "bench:" + BUCKET + "/rclone");
            double up = seconds(t0);
            long t1 = System.nanoTime();
            rcloneRun(common, "copy", "bench:" + BUCKET + "/rclone", out.toString());
            double down = seconds(t1);
            verify("rclone", out);
            rcloneRun(common, "purge", "bench:" + BUCKET + "/rclone");
            return new double[] {up, down};
        } finally {
            BenchFiles.deleteTree(out);
        }
    }

    private void rcloneRun(List<String> common, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add("rclone");
        command.addAll(List.of(args));
        command.addAll(common);
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("AWS_") || k.startsWith("RCLONE_"));
        env.putAll(server.rcloneEnv("bench"));
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IOException("rclone " + String.join(" ", args) + " failed (" + p.exitValue() + "):\n" + output);
        }
    }

    // ------------------------------------------------------------------------------------ common

    private void verify(String tool, Path out) throws IOException {
        for (Path source : files) {
            Path copy = out.resolve(source.getFileName());
            if (!Files.exists(copy)) {
                throw new IllegalStateException(tool + " did not download " + source.getFileName());
            }
            if (!sameBytes(source, copy)) {
                throw new IllegalStateException(tool + " downloaded different bytes for " + source.getFileName());
            }
        }
    }

    private static boolean sameBytes(Path a, Path b) throws IOException {
        try (FileChannel ca = FileChannel.open(a, StandardOpenOption.READ);
                FileChannel cb = FileChannel.open(b, StandardOpenOption.READ)) {
            long size = ca.size();
            if (cb.size() != size) {
                return false;
            }
            long window = 64L << 20;
            for (long pos = 0; pos < size; pos += window) {
                long n = Math.min(window, size - pos);
                MappedByteBuffer ma = ca.map(FileChannel.MapMode.READ_ONLY, pos, n);
                MappedByteBuffer mb = cb.map(FileChannel.MapMode.READ_ONLY, pos, n);
                if (ma.mismatch(mb) >= 0) {
                    return false;
                }
            }
            return true;
        }
    }

    private Path freshDir(String name) throws IOException {
        Path dir = work.resolve(name);
        BenchFiles.deleteTree(dir);
        return Files.createDirectories(dir);
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("usage: S3SideBySide [--shards N] [--shard-mib M] [--part-mib P]"
                        + " [--concurrency C] [--rounds R] [--tools dr4j,dr4j-md5,tm,rclone] [--dr4j-files F]"
                        + " [--dr4j-concurrency C]; bad argument '" + args[i] + "'");
            }
            options.put(args[i].substring(2), args[++i]);
        }
        return options;
    }
}
