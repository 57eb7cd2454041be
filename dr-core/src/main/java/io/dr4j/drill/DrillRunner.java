package io.dr4j.drill;

import io.dr4j.Dr4jException;
import io.dr4j.backup.CorruptObjectException;
import io.dr4j.backup.KeyProvider;
import io.dr4j.backup.Repository;
import io.dr4j.backup.RepositoryOptions;
import io.dr4j.backup.RestoreOptions;
import io.dr4j.backup.RestoreResult;
import io.dr4j.backup.Snapshot;
import io.dr4j.backup.SnapshotId;
import io.dr4j.backup.SnapshotNotFoundException;
import io.dr4j.backup.UnsupportedFormatException;
import io.dr4j.backup.VerifyLevel;
import io.dr4j.backup.VerifyReport;
import io.dr4j.backup.WrongKeyException;
import io.dr4j.drill.DrillReport.Code;
import io.dr4j.drill.DrillReport.Finding;
import io.dr4j.storage.BlobStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Runs disaster-recovery drills: restores the newest snapshot of a checkpoint set (or a chosen
 * one) from a store — the primary, a replica, the DR site — into scratch space, exactly as an
 * operator would in an outage, then judges the result against {@link RecoveryObjectives}.
 *
 * <h2>What a drill does</h2>
 * <ol>
 *   <li>Opens the repository (when built from a store and a key) and picks the snapshot; its age
 *       at the start of the drill is compared with the RPO.</li>
 *   <li>Checks that the scratch directory has room for the snapshot ({@link SpaceProbe}); if not,
 *       fails at once with {@link DrillReport.Code#SCRATCH_TOO_SMALL}, before downloading anything.</li>
 *   <li>Optionally verifies the snapshot first ({@link Builder#verifyBeforeRestore}).</li>
 *   <li>Restores it into a fresh directory under the scratch directory. The restore authenticates
 *       every chunk (AES-GCM) and checks every file's hash, so every byte is verified. If it finds
 *       a damaged or missing chunk, a {@link VerifyLevel#DATA} verification then names every bad
 *       object in the report.</li>
 *   <li>Runs the caller's {@link SmokeCheck}, if any.</li>
 *   <li>Compares restore + smoke-check time (the recovery time) with the RTO, removes the scratch
 *       copy, and returns a {@link DrillReport}.</li>
 * </ol>
 * A drill never throws for a failure it is meant to detect (no snapshot, store unreachable, wrong
 * key, corruption, too little space, smoke check failure, objectives missed): it returns a failed
 * report naming the cause. Only the caller's bugs (a closed repository) propagate.
 *
 * <h2>Concurrency</h2>
 * Thread-safe. A runner runs one drill at a time: {@link #run()} called while a drill is in
 * progress returns at once with a {@link DrillReport.Outcome#SKIPPED} report
 * ({@link DrillReport.Code#OVERLAPPING_DRILL}), so a slow drill on a schedule is never run twice.
 * Time is read from the builder's {@link Clock}.
 */
public final class DrillRunner {

    private static final SecureRandom RANDOM = new SecureRandom();

    private final Repository repository;
    private final BlobStore store;
    private final KeyProvider key;
    private final RepositoryOptions repositoryOptions;
    private final RecoveryObjectives objectives;
    private final Optional<String> region;
    private final Path scratch;
    private final Optional<SmokeCheck> smokeCheck;
    private final SpaceProbe spaceProbe;
    private final Clock clock;
    private final Optional<VerifyLevel> verifyBeforeRestore;
    private final io.dr4j.backup.PackSubset verifySubset;
    private final List<Consumer<DrillReport>> listeners;
    private final Optional<MeterRegistry> registry;
    private final AtomicBoolean running = new AtomicBoolean();

    private DrillRunner(Builder b) {
        this.repository = b.repository;
        this.store = b.store;
        this.key = b.key;
        this.repositoryOptions = b.repositoryOptions;
        this.objectives = b.objectives;
        this.region = b.region;
        this.scratch = b.scratch;
        this.smokeCheck = b.smokeCheck;
        this.spaceProbe = b.spaceProbe;
        this.clock = b.clock;
        this.verifyBeforeRestore = b.verifyBeforeRestore;
        this.verifySubset = b.verifySubset;
        this.listeners = List.copyOf(b.listeners);
        this.registry = b.registry;
    }

    /** A runner that drills an open repository (the caller keeps owning it). */
    public static Builder builder(Repository repository) {
        return new Builder(Objects.requireNonNull(repository, "repository"), null, null);
    }

    /**
     * A runner that opens the repository in {@code store} with {@code key} for each drill and
     * closes it afterwards (the store stays open: the caller owns it), so that a wrong key or an
     * unreachable store is itself a finding of the drill.
     */
    public static Builder builder(BlobStore store, KeyProvider key) {
        return new Builder(null, Objects.requireNonNull(store, "store"), Objects.requireNonNull(key, "key"));
    }

    /** The objectives drills are judged against. */
    public RecoveryObjectives objectives() {
        return objectives;
    }

    /** The name of the store drilled. */
    public String storeName() {
        return repository != null ? repository.store().name() : store.name();
    }

    /** Whether a drill is running now. */
    public boolean isRunning() {
        return running.get();
    }

    /**
     * Drills the newest snapshot matching the objectives' {@link RecoveryObjectives#snapshots() filter}.
     *
     * @throws IllegalStateException if the repository given to the builder was closed
     * @throws java.io.UncheckedIOException if the scratch copy cannot be removed afterwards
     */
    public DrillReport run() {
        return run(Optional.empty());
    }

    /** Drills the snapshot {@code id}; as {@link #run()}, failing with {@link DrillReport.Code#NO_SNAPSHOT} if it does not exist. */
    public DrillReport run(SnapshotId id) {
        return run(Optional.of(id));
    }

    private DrillReport run(Optional<SnapshotId> chosen) {
        Instant started = clock.instant();
        String drillId = HexFormat.of().formatHex(randomBytes());
        RecoveryObjectives.Target target = objectives.target(region);
        if (!running.compareAndSet(false, true)) {
            DrillReport skipped = new DrillReport(drillId, objectives.checkpointSet(), region, storeName(),
                    DrillReport.Outcome.SKIPPED,
                    List.of(Finding.of(Code.OVERLAPPING_DRILL, "another drill of " + objectives.checkpointSet() + " on "
                            + storeName() + " was still running; this one was skipped")),
                    Optional.empty(), Optional.empty(), started, clock.instant(), target, DrillReport.Figures.NONE);
            publish(skipped);
            return skipped;
        }
        try {
            DrillReport report = new Drill(drillId, started, target, chosen).run();
            publish(report);
            return report;
        } finally {
            running.set(false);
        }
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[8];
        RANDOM.nextBytes(b);
        return b;
    }

    private void publish(DrillReport report) {
        registry.ifPresent(r -> record(r, report));
        for (Consumer<DrillReport> listener : listeners) {
            try {
                listener.accept(report);
            } catch (RuntimeException e) {
                // a listener's failure must not turn a drill's verdict into an exception
            }
        }
    }

    private void record(MeterRegistry r, DrillReport report) {
        Counter.builder("dr4j.drill.runs").description("DR drills run, by outcome")
                .tag("checkpointSet", report.checkpointSet()).tag("store", report.store())
                .tag("outcome", report.outcome().name().toLowerCase(java.util.Locale.ROOT))
                .register(r).increment();
        report.figures().recoveryTime().ifPresent(t -> Timer.builder("dr4j.drill.recovery.time")
                .description("restore plus smoke check time of DR drills")
                .tag("checkpointSet", report.checkpointSet()).tag("store", report.store())
                .register(r).record(t));
    }

    /** One drill's state; used by one thread. */
    private final class Drill {
        private final String drillId;
        private final Instant started;
        private final RecoveryObjectives.Target target;
        private final Optional<SnapshotId> chosen;
        private final List<Finding> findings = new ArrayList<>();
        private Snapshot snapshot;
        private Optional<Duration> age = Optional.empty();
        private Optional<Duration> verifyTime = Optional.empty();
        private Optional<Duration> restoreTime = Optional.empty();
        private Optional<Duration> smokeTime = Optional.empty();
        private long files;
        private long bytesRestored;
        private long chunksVerified;
        private long bytesVerified;

        Drill(String drillId, Instant started, RecoveryObjectives.Target target, Optional<SnapshotId> chosen) {
            this.drillId = drillId;
            this.started = started;
            this.target = target;
            this.chosen = chosen;
        }

        DrillReport run() {
            Repository repo = null;
            try {
                repo = repository != null ? repository : open();
                if (repo != null) {
                    drill(repo);
                }
            } finally {
                if (repository == null && repo != null) {
                    repo.close();
                }
            }
            Optional<Duration> recovery = restoreTime.map(r -> r.plus(smokeTime.orElse(Duration.ZERO)));
            if (recovery.isPresent() && recovery.get().compareTo(target.rto()) > 0) {
                findings.add(Finding.of(Code.RTO_EXCEEDED, "recovery took " + ReportCodec.duration(recovery.get())
                        + " (restore " + ReportCodec.duration(restoreTime.get())
                        + smokeTime.map(s -> ", smoke check " + ReportCodec.duration(s)).orElse("")
                        + "), more than the RTO of " + ReportCodec.duration(target.rto())));
            }
            DrillReport.Figures figures = new DrillReport.Figures(age, verifyTime, restoreTime, smokeTime, recovery, files,
                    bytesRestored, chunksVerified, bytesVerified);
            return new DrillReport(drillId, objectives.checkpointSet(), region, storeName(),
                    findings.isEmpty() ? DrillReport.Outcome.PASSED : DrillReport.Outcome.FAILED, findings,
                    Optional.ofNullable(snapshot).map(Snapshot::id), Optional.ofNullable(snapshot).map(Snapshot::time),
                    started, clock.instant(), target, figures);
        }

        private Repository open() {
            try {
                return Repository.open(store, key, repositoryOptions);
            } catch (WrongKeyException e) {
                findings.add(Finding.of(Code.WRONG_KEY, e.getMessage()));
            } catch (UnsupportedFormatException e) {
                findings.add(Finding.of(Code.NO_SNAPSHOT, e.getMessage()));
            } catch (CorruptObjectException e) {
                findings.add(Finding.of(Code.CORRUPT_OBJECT, e.getMessage()));
            } catch (Dr4jException e) {
                findings.add(Finding.of(Code.STORE_UNREACHABLE, e.getMessage()));
            }
            return null;
        }

        private void drill(Repository repo) {
            if (!pickSnapshot(repo)) {
                return;
            }
            Duration snapshotAge = Duration.between(snapshot.time(), started);
            age = Optional.of(snapshotAge.isNegative() ? Duration.ZERO : snapshotAge);
            if (age.get().compareTo(target.rpo()) > 0) {
                findings.add(Finding.of(Code.RPO_EXCEEDED, "snapshot " + snapshot.id() + " is " + ReportCodec.duration(age.get())
                        + " old, more than the RPO of " + ReportCodec.duration(target.rpo())));
            }
            Path drillDir = scratch.resolve("dr4j-drill-" + drillId);
            try {
                if (!hasRoom()) {
                    return;
                }
                if (verifyBeforeRestore.isPresent() && !verify(repo, verifyBeforeRestore.get(), verifySubset)) {
                    return;
                }
                Path restored = drillDir.resolve("checkpoint");
                if (restore(repo, restored)) {
                    smokeCheck.ifPresent(check -> smoke(check, restored));
                }
            } finally {
                delete(drillDir);
            }
        }

        private boolean pickSnapshot(Repository repo) {
            try {
                if (chosen.isPresent()) {
                    snapshot = repo.snapshot(chosen.get());
                } else {
                    Optional<Snapshot> latest = repo.latest(objectives.snapshots());
                    if (latest.isEmpty()) {
                        findings.add(Finding.of(Code.NO_SNAPSHOT, "no snapshot of " + objectives.checkpointSet()
                                + " in " + storeName() + " (filter " + objectives.snapshots() + ")"));
                        return false;
                    }
                    snapshot = latest.get();
                }
                return true;
            } catch (SnapshotNotFoundException e) {
                findings.add(Finding.of(Code.NO_SNAPSHOT, e.getMessage()));
            } catch (io.dr4j.backup.RollbackDetectedException e) {
                findings.add(Finding.of(Code.ROLLBACK_DETECTED, e.getMessage()));
            } catch (CorruptObjectException e) {
                findings.add(Finding.of(Code.CORRUPT_OBJECT, e.getMessage()));
            } catch (Dr4jException e) {
                findings.add(Finding.of(Code.STORE_UNREACHABLE, e.getMessage()));
            }
            return false;
        }

        private boolean hasRoom() {
            long needed = snapshot.totalBytes();
            long usable;
            try {
                Files.createDirectories(scratch);
                usable = spaceProbe.usableBytes(scratch);
            } catch (IOException e) {
                findings.add(Finding.of(Code.SCRATCH_TOO_SMALL, "cannot use scratch directory " + scratch + ": " + e));
                return false;
            }
            if (usable < needed) {
                findings.add(Finding.of(Code.SCRATCH_TOO_SMALL, "scratch directory " + scratch + " has "
                        + ReportCodec.bytes(usable) + " usable, snapshot " + snapshot.id() + " needs "
                        + ReportCodec.bytes(needed) + " (" + needed + " bytes); nothing was restored"));
                return false;
            }
            return true;
        }

        private boolean verify(Repository repo, VerifyLevel level) {
            return verify(repo, level, io.dr4j.backup.PackSubset.ALL);
        }

        private boolean verify(Repository repo, VerifyLevel level, io.dr4j.backup.PackSubset subset) {
            Instant t0 = clock.instant();
            try {
                VerifyReport report = repo.verify(snapshot.id(), io.dr4j.backup.VerifyOptions.builder().level(level)
                        .subset(subset).build());
                chunksVerified = report.chunksChecked();
                bytesVerified = report.bytesChecked();
                for (VerifyReport.Problem p : report.problems()) {
                    findings.add(new Finding(Code.CORRUPT_OBJECT, p.object() + ": " + p.reason() + " (needed by "
                            + summarize(p.affectedFiles()) + ")", Optional.of(p.object())));
                }
                return report.ok();
            } catch (CorruptObjectException e) {
                findings.add(Finding.of(Code.CORRUPT_OBJECT, e.getMessage()));
                return false;
            } catch (Dr4jException e) {
                findings.add(Finding.of(Code.STORE_UNREACHABLE, "verification of snapshot " + snapshot.id() + " failed: "
                        + e.getMessage()));
                return false;
            } finally {
                verifyTime = Optional.of(Duration.between(t0, clock.instant()));
            }
        }

        private boolean restore(Repository repo, Path restored) {
            Instant t0 = clock.instant();
            try {
                RestoreResult result = repo.restore(snapshot.id(), restored, RestoreOptions.defaults());
                restoreTime = Optional.of(Duration.between(t0, clock.instant()));
                files = result.files();
                bytesRestored = result.bytes();
                bytesVerified = Math.max(bytesVerified, result.bytesDownloaded() + result.bytesReused());
                return true;
            } catch (CorruptObjectException e) {
                int before = findings.size();
                if (verifyBeforeRestore.orElse(VerifyLevel.METADATA) != VerifyLevel.DATA) {
                    // the restore stops at the first bad chunk; a full verification names all of them
                    verify(repo, VerifyLevel.DATA);
                }
                if (findings.size() == before) {
                    findings.add(Finding.of(Code.CORRUPT_OBJECT, e.getMessage()));
                }
            } catch (io.dr4j.backup.RestoreTargetException | io.dr4j.backup.OperationCancelledException e) {
                findings.add(Finding.of(Code.RESTORE_FAILED, e.getMessage()));
            } catch (Dr4jException e) {
                findings.add(Finding.of(e.getCause() instanceof IOException ? Code.STORE_UNREACHABLE : Code.RESTORE_FAILED,
                        "restore of snapshot " + snapshot.id() + " failed: " + e.getMessage()));
            } catch (UncheckedIOException e) {
                // the scratch file system failed under the restore (full disk, I/O error)
                findings.add(Finding.of(Code.RESTORE_FAILED, "restore of snapshot " + snapshot.id() + " into " + restored
                        + " failed: " + e.getCause()));
            }
            return false;
        }

        private void smoke(SmokeCheck check, Path restored) {
            Instant t0 = clock.instant();
            try {
                check.check(restored);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                findings.add(Finding.of(Code.SMOKE_CHECK_FAILED, "the smoke check was interrupted"));
            } catch (Exception e) {
                findings.add(Finding.of(Code.SMOKE_CHECK_FAILED, "the smoke check failed: " + e));
            } finally {
                smokeTime = Optional.of(Duration.between(t0, clock.instant()));
            }
        }
    }

    private static String summarize(List<String> files) {
        if (files.isEmpty()) {
            return "no file";
        }
        return files.size() <= 3 ? String.join(", ", files) : String.join(", ", files.subList(0, 3)) + " and "
                + (files.size() - 3) + " more";
    }

    private static void delete(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (NoSuchFileException e) {
            // already gone
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove the drill's scratch copy " + dir, e);
        }
    }

    /**
     * Builds a {@link DrillRunner}. Required: {@link #objectives} and {@link #scratchDirectory}.
     * Not thread-safe.
     */
    public static final class Builder {
        private final Repository repository;
        private final BlobStore store;
        private final KeyProvider key;
        private RepositoryOptions repositoryOptions = RepositoryOptions.defaults();
        private RecoveryObjectives objectives;
        private Optional<String> region = Optional.empty();
        private Path scratch;
        private Optional<SmokeCheck> smokeCheck = Optional.empty();
        private SpaceProbe spaceProbe = SpaceProbe.FILE_SYSTEM;
        private Clock clock = Clock.systemUTC();
        private Optional<VerifyLevel> verifyBeforeRestore = Optional.empty();
        private io.dr4j.backup.PackSubset verifySubset = io.dr4j.backup.PackSubset.ALL;
        private final List<Consumer<DrillReport>> listeners = new ArrayList<>();
        private Optional<MeterRegistry> registry = Optional.empty();

        private Builder(Repository repository, BlobStore store, KeyProvider key) {
            this.repository = repository;
            this.store = store;
            this.key = key;
        }

        /** The objectives to judge drills against (required). */
        public Builder objectives(RecoveryObjectives objectives) {
            this.objectives = Objects.requireNonNull(objectives, "objectives");
            return this;
        }

        /** The region this runner drills, selecting its objectives ({@link RecoveryObjectives#target}); default none. */
        public Builder region(String region) {
            if (region == null || region.isBlank()) {
                throw new IllegalArgumentException("region must be non-blank");
            }
            this.region = Optional.of(region);
            return this;
        }

        /**
         * Where drills restore to (required; created if missing). Each drill uses a fresh
         * sub-directory {@code dr4j-drill-<id>} and removes it when done.
         */
        public Builder scratchDirectory(Path dir) {
            this.scratch = Objects.requireNonNull(dir, "dir").toAbsolutePath().normalize();
            return this;
        }

        /** A check of the restored checkpoint, such as loading the model (default none). */
        public Builder smokeCheck(SmokeCheck check) {
            this.smokeCheck = Optional.of(Objects.requireNonNull(check, "check"));
            return this;
        }

        /** How usable scratch space is measured (default {@link SpaceProbe#FILE_SYSTEM}). */
        public Builder spaceProbe(SpaceProbe probe) {
            this.spaceProbe = Objects.requireNonNull(probe, "probe");
            return this;
        }

        /** The time source for snapshot ages and phase timings (default the UTC system clock). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Verify the snapshot at {@code level} before restoring (default: no separate pass; the
         * restore authenticates every chunk, and a full {@link VerifyLevel#DATA} pass runs only to
         * name the bad objects when it finds one). Verification time is reported but is not part
         * of the recovery time.
         */
        public Builder verifyBeforeRestore(VerifyLevel level) {
            this.verifyBeforeRestore = Optional.of(Objects.requireNonNull(level, "level"));
            return this;
        }

        /**
         * The packs a {@link VerifyLevel#DATA} pass of {@link #verifyBeforeRestore} reads (default
         * {@link io.dr4j.backup.PackSubset#ALL}): with {@code PackSubset.slice(n, t)} a daily drill
         * reads every pack of a snapshot once in {@code t} days before it restores. The pass that
         * names the bad objects after a failed restore always reads every pack.
         */
        public Builder verifySubset(io.dr4j.backup.PackSubset subset) {
            this.verifySubset = Objects.requireNonNull(subset, "subset");
            return this;
        }

        /** Settings used to open the repository, for a runner built from a store and a key (default {@link RepositoryOptions#defaults()}). */
        public Builder repositoryOptions(RepositoryOptions options) {
            if (repository != null) {
                throw new IllegalStateException("repository options apply only to a runner built from a store and a key");
            }
            this.repositoryOptions = Objects.requireNonNull(options, "options");
            return this;
        }

        /** Receives every report, skipped ones included, on the drilling thread; its exceptions are ignored. */
        public Builder listener(Consumer<DrillReport> listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /**
         * Records {@code dr4j.drill.runs} (counter, tags checkpointSet, store, outcome) and
         * {@code dr4j.drill.recovery.time} (timer) in {@code registry} (default none).
         */
        public Builder meterRegistry(MeterRegistry registry) {
            this.registry = Optional.of(Objects.requireNonNull(registry, "registry"));
            return this;
        }

        /** @throws IllegalStateException if the objectives or the scratch directory are missing */
        public DrillRunner build() {
            if (objectives == null) {
                throw new IllegalStateException("a drill runner needs recovery objectives");
            }
            if (scratch == null) {
                throw new IllegalStateException("a drill runner needs a scratch directory");
            }
            return new DrillRunner(this);
        }
    }
}
