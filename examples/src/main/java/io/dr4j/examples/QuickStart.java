package io.dr4j.examples;

import io.dr4j.backup.BackupOptions;
import io.dr4j.backup.InitOptions;
import io.dr4j.backup.KeyProvider;
import io.dr4j.backup.Repository;
import io.dr4j.backup.RepositoryOptions;
import io.dr4j.backup.RestoreOptions;
import io.dr4j.backup.RestoreResult;
import io.dr4j.backup.Snapshot;
import io.dr4j.backup.SnapshotFilter;
import io.dr4j.backup.VerifyLevel;
import io.dr4j.backup.VerifyReport;
import io.dr4j.drill.DrillReport;
import io.dr4j.drill.DrillRunner;
import io.dr4j.drill.RecoveryObjectives;
import io.dr4j.failover.Endpoint;
import io.dr4j.failover.FailoverHttpClient;
import io.dr4j.failover.FailoverRouter;
import io.dr4j.failover.InferenceResponse;
import io.dr4j.storage.LocalBlobStore;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

/**
 * dr4j in one minute, with no setup: generates a small model checkpoint, backs it up into an
 * encrypted local repository, changes it and backs up again (only the changed chunks are
 * stored), restores and verifies it, runs a DR drill and prints its report, then serves "model"
 * calls from two regions through the failover client, kills the primary region, and shows the
 * calls still succeeding. Everything lives in a temporary directory that is removed at the end.
 *
 * <p>Run: {@code mvn -B -q -pl examples -am package -DskipTests && java -jar examples/target/quickstart.jar}
 */
public final class QuickStart {

    private static final int SHARDS = 4;
    private static final int SHARD_SIZE = 4 << 20;

    private QuickStart() {
    }

    public static void main(String[] args) throws Exception {
        Path work = Files.createTempDirectory("dr4j-quickstart-");
        try {
            run(work);
        } finally {
            deleteTree(work);
        }
    }

    static void run(Path work) throws Exception {
        long started = System.nanoTime();
        Map<String, String> summary = new LinkedHashMap<>();
        Path checkpoint = work.resolve("checkpoints/llama-demo");
        step("1. Generating a checkpoint: " + SHARDS + " shards of " + mib(SHARD_SIZE) + " + config.json in " + checkpoint);
        generateCheckpoint(checkpoint);

        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key); // a real deployment keeps this in a secrets manager
        RepositoryOptions options = RepositoryOptions.builder().noCache().build();
        try (LocalBlobStore store = LocalBlobStore.open(work.resolve("repository"));
                Repository repo = Repository.init(store, KeyProvider.rawKey(key), InitOptions.defaults(), options)) {
            step("2. Backing up into an encrypted repository (" + store.name() + ")");
            Snapshot v1 = repo.backup(checkpoint, BackupOptions.builder().label("model", "llama-demo").label("step", "1000").build());
            say("snapshot %s: %s in %d files, %s stored, %s", shortId(v1), mib(v1.totalBytes()), v1.stats().files(),
                    mib(v1.stats().newBytesStored()), ms(v1.stats().duration()));

            step("3. Fine-tuning changes 10% of one shard; backing up incrementally");
            touchCheckpoint(checkpoint);
            Snapshot v2 = repo.backup(checkpoint, BackupOptions.builder().label("model", "llama-demo").label("step", "1100").build());
            say("snapshot %s: %s in %d files, only %s new (%d new chunks, %d reused), %s", shortId(v2), mib(v2.totalBytes()),
                    v2.stats().files(), mib(v2.stats().newBytesStored()), v2.stats().newChunks(), v2.stats().reusedChunks(),
                    ms(v2.stats().duration()));
            summary.put("incremental backup", mib(v2.stats().newBytesStored()) + " stored for a " + mib(v2.totalBytes()) + " checkpoint");

            step("4. Restoring the latest snapshot and comparing it with the original");
            Path restored = work.resolve("restored");
            RestoreResult r = repo.restoreLatest(SnapshotFilter.ALL.andLabel("model", "llama-demo"), restored, RestoreOptions.defaults());
            boolean identical = treeDigest(checkpoint).equals(treeDigest(restored));
            say("restored %d files, %s in %s; identical to the source: %s", r.files(), mib(r.bytes()), ms(r.duration()),
                    identical ? "yes" : "NO");
            if (!identical) {
                throw new IllegalStateException("the restored checkpoint differs from the source");
            }
            summary.put("restore", "byte-identical, " + ms(r.duration()));

            step("5. Verifying every chunk of the snapshot");
            VerifyReport verify = repo.verify(v2.id(), VerifyLevel.DATA);
            say("%d chunks, %s authenticated: %s", verify.chunksChecked(), mib(verify.bytesChecked()), verify.ok() ? "intact" : "DAMAGED");
            if (!verify.ok()) {
                throw new IllegalStateException("verification found problems: " + verify.problems());
            }
            summary.put("verify", verify.chunksChecked() + " chunks intact");

            step("6. Running a DR drill (RPO 1 h, RTO 1 min) with a smoke check that loads the config");
            RecoveryObjectives objectives = RecoveryObjectives.builder("llama-demo")
                    .snapshots(SnapshotFilter.ALL.andLabel("model", "llama-demo"))
                    .rpo(Duration.ofHours(1)).rto(Duration.ofMinutes(1)).build();
            DrillReport report = DrillRunner.builder(repo).objectives(objectives).scratchDirectory(work.resolve("scratch"))
                    .smokeCheck(dir -> {
                        String config = Files.readString(dir.resolve("config.json"));
                        if (!config.contains("\"num_shards\": " + SHARDS)) {
                            throw new IllegalStateException("config.json does not describe " + SHARDS + " shards");
                        }
                    }).build().run();
            System.out.print(indent(report.toText()));
            if (!report.passed()) {
                throw new IllegalStateException("the drill failed: " + report.findings());
            }
            summary.put("DR drill", report.outcome() + ", recovered in " + ms(report.figures().recoveryTime().orElseThrow()));
        }

        step("7. Serving a model from two regions through the failover client");
        try (LocalModelEndpoint east = LocalModelEndpoint.start("us-east");
                LocalModelEndpoint west = LocalModelEndpoint.start("eu-west")) {
            FailoverRouter<URI> router = FailoverRouter.<URI>builder().name("quickstart")
                    .endpoint(Endpoint.of("us-east", "us-east", 0, east.uri()))
                    .endpoint(Endpoint.of("eu-west", "eu-west", 1, west.uri()))
                    .build();
            try (FailoverHttpClient client = FailoverHttpClient.builder(router)
                    .tryTimeout(Duration.ofSeconds(2)).deadline(Duration.ofSeconds(10)).build()) {
                List<String> before = calls(client, 5);
                say("5 calls answered by: %s", before);
                say("killing the primary region (us-east)...");
                east.kill();
                List<String> after = calls(client, 5);
                say("5 calls answered by: %s", after);
                if (!after.stream().allMatch("eu-west"::equals)) {
                    throw new IllegalStateException("calls were not all served by the standby region: " + after);
                }
                summary.put("failover", "10/10 calls succeeded; after us-east died, eu-west served " + after.size());
            }
        }

        step("Summary");
        summary.forEach((k, v) -> say("%-20s %s", k, v));
        say("%-20s %s", "total time", ms(Duration.ofNanos(System.nanoTime() - started)));
        say("temporary files in %s are removed now; done.", work);
    }

    private static List<String> calls(FailoverHttpClient client, int n) {
        List<String> regions = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            InferenceResponse response = client.post("v1/chat/completions",
                    "{\"model\":\"demo\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}");
            regions.add(response.endpointId());
        }
        return regions;
    }

    static void generateCheckpoint(Path dir) throws IOException {
        Files.createDirectories(dir);
        Random random = new Random(42);
        byte[] shard = new byte[SHARD_SIZE];
        for (int i = 1; i <= SHARDS; i++) {
            random.nextBytes(shard); // incompressible, like bf16 weights
            Files.write(dir.resolve(String.format(Locale.ROOT, "model-%05d-of-%05d.safetensors", i, SHARDS)), shard);
        }
        Files.writeString(dir.resolve("config.json"), "{\"architecture\": \"demo\", \"hidden_size\": 4096, \"num_shards\": "
                + SHARDS + ", \"step\": 1000}\n");
    }

    /** Rewrites 10% of the first shard in the middle, as a partial fine-tune does, and bumps the step. */
    static void touchCheckpoint(Path dir) throws IOException {
        byte[] patch = new byte[SHARD_SIZE / 10];
        new Random(7).nextBytes(patch);
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve(String.format(Locale.ROOT, "model-%05d-of-%05d.safetensors", 1,
                SHARDS)).toFile(), "rw")) {
            f.seek(SHARD_SIZE / 3 + 12_345);
            f.write(patch);
        }
        Files.writeString(dir.resolve("config.json"), "{\"architecture\": \"demo\", \"hidden_size\": 4096, \"num_shards\": "
                + SHARDS + ", \"step\": 1100}\n");
    }

    /** A digest of every file's relative path and bytes. */
    static String treeDigest(Path root) throws IOException {
        MessageDigest tree = sha256();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.filter(Files::isRegularFile).sorted().toList()) {
                tree.update(root.relativize(p).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                tree.update(sha256().digest(Files.readAllBytes(p)));
            }
        }
        return HexFormat.of().formatHex(tree.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (e != null) {
                    throw new UncheckedIOException(e);
                }
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static void step(String text) {
        System.out.println();
        System.out.println("== " + text);
    }

    private static void say(String format, Object... args) {
        System.out.println("   " + String.format(Locale.ROOT, format, args));
    }

    private static String indent(String text) {
        return text.lines().map(l -> "   " + l + "\n").reduce("", String::concat);
    }

    private static String shortId(Snapshot s) {
        return s.id().value().substring(0, 8);
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    private static String ms(Duration d) {
        return d.toMillis() + " ms";
    }
}
