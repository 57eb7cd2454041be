package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;

import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.LocalBlobStore;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a child JVM with SIGKILL in the middle of backups and restores, then checks the
 * repository and the restore target: the kopia-style robustness test of DESIGN §8.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class CrashTest {

    @TempDir
    Path tmp;

    private Process start(String... args) throws IOException {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", classpath, CrashChild.class.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }

    /** Reads the child's output until a line starting with {@code prefix}; returns false if it exited first. */
    private static boolean awaitLine(BufferedReader out, String prefix) throws IOException {
        for (String line; (line = out.readLine()) != null; ) {
            if (line.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    private static void kill(Process p) throws InterruptedException {
        p.destroyForcibly(); // SIGKILL on POSIX: no shutdown hooks, no finally blocks
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void backupKilledAtRandomPointsLeavesTheRepositoryValid() throws Exception {
        Path repoDir = tmp.resolve("repo");
        Path source = TestRepos.checkpoint(tmp.resolve("ckpt"), 21);
        Files.write(source.resolve("shards/model-00001.safetensors"), TestRepos.random(22, 6 << 20));
        try (LocalBlobStore store = LocalBlobStore.open(repoDir)) {
            TestRepos.create(store).close();
        }
        Random random = new Random(2026);
        for (int kill = 0; kill < 4; kill++) {
            Process child = start("backup", repoDir.toString(), source.toString(), Long.toString(kill));
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                assertThat(awaitLine(out, "backup " + (kill % 2))).as("child started its backups").isTrue();
                Thread.sleep(random.nextInt(400)); // the point: a kill at a seeded random moment of the run, not at an event
                kill(child);
            }
        }
        try (LocalBlobStore store = LocalBlobStore.open(repoDir); Repository repo = TestRepos.open(store)) {
            List<Snapshot> snapshots = repo.snapshots();
            for (Snapshot s : snapshots) {
                VerifyReport report = repo.verify(s.id(), VerifyLevel.DATA);
                assertThat(report.problems()).as("snapshot %s", s.id()).isEmpty();
            }
            try (Stream<BlobInfo> tmpFiles = store.list("")) {
                assertThat(tmpFiles.map(i -> i.key().value())).noneMatch(k -> k.contains(".tmp"));
            }
            Snapshot next = repo.backup(source);
            assertThat(repo.verify(next.id(), VerifyLevel.DATA).ok()).isTrue();
            Path target = tmp.resolve("check");
            repo.restore(next.id(), target, RestoreOptions.defaults());
            assertThat(TestRepos.sameTree(source, target)).isTrue();
        }
    }

    @Test
    void fourConcurrentBackupProcessesAndAPruneAfterThemLoseNothing() throws Exception {
        Path repoDir = tmp.resolve("repo");
        try (LocalBlobStore store = LocalBlobStore.open(repoDir)) {
            TestRepos.create(store).close();
        }
        byte[] shared = TestRepos.random(500, 3 << 20); // the same base weights in every checkpoint: writers race to store it
        List<Path> sources = new ArrayList<>();
        List<Process> children = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            Path source = TestRepos.checkpoint(tmp.resolve("ckpt-" + w), 600 + w);
            Files.write(source.resolve("base.bin"), shared);
            sources.add(source);
        }
        for (int w = 0; w < 4; w++) {
            children.add(start("backup-once", repoDir.toString(), sources.get(w).toString(), "w" + w));
        }
        for (Process child : children) {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                assertThat(awaitLine(out, "done")).as("a writer finished its backup").isTrue();
            }
            assertThat(child.waitFor(2, TimeUnit.MINUTES)).isTrue();
            assertThat(child.exitValue()).isZero();
        }
        try (LocalBlobStore store = LocalBlobStore.open(repoDir); Repository repo = TestRepos.open(store)) {
            List<Snapshot> snapshots = repo.snapshots();
            assertThat(snapshots).hasSize(4);
            checkAll(repo, snapshots, sources);
            repo.forget(RetentionPolicy.builder().keepTags("w0").build(), false);
            assertThat(repo.prune(false).snapshots()).isEqualTo(1);
            checkAll(repo, repo.snapshots(), List.of(sources.get(0)));
        }
    }

    private void checkAll(Repository repo, List<Snapshot> snapshots, List<Path> sources) throws IOException {
        for (Snapshot s : snapshots) {
            assertThat(repo.verify(s.id(), VerifyLevel.DATA).problems()).as("snapshot %s", s.id()).isEmpty();
            Path source = sources.stream().filter(p -> s.source().equals(p.toAbsolutePath().normalize().toString())).findFirst()
                    .orElseThrow();
            Path target = Files.createTempDirectory(tmp, "check-").resolve(s.id().shortId());
            repo.restore(s.id(), target, RestoreOptions.defaults());
            assertThat(TestRepos.sameTree(source, target)).as("restore of %s", s.source()).isTrue();
        }
    }

    @Test
    void pruneKilledAtRandomPointsLeavesEveryLiveSnapshotRestorable() throws Exception {
        Path repoDir = tmp.resolve("repo");
        Path keep = TestRepos.checkpoint(tmp.resolve("keep"), 700);
        Files.write(keep.resolve("shards/model-00001.safetensors"), TestRepos.random(701, 4 << 20));
        Random random = new Random(702);
        Snapshot kept;
        try (LocalBlobStore store = LocalBlobStore.open(repoDir); Repository repo = TestRepos.create(store)) {
            kept = repo.backup(keep, BackupOptions.builder().tag("keep").build());
        }
        for (int kill = 0; kill < 4; kill++) {
            try (LocalBlobStore store = LocalBlobStore.open(repoDir); Repository repo = TestRepos.open(store)) {
                // garbage sharing packs with the kept snapshot's data, so that prune must repack, not just delete
                for (int g = 0; g < 3; g++) {
                    Path junk = TestRepos.checkpoint(tmp.resolve("junk-" + kill + "-" + g), 800 + 10 * kill + g);
                    Files.write(junk.resolve("keep-copy.bin"), Files.readAllBytes(keep.resolve("shards/model-00001.safetensors")));
                    repo.backup(junk);
                }
                repo.forget(RetentionPolicy.builder().keepTags("keep").build(), false);
            }
            Process child = start("prune", repoDir.toString());
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                assertThat(awaitLine(out, "pruning")).isTrue();
                Thread.sleep(random.nextInt(120)); // a seeded random kill moment (the point of the test)
                kill(child);
            }
            try (LocalBlobStore store = LocalBlobStore.open(repoDir); Repository repo = TestRepos.open(store)) {
                store.list("locks").forEach(l -> {
                    try {
                        store.delete(l.key()); // the killed prune's lock; it would only go stale after 30 minutes
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                assertThat(repo.snapshots()).extracting(Snapshot::id).containsExactly(kept.id());
                assertThat(repo.verify(kept.id(), VerifyLevel.DATA).problems()).isEmpty();
                Path target = tmp.resolve("check-" + kill);
                repo.restore(kept.id(), target, RestoreOptions.defaults());
                assertThat(TestRepos.sameTree(keep, target)).isTrue();
            }
        }
        try (LocalBlobStore store = LocalBlobStore.open(repoDir); Repository repo = TestRepos.open(store)) {
            repo.prune(false); // finishes what the killed prunes left
            assertThat(repo.verify(kept.id(), VerifyLevel.DATA).ok()).isTrue();
        }
    }

    @Test
    void restoreKilledMidwayLeavesTheTargetAsItWas() throws Exception {
        Path repoDir = tmp.resolve("repo");
        Path source = TestRepos.checkpoint(tmp.resolve("ckpt"), 31);
        Files.write(source.resolve("shards/model-00001.safetensors"), TestRepos.random(32, 12 << 20));
        Path target = tmp.resolve("serving");
        SnapshotId v2;
        try (LocalBlobStore store = LocalBlobStore.open(repoDir); Repository repo = TestRepos.create(store)) {
            Snapshot v1 = repo.backup(source);
            repo.restore(v1.id(), target, RestoreOptions.defaults());
            Files.write(source.resolve("shards/model-00001.safetensors"), TestRepos.random(33, 12 << 20));
            v2 = repo.backup(source).id();
        }
        Map<String, byte[]> before = TestRepos.contents(target);
        Random random = new Random(7);
        int sawOld = 0;
        for (int kill = 0; kill < 4; kill++) {
            Process child = start("restore", repoDir.toString(), v2.value(), target.toString());
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                assertThat(awaitLine(out, "restoring")).isTrue();
                Thread.sleep(random.nextInt(150)); // a seeded random kill moment (the point of the test)
                kill(child);
            }
            Repository.recoverRestore(target);
            Map<String, byte[]> now = TestRepos.contents(target);
            boolean old = sameContents(now, before);
            boolean restored = TestRepos.sameTree(source, target);
            assertThat(old || restored).as("target is either untouched or completely restored").isTrue();
            if (old) {
                sawOld++;
            } else {
                // completed before the kill: put the old version back to aim at the middle again
                try (LocalBlobStore store = LocalBlobStore.open(repoDir); Repository repo = TestRepos.open(store)) {
                    repo.restore(repo.snapshots().get(0).id(), target, RestoreOptions.builder().replaceExisting(true).build());
                }
                before = TestRepos.contents(target);
            }
        }
        assertThat(sawOld).as("at least one kill landed mid-restore").isPositive();
        // the next restore cleans up whatever the killed ones left and succeeds
        try (LocalBlobStore store = LocalBlobStore.open(repoDir); Repository repo = TestRepos.open(store)) {
            repo.restore(v2, target, RestoreOptions.builder().replaceExisting(true).build());
        }
        assertThat(TestRepos.sameTree(source, target)).isTrue();
        try (Stream<Path> siblings = Files.list(tmp)) {
            assertThat(siblings.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".dr4j-"));
        }
    }

    private static boolean sameContents(Map<String, byte[]> a, Map<String, byte[]> b) {
        if (!a.keySet().equals(b.keySet())) {
            return false;
        }
        return a.keySet().stream().allMatch(k -> java.util.Arrays.equals(a.get(k), b.get(k)));
    }
}
