package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.drill.DrillReport;
import io.dr4j.drill.DrillRunner;
import io.dr4j.drill.RecoveryObjectives;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.LocalBlobStore;
import io.dr4j.testing.MutableClock;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A store whose newest snapshots were deleted behind the client's back does not silently serve an older one. */
class RollbackDetectionTest {

    @TempDir
    Path tmp;

    private LocalBlobStore store;
    private Path source;
    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-01T00:00:00Z"));

    @BeforeEach
    void setUp() throws Exception {
        store = LocalBlobStore.open(Files.createDirectories(tmp.resolve("repo")));
        source = TestRepos.checkpoint(tmp.resolve("ckpt"), 1);
        TestRepos.create(store).close();
    }

    @AfterEach
    void tearDown() throws Exception {
        store.close();
    }

    /** A client with a cache of its own: the high-water marks live there. */
    private Repository client(String cache) {
        return Repository.open(store, KeyProvider.rawKey(TestRepos.RAW_KEY), RepositoryOptions.builder()
                .cacheDirectory(tmp.resolve(cache)).workers(2).ioConcurrency(4).inFlightBytes(8 << 20).host("test-host")
                .clock(clock).pruneGracePeriod(Duration.ZERO).build());
    }

    private Snapshot backupStep(Repository repo, int step) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(source.resolve("tiny").toFile(), "rw")) {
            f.write(step);
        }
        clock.advance(Duration.ofHours(1));
        return repo.backup(source, BackupOptions.builder().label("step", Integer.toString(step)).build());
    }

    private void deleteInStore(Snapshot s) throws Exception {
        store.delete(BlobKey.of("snapshots/" + s.id()));
    }

    @Test
    void deletingTheNewestManifestInTheStoreIsReportedByLatestRestoreLatestAndDrills() throws Exception {
        Snapshot newest;
        try (Repository repo = client("cache")) {
            backupStep(repo, 1);
            backupStep(repo, 2);
            newest = backupStep(repo, 3);
            assertThat(repo.latest(SnapshotFilter.ALL)).map(Snapshot::id).contains(newest.id());
        }
        deleteInStore(newest); // the attacker's rollback: step 2 now looks like the latest

        try (Repository repo = client("cache")) {
            assertThatThrownBy(() -> repo.latest(SnapshotFilter.ALL)).isInstanceOf(RollbackDetectedException.class)
                    .hasMessageContaining("rollback detected").hasMessageContaining(newest.id().value().substring(0, 8))
                    .hasMessageContaining("accept-rollback");
            assertThatThrownBy(() -> repo.restoreLatest(SnapshotFilter.ALL, tmp.resolve("out"), RestoreOptions.defaults()))
                    .isInstanceOf(RollbackDetectedException.class);
            assertThat(tmp.resolve("out")).doesNotExist();
            // a filter naming the set by its label (the mark's label is step=3) is checked too
            assertThatThrownBy(() -> repo.latest(SnapshotFilter.ALL.andLabel("step", "3")))
                    .isInstanceOf(RollbackDetectedException.class);
            // listing still works, so an operator can look; it does not lower the mark
            assertThat(repo.snapshots()).hasSize(2);
            assertThatThrownBy(() -> repo.latest(SnapshotFilter.ALL)).isInstanceOf(RollbackDetectedException.class);
            // backups go on (the parent only steers deduplication)
        }
        DrillReport report = DrillRunner.builder(store, KeyProvider.rawKey(TestRepos.RAW_KEY))
                .repositoryOptions(RepositoryOptions.builder().cacheDirectory(tmp.resolve("cache")).workers(2).host("test-host")
                        .build())
                .objectives(RecoveryObjectives.builder("ckpt").rpo(Duration.ofDays(365)).rto(Duration.ofHours(1)).build())
                .scratchDirectory(tmp.resolve("scratch")).build().run();
        assertThat(report.passed()).isFalse();
        assertThat(report.has(DrillReport.Code.ROLLBACK_DETECTED)).isTrue();

        // a first-time client (no marks) cannot tell: it trusts the store as it finds it
        try (Repository fresh = client("other-cache")) {
            assertThat(fresh.latest(SnapshotFilter.ALL)).isPresent();
        }
    }

    @Test
    void acceptingTheRollbackServesTheStoresNewestAgainAndLaterRollbacksAreStillCaught() throws Exception {
        Snapshot second;
        Snapshot third;
        try (Repository repo = client("cache")) {
            backupStep(repo, 1);
            second = backupStep(repo, 2);
            third = backupStep(repo, 3);
            repo.latest(SnapshotFilter.ALL);
        }
        deleteInStore(third);
        try (Repository repo = client("cache")) {
            assertThatThrownBy(() -> repo.latest(SnapshotFilter.ALL)).isInstanceOf(RollbackDetectedException.class);
            repo.acceptRollback();
            assertThat(repo.latest(SnapshotFilter.ALL)).map(Snapshot::id).contains(second.id());
        }
        deleteInStore(second);
        try (Repository repo = client("cache")) {
            assertThatThrownBy(() -> repo.latest(SnapshotFilter.ALL)).isInstanceOf(RollbackDetectedException.class);
        }
    }

    @Test
    void thisClientsForgetIsNotARollback() throws Exception {
        try (Repository repo = client("cache")) {
            for (int step = 1; step <= 4; step++) {
                backupStep(repo, step);
            }
            repo.latest(SnapshotFilter.ALL);
            ForgetResult forgotten = repo.forget(RetentionPolicy.builder().keepLast(1).build(), false);
            assertThat(forgotten.removed()).hasSize(3);
            assertThat(repo.latest(SnapshotFilter.ALL)).isPresent();
            repo.prune(false);
            assertThat(repo.latest(SnapshotFilter.ALL)).isPresent();
        }
        try (Repository repo = client("cache")) {
            Snapshot newest = repo.latest(SnapshotFilter.ALL).orElseThrow();
            deleteInStore(newest);
            // ... but another client's (or an attacker's) deletion of what this one saw is
            assertThatThrownBy(() -> repo.latest(SnapshotFilter.ALL)).isInstanceOf(RollbackDetectedException.class);
        }
    }

    @Test
    void aSnapshotNewerThanTheMarkIsFineAndADamagedMarkFileIsNotSilentlyIgnored() throws Exception {
        try (Repository repo = client("cache")) {
            backupStep(repo, 1);
            repo.latest(SnapshotFilter.ALL);
        }
        try (Repository writer = client("writer-cache")) {
            backupStep(writer, 2); // another host's newer backup
        }
        try (Repository repo = client("cache")) {
            assertThat(repo.latest(SnapshotFilter.ALL)).isPresent();
        }
        String id;
        try (Repository repo = client("cache")) {
            id = repo.id();
        }
        Files.writeString(tmp.resolve("cache").resolve(id).resolve("high-water.json"), "{ not json");
        try (Repository repo = client("cache")) {
            assertThatThrownBy(() -> repo.latest(SnapshotFilter.ALL)).hasMessageContaining("high-water")
                    .hasMessageContaining("damaged");
        }
    }
}
