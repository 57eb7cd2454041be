package io.dr4j.aws;

import static org.assertj.core.api.Assertions.assertThat;

import io.dr4j.backup.KeyProvider;
import io.dr4j.backup.Repository;
import io.dr4j.backup.RepositoryOptions;
import io.dr4j.backup.RestoreOptions;
import io.dr4j.backup.RetentionPolicy;
import io.dr4j.backup.Snapshot;
import io.dr4j.backup.TestRepos;
import io.dr4j.backup.VerifyLevel;
import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobStore;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many writers on S3 (issue 12): two backup processes, separate JVMs connected to this JVM's
 * S3Proxy as two hosts would be, back up different trees that share base weights into one
 * repository at once; then a prune. Every snapshot verifies with its data and restores byte for
 * byte, before and after the prune. The local store's version, with four processes, is
 * {@code CrashTest.fourConcurrentBackupProcessesAndAPruneAfterThemLoseNothing}.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class S3ConcurrentBackupProcessesTest {

    private static final String PREFIX = "dr4j/shared";

    @RegisterExtension
    static final S3ProxyServer server = new S3ProxyServer();

    @TempDir
    Path tmp;

    private BlobStore store(String bucket) {
        return server.storeBuilder(bucket).keyPrefix(PREFIX).build();
    }

    @Test
    void twoBackupProcessesIntoOneBucketAndAPruneAfterThemLoseNothing() throws Exception {
        String bucket = server.newBucket();
        try (BlobStore store = store(bucket)) {
            TestRepos.create(store).close();
        }
        byte[] base = TestRepos.random(900, 2 << 20); // the same base weights in both trees: the writers race to store it
        List<Path> sources = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            Path source = TestRepos.checkpoint(tmp.resolve("host-" + w), 910 + 2 * w);
            Files.write(source.resolve("base.bin"), base);
            sources.add(source);
        }
        List<Process> children = new ArrayList<>();
        try {
            for (int w = 0; w < 2; w++) {
                children.add(start(server.endpoint().toString(), bucket, PREFIX, sources.get(w).toString(), "host-" + w));
            }
            List<BufferedReader> outputs = new ArrayList<>();
            for (Process child : children) {
                BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
                outputs.add(out);
                assertThat(awaitLine(out, "ready")).as("a writer opened the repository").isNotNull();
            }
            for (Process child : children) {
                Writer in = new java.io.OutputStreamWriter(child.getOutputStream(), StandardCharsets.UTF_8);
                in.write("go\n");
                in.flush();
            }
            for (int w = 0; w < 2; w++) {
                assertThat(awaitLine(outputs.get(w), "done")).as("writer %d finished its backup", w).isNotNull();
                assertThat(children.get(w).waitFor(1, TimeUnit.MINUTES)).isTrue();
                assertThat(children.get(w).exitValue()).isZero();
            }
        } finally {
            for (Process child : children) {
                child.destroyForcibly();
            }
        }

        // threshold 0: every pack with dead bytes is repacked, wherever the writers' threads put host-1's chunks
        RepositoryOptions pruner = RepositoryOptions.builder().noCache().host("pruner").pruneGracePeriod(Duration.ZERO)
                .repackThreshold(0).build();
        try (BlobStore store = store(bucket);
             Repository repo = Repository.open(store, KeyProvider.rawKey(TestRepos.RAW_KEY), pruner)) {
            List<Snapshot> snapshots = repo.snapshots();
            assertThat(snapshots).extracting(Snapshot::host).containsExactlyInAnyOrder("host-0", "host-1");
            Snapshot a = snapshots.get(0);
            Snapshot b = snapshots.get(1);
            assertThat(a.time().isBefore(b.time().plus(b.stats().duration())) && b.time().isBefore(a.time().plus(a.stats().duration())))
                    .as("the two backups ran at once: %s for %s and %s for %s", a.time(), a.stats().duration(), b.time(),
                            b.stats().duration())
                    .isTrue();
            checkAll(repo, snapshots, sources);
            long before = packBytes(store);
            repo.forget(RetentionPolicy.builder().keepTags("host-0").build(), false);
            assertThat(repo.prune(false).snapshots()).isEqualTo(1);
            assertThat(packBytes(store)).as("host-1's own chunks are reclaimed").isLessThan(before);
            assertThat(repo.snapshots()).extracting(Snapshot::host).containsExactly("host-0");
            checkAll(repo, repo.snapshots(), sources);
        }
    }

    private void checkAll(Repository repo, List<Snapshot> snapshots, List<Path> sources) throws IOException {
        for (Snapshot s : snapshots) {
            assertThat(repo.verify(s.id(), VerifyLevel.DATA).problems()).as("snapshot of %s", s.host()).isEmpty();
            Path target = Files.createTempDirectory(tmp, "check-").resolve(s.host());
            repo.restore(s.id(), target, RestoreOptions.defaults());
            Path source = sources.get(s.host().equals("host-0") ? 0 : 1);
            assertThat(TestRepos.sameTree(source, target)).as("restore of %s", s.host()).isTrue();
        }
    }

    private static long packBytes(BlobStore store) throws IOException {
        try (Stream<BlobInfo> packs = store.list("packs")) {
            return packs.mapToLong(BlobInfo::size).sum();
        }
    }

    private static Process start(String... args) throws IOException {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", classpath, S3BackupChild.class.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }

    /**
     * Reads the child's output until a line starting with {@code prefix} and returns it; null if
     * the child exited first (its watchdog bounds the wait). Other lines are echoed for diagnosis.
     */
    private static String awaitLine(BufferedReader out, String prefix) throws IOException {
        for (String line; (line = out.readLine()) != null; ) {
            if (line.startsWith(prefix)) {
                return line;
            }
            System.out.println("child: " + line);
        }
        return null;
    }
}
