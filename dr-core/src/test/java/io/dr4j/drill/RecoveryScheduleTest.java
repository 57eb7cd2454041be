package io.dr4j.drill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.backup.BackupOptions;
import io.dr4j.backup.Repository;
import io.dr4j.backup.Snapshot;
import io.dr4j.testing.MutableClock;
import io.dr4j.storage.LocalBlobStore;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecoveryScheduleTest {

    @TempDir
    Path tmp;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-03-01T10:00:00Z"));
    // one thread: tasks due at once run in order of their due time, so the drill follows the backup
    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
    private LocalBlobStore store;
    private Repository repo;
    private Path source;

    @BeforeEach
    void setUp() throws Exception {
        store = LocalBlobStore.open(tmp.resolve("store"));
        repo = DrillFixtures.create(store, clock);
        source = DrillFixtures.checkpoint(tmp.resolve("ckpt"), 1);
    }

    @AfterEach
    void tearDown() throws Exception {
        executor.shutdownNow();
        assertThat(executor.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        repo.close();
        store.close();
    }

    @Test
    void runsBackupsThenDrillsOnTheApplicationsExecutor() throws Exception {
        CountDownLatch drilled = new CountDownLatch(1);
        List<Snapshot> snapshots = new CopyOnWriteArrayList<>();
        List<DrillReport> reports = new CopyOnWriteArrayList<>();
        DrillRunner runner = DrillRunner.builder(repo).objectives(DrillFixtures.objectives(Duration.ofHours(1), Duration.ofHours(1)))
                .scratchDirectory(tmp.resolve("scratch")).clock(clock).build();
        RecoverySchedule schedule = RecoverySchedule.builder(executor)
                .backup(repo, source, BackupOptions::defaults, Duration.ZERO, Duration.ofHours(1))
                .drill(runner, Duration.ofMillis(200), Duration.ofHours(1))
                .onBackup(snapshots::add)
                .onDrill(r -> {
                    reports.add(r);
                    drilled.countDown();
                })
                .build().start();
        try {
            assertThat(drilled.await(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            schedule.close();
        }

        assertThat(snapshots).hasSize(1);
        assertThat(reports).singleElement().satisfies(r -> {
            assertThat(r.outcome()).isEqualTo(DrillReport.Outcome.PASSED);
            assertThat(r.snapshot()).contains(snapshots.get(0).id());
        });
        assertThat(executor.isShutdown()).as("the executor stays the application's").isFalse();
    }

    @Test
    void aBackupDueWhileOneRunsIsSkippedAndCounted() throws Exception {
        CountDownLatch inBackup = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        RecoverySchedule schedule = RecoverySchedule.builder(executor)
                .backup(repo, source, () -> {
                    inBackup.countDown();
                    try {
                        release.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return BackupOptions.defaults();
                }, Duration.ofHours(1))
                .build();

        CompletableFuture<Optional<Snapshot>> first = CompletableFuture.supplyAsync(schedule::backupNow, executor);
        assertThat(inBackup.await(30, TimeUnit.SECONDS)).isTrue();
        Optional<Snapshot> second = schedule.backupNow();
        release.countDown();

        assertThat(second).isEmpty();
        assertThat(schedule.skippedBackups()).isEqualTo(1);
        assertThat(first.get(30, TimeUnit.SECONDS)).isPresent();
        assertThat(repo.snapshots()).hasSize(1);
    }

    @Test
    void refusesAnEmptyScheduleAndASecondStart() {
        assertThatThrownBy(() -> RecoverySchedule.builder(executor).build()).isInstanceOf(IllegalStateException.class);
        RecoverySchedule schedule = RecoverySchedule.builder(executor)
                .backup(repo, source, BackupOptions::defaults, Duration.ofHours(1)).build().start();
        assertThatThrownBy(schedule::start).isInstanceOf(IllegalStateException.class);
        schedule.close();
    }
}
