package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.InMemoryBlobStore;
import io.dr4j.storage.LocalBlobStore;
import io.dr4j.testing.MutableClock;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Locks are judged by the store's clock, and {@code unlock} clears what killed operations leave. */
class LockTest {

    private static final Duration STALE = Duration.ofMinutes(30);

    @TempDir
    Path tmp;

    private final MutableClock storeClock = new MutableClock(Instant.parse("2026-12-01T12:00:00Z"));
    private final InMemoryBlobStore store = InMemoryBlobStore.builder("mem").clock(storeClock).build();

    private Clock hostClock(Duration skew) {
        return Clock.offset(storeClock, skew);
    }

    @Test
    void deadLockOfAHostWhoseClockRunsAnHourFastGoesStaleByTheStoresClock() throws Exception {
        // the fast host takes a lock and dies: its lock says "refreshed 13:00" at 12:00 store time
        RepositoryLock.acquire(store, RepositoryLock.Mode.SHARED, "fast-host", hostClock(Duration.ofHours(1)), STALE, "backup");
        storeClock.advance(Duration.ofMinutes(40));
        // 40 minutes without a rewrite by the store's clock: stale, although its own timestamp is still in the future
        assertThat(RepositoryLock.holders(store, STALE)).singleElement().satisfies(h -> {
            assertThat(h.refreshed()).isAfter(storeClock.instant());
            assertThat(h.stale()).isTrue();
        });
        try (RepositoryLock prune = RepositoryLock.acquire(store, RepositoryLock.Mode.EXCLUSIVE, "pruner", hostClock(Duration.ZERO),
                STALE, "prune")) {
            assertThat(prune).isNotNull();
        }
    }

    @Test
    void liveLockOfAHostWhoseClockRunsAnHourFastOrSlowIsNotTakenForStale() throws Exception {
        for (Duration skew : List.of(Duration.ofHours(1), Duration.ofHours(-1))) {
            try (RepositoryLock live = RepositoryLock.acquire(store, RepositoryLock.Mode.SHARED, "skewed-host", hostClock(skew),
                    STALE, "backup")) {
                storeClock.advance(Duration.ofMinutes(20));
                live.refresh("backup"); // the heartbeat: the store's modification time advances
                storeClock.advance(Duration.ofMinutes(20));
                // 40 minutes since it was taken, 20 since its refresh, by the store's clock: fresh, whatever the holder's clock says
                assertThatThrownBy(() -> RepositoryLock.acquire(store, RepositoryLock.Mode.EXCLUSIVE, "pruner",
                        hostClock(Duration.ZERO), STALE, "prune")).as("skew " + skew)
                        .isInstanceOf(RepositoryLockedException.class).hasMessageContaining("skewed-host");
                assertThat(RepositoryLock.holders(store, STALE)).singleElement().satisfies(h -> assertThat(h.stale()).isFalse());
                assertThat(RepositoryLock.removeStale(store, STALE)).isZero();
            }
        }
    }

    @Test
    void probesAndForeignKeysUnderLocksAreNotLocks() throws Exception {
        store.put(io.dr4j.storage.BlobKey.of("locks/README"), "not a lock".getBytes(StandardCharsets.UTF_8));
        assertThat(RepositoryLock.holders(store, STALE)).isEmpty();
        assertThat(RepositoryLock.storeNow(store)).isEqualTo(storeClock.instant());
        try (Stream<BlobInfo> left = store.list("")) {
            assertThat(left.map(i -> i.key().value())).containsExactly("locks/README");
        }
    }

    private Process startAbandoned(Path repoDir, Path source, int n) throws Exception {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        return new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx128m",
                "-XX:TieredStopAtLevel=1", "-cp", classpath, AbandonedBackupChild.class.getName(), repoDir.toString(),
                source.toString(), Integer.toString(n)).redirectErrorStream(true).start();
    }

    @Test
    void unlockClearsTheStaleLocksOfTwentyKilledBackupsAndKeepsLiveOnes() throws Exception {
        Path repoDir = Files.createDirectories(tmp.resolve("repo"));
        Path source = TestRepos.checkpoint(tmp.resolve("src"), 5);
        try (LocalBlobStore local = LocalBlobStore.open(repoDir)) {
            TestRepos.create(local).close();
        }
        for (int batch = 0; batch < 4; batch++) {
            List<Process> children = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                children.add(startAbandoned(repoDir, source, batch * 5 + i));
            }
            for (Process child : children) {
                BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
                StringBuilder seen = new StringBuilder();
                boolean stalled = false;
                for (String line; !stalled && (line = out.readLine()) != null; ) {
                    seen.append(line).append('\n');
                    stalled = line.equals("stalled");
                }
                assertThat(stalled).as(seen.toString()).isTrue();
                child.destroyForcibly(); // SIGKILL mid-upload: the lock stays behind
                assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            }
        }
        try (LocalBlobStore local = LocalBlobStore.open(repoDir); Repository repo = TestRepos.open(local)) {
            assertThat(RepositoryLock.holders(local, STALE)).hasSize(20).allSatisfy(h -> {
                assertThat(h.host()).startsWith("abandoned-");
                assertThat(h.stale()).isFalse(); // just written: a prune must still wait for them
            });
            assertThat(repo.unlock(false)).isEmpty();
            // half an hour passes on the store without the killed holders rewriting their locks
            try (Stream<Path> locks = Files.list(repoDir.resolve("locks"))) {
                for (Path lock : locks.toList()) {
                    Files.setLastModifiedTime(lock, FileTime.from(Instant.now().minus(STALE).minusSeconds(60)));
                }
            }
            try (RepositoryLock live = RepositoryLock.acquire(local, RepositoryLock.Mode.SHARED, "live-host", Clock.systemUTC(),
                    STALE, "a backup still running")) {
                List<LockInfo> removed = repo.unlock(false);
                assertThat(removed).hasSize(20).allSatisfy(l -> {
                    assertThat(l.stale()).isTrue();
                    assertThat(l.mode()).isEqualTo("shared");
                });
                assertThat(RepositoryLock.holders(local, STALE)).singleElement().satisfies(h -> assertThat(h.host()).isEqualTo("live-host"));
                // prune now runs beside nothing but the live backup's lock... and is refused by it
                assertThatThrownBy(() -> repo.prune(true)).isInstanceOf(RepositoryLockedException.class);
                // --all removes the live one too
                assertThat(repo.unlock(true)).singleElement().satisfies(l -> assertThat(l.host()).isEqualTo("live-host"));
            }
            assertThat(RepositoryLock.holders(local, STALE)).isEmpty();
            assertThat(repo.prune(false).snapshots()).isZero();
        }
    }
}
