package io.dr4j.examples;

import io.dr4j.backup.BackupOptions;
import io.dr4j.backup.InitOptions;
import io.dr4j.backup.KeyProvider;
import io.dr4j.backup.Repository;
import io.dr4j.backup.RepositoryOptions;
import io.dr4j.drill.DrillReport;
import io.dr4j.drill.DrillRunner;
import io.dr4j.drill.RecoveryObjectives;
import io.dr4j.drill.RecoveryPoint;
import io.dr4j.drill.RecoveryPointMonitor;
import io.dr4j.drill.RecoverySchedule;
import io.dr4j.storage.LocalBlobStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Backups and DR drills on the application's own scheduler, with the current RPO watched and an
 * alert hook: the shape of a model server's recovery loop. This demo backs up every 2 s and
 * drills every 3 s until three drills have run (a real server would back up after each
 * checkpoint and drill daily); the monitor alerts when the recovery point is older than the
 * 1-minute RPO, which happens at its first check because nothing is verified yet, and clears
 * after the first passed drill.
 *
 * <p>Run: {@code java -cp examples/target/dr4j.jar io.dr4j.examples.ScheduledDrillExample}
 */
public final class ScheduledDrillExample {

    private ScheduledDrillExample() {
    }

    public static void main(String[] args) throws Exception {
        Path work = Files.createTempDirectory("dr4j-scheduled-");
        try {
            List<DrillReport> reports = run(work, Duration.ofSeconds(2), Duration.ofSeconds(3), 3);
            System.out.println(reports.size() + " drills ran; passed: " + reports.stream().filter(DrillReport::passed).count());
        } finally {
            QuickStart.deleteTree(work);
        }
    }

    /** Runs the loop in {@code work} until {@code drills} drills have reported; returns their reports. */
    static List<DrillReport> run(Path work, Duration backupEvery, Duration drillEvery, int drills) throws Exception {
        Path checkpoint = work.resolve("checkpoint");
        QuickStart.generateCheckpoint(checkpoint);
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        RecoveryObjectives objectives = RecoveryObjectives.builder("llama-demo")
                .rpo(Duration.ofMinutes(1)).rto(Duration.ofSeconds(30)).build();
        SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        List<DrillReport> reports = new CopyOnWriteArrayList<>();
        CountDownLatch done = new CountDownLatch(drills);
        // the application's scheduler: dr4j schedules on it and never shuts it down
        ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
        try (LocalBlobStore store = LocalBlobStore.open(work.resolve("repository"));
                Repository repo = Repository.init(store, KeyProvider.rawKey(key), InitOptions.defaults(),
                        RepositoryOptions.builder().noCache().build());
                RecoveryPointMonitor monitor = RecoveryPointMonitor.builder(objectives).store(store.name())
                        .meterRegistry(metrics)
                        .onExceeded(p -> System.out.println("ALERT: " + describe(p)))
                        .onRecovered(p -> System.out.println("ok again: " + describe(p)))
                        .build()) {
            DrillRunner runner = DrillRunner.builder(repo).objectives(objectives).scratchDirectory(work.resolve("scratch"))
                    .meterRegistry(metrics).listener(monitor::record).build();
            monitor.check();
            RecoverySchedule.Builder plan = RecoverySchedule.builder(scheduler)
                    .backup(repo, checkpoint, () -> BackupOptions.builder().tag("scheduled").build(), backupEvery)
                    .drill(runner, drillEvery, drillEvery)
                    .onBackup(s -> System.out.println("backup " + s.id().value().substring(0, 8) + ": "
                            + s.stats().newBytesStored() + " new bytes"))
                    .onBackupFailure(e -> System.out.println("backup failed: " + e.getMessage()))
                    .onDrill(r -> {
                        System.out.print(r.toText());
                        monitor.check();
                        reports.add(r);
                        done.countDown();
                    });
            try (RecoverySchedule schedule = plan.build()) {
                schedule.backupNow(); // the first backup before any drill, so that no drill finds an empty repository
                schedule.start();
                if (!done.await(5, TimeUnit.MINUTES)) {
                    throw new IllegalStateException("the drills did not run within 5 minutes");
                }
            }
            System.out.println("gauge dr4j.rpo.current = " + metrics.get("dr4j.rpo.current").gauge().value() + " s");
            return List.copyOf(reports);
        } finally {
            scheduler.shutdownNow();
            scheduler.awaitTermination(30, TimeUnit.SECONDS);
        }
    }

    private static String describe(RecoveryPoint p) {
        return p.store() + " recovery point " + p.current().map(d -> d.toSeconds() + " s old").orElse("unknown (nothing verified)")
                + ", objective " + p.objective().toSeconds() + " s";
    }
}
