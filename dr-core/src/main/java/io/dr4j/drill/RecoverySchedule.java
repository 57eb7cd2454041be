package io.dr4j.drill;

import io.dr4j.backup.BackupOptions;
import io.dr4j.backup.Repository;
import io.dr4j.backup.Snapshot;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Runs backups and drills periodically on a {@link ScheduledExecutorService} the application
 * owns (and keeps owning: {@link #close()} cancels this schedule's tasks but never shuts the
 * executor down).
 *
 * <pre>{@code
 * RecoverySchedule schedule = RecoverySchedule.builder(executor)
 *         .backup(repo, Path.of("/ckpt/current"), () -> BackupOptions.builder().tag("hourly").build(), Duration.ofHours(1))
 *         .drill(runner, Duration.ofDays(1))
 *         .onDrill(report -> log.info(report.toText()))
 *         .onBackupFailure(e -> alerts.page("backup failed: " + e.getMessage()))
 *         .build().start();
 * }</pre>
 *
 * <p>Nothing runs twice at once. A periodic run that comes due while the previous one is still
 * running starts late (the executor never overlaps runs of one periodic task). A drill started
 * while the runner is drilling — by {@link #drillNow()}, another schedule or the application
 * sharing the {@link DrillRunner} — is skipped with a {@link DrillReport.Outcome#SKIPPED} report;
 * a backup started by {@link #backupNow()} while this schedule's backup runs is skipped and
 * counted ({@link #skippedBackups()}). A failing task does not cancel the schedule.
 *
 * <p>Thread-safe. Listeners are called on the executor's threads.
 */
public final class RecoverySchedule implements AutoCloseable {

    private final ScheduledExecutorService executor;
    private final Optional<DrillRunner> runner;
    private final Duration drillEvery;
    private final Duration drillDelay;
    private final Optional<Repository> repository;
    private final Path source;
    private final Supplier<BackupOptions> backupOptions;
    private final Duration backupEvery;
    private final Duration backupDelay;
    private final List<Consumer<DrillReport>> onDrill;
    private final List<Consumer<Snapshot>> onBackup;
    private final List<Consumer<RuntimeException>> onBackupFailure;
    private final AtomicBoolean backingUp = new AtomicBoolean();
    private final AtomicLong skippedBackups = new AtomicLong();
    private final List<ScheduledFuture<?>> futures = new ArrayList<>();
    private boolean started;
    private boolean closed;

    private RecoverySchedule(Builder b) {
        this.executor = b.executor;
        this.runner = Optional.ofNullable(b.runner);
        this.drillEvery = b.drillEvery;
        this.drillDelay = b.drillDelay;
        this.repository = Optional.ofNullable(b.repository);
        this.source = b.source;
        this.backupOptions = b.backupOptions;
        this.backupEvery = b.backupEvery;
        this.backupDelay = b.backupDelay;
        this.onDrill = List.copyOf(b.onDrill);
        this.onBackup = List.copyOf(b.onBackup);
        this.onBackupFailure = List.copyOf(b.onBackupFailure);
    }

    /** A schedule on {@code executor}, which the caller owns. */
    public static Builder builder(ScheduledExecutorService executor) {
        return new Builder(executor);
    }

    /**
     * Schedules the tasks: each first runs after its initial delay, then at its fixed rate (a run
     * that takes longer than the period delays the next; runs never overlap).
     *
     * @throws IllegalStateException if already started or closed
     */
    public synchronized RecoverySchedule start() {
        if (started || closed) {
            throw new IllegalStateException(closed ? "the schedule is closed" : "the schedule was already started");
        }
        started = true;
        if (repository.isPresent()) {
            futures.add(executor.scheduleAtFixedRate(this::backupQuietly, backupDelay.toNanos(), backupEvery.toNanos(),
                    TimeUnit.NANOSECONDS));
        }
        if (runner.isPresent()) {
            futures.add(executor.scheduleAtFixedRate(this::drillQuietly, drillDelay.toNanos(), drillEvery.toNanos(),
                    TimeUnit.NANOSECONDS));
        }
        return this;
    }

    /**
     * Runs a drill now, on the calling thread; skipped (a {@link DrillReport.Outcome#SKIPPED}
     * report) if one is running.
     *
     * @throws IllegalStateException if the schedule has no drill
     */
    public DrillReport drillNow() {
        DrillReport report = runner.orElseThrow(() -> new IllegalStateException("this schedule has no drill")).run();
        onDrill.forEach(l -> notify(l, report));
        return report;
    }

    /**
     * Runs a backup now, on the calling thread; empty if skipped because one is running.
     *
     * @throws IllegalStateException if the schedule has no backup
     * @throws io.dr4j.Dr4jException if the backup fails (also passed to the failure listeners)
     */
    public Optional<Snapshot> backupNow() {
        Repository repo = repository.orElseThrow(() -> new IllegalStateException("this schedule has no backup"));
        if (!backingUp.compareAndSet(false, true)) {
            skippedBackups.incrementAndGet();
            return Optional.empty();
        }
        try {
            Snapshot s = repo.backup(source, backupOptions.get());
            onBackup.forEach(l -> notify(l, s));
            return Optional.of(s);
        } catch (RuntimeException e) {
            onBackupFailure.forEach(l -> notify(l, e));
            throw e;
        } finally {
            backingUp.set(false);
        }
    }

    /** Backups skipped because the previous one was still running. */
    public long skippedBackups() {
        return skippedBackups.get();
    }

    /** Cancels the scheduled tasks (running ones finish); the executor is left running. Idempotent. */
    @Override
    public synchronized void close() {
        closed = true;
        futures.forEach(f -> f.cancel(false));
        futures.clear();
    }

    private void drillQuietly() {
        try {
            drillNow();
        } catch (RuntimeException e) {
            // a drill reports its failures; anything else must not end the schedule
        }
    }

    private void backupQuietly() {
        try {
            backupNow();
        } catch (RuntimeException e) {
            // already handed to the failure listeners; the next period tries again
        }
    }

    private static <T> void notify(Consumer<T> listener, T value) {
        try {
            listener.accept(value);
        } catch (RuntimeException e) {
            // a listener's bug must not stop the schedule
        }
    }

    /** Builds a {@link RecoverySchedule}; at least one of a backup and a drill. Not thread-safe. */
    public static final class Builder {
        private final ScheduledExecutorService executor;
        private DrillRunner runner;
        private Duration drillEvery;
        private Duration drillDelay;
        private Repository repository;
        private Path source;
        private Supplier<BackupOptions> backupOptions;
        private Duration backupEvery;
        private Duration backupDelay;
        private final List<Consumer<DrillReport>> onDrill = new ArrayList<>();
        private final List<Consumer<Snapshot>> onBackup = new ArrayList<>();
        private final List<Consumer<RuntimeException>> onBackupFailure = new ArrayList<>();

        private Builder(ScheduledExecutorService executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
        }

        /** Drills with {@code runner} every {@code every}, the first one after {@code every}. */
        public Builder drill(DrillRunner runner, Duration every) {
            return drill(runner, every, every);
        }

        /** Drills with {@code runner} every {@code every}, the first one after {@code initialDelay}. */
        public Builder drill(DrillRunner runner, Duration initialDelay, Duration every) {
            if (this.runner != null) {
                throw new IllegalStateException("the drill was already set");
            }
            this.runner = Objects.requireNonNull(runner, "runner");
            this.drillEvery = positive(every, "drill period");
            this.drillDelay = notNegative(initialDelay, "drill initial delay");
            return this;
        }

        /** Backs {@code source} up into {@code repository} every {@code every}, the first one after {@code every}. */
        public Builder backup(Repository repository, Path source, Supplier<BackupOptions> options, Duration every) {
            return backup(repository, source, options, every, every);
        }

        /** Backs {@code source} up every {@code every}, the first one after {@code initialDelay}; options are asked for each run. */
        public Builder backup(Repository repository, Path source, Supplier<BackupOptions> options, Duration initialDelay,
                Duration every) {
            if (this.repository != null) {
                throw new IllegalStateException("the backup was already set");
            }
            this.repository = Objects.requireNonNull(repository, "repository");
            this.source = Objects.requireNonNull(source, "source");
            this.backupOptions = Objects.requireNonNull(options, "options");
            this.backupEvery = positive(every, "backup period");
            this.backupDelay = notNegative(initialDelay, "backup initial delay");
            return this;
        }

        /** Receives each drill's report (skipped ones included). */
        public Builder onDrill(Consumer<DrillReport> listener) {
            onDrill.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /** Receives each snapshot a scheduled backup made. */
        public Builder onBackup(Consumer<Snapshot> listener) {
            onBackup.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /** Receives each backup failure. */
        public Builder onBackupFailure(Consumer<RuntimeException> listener) {
            onBackupFailure.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /** @throws IllegalStateException if neither a backup nor a drill was set */
        public RecoverySchedule build() {
            if (runner == null && repository == null) {
                throw new IllegalStateException("a schedule needs a backup, a drill, or both");
            }
            return new RecoverySchedule(this);
        }

        private static Duration positive(Duration d, String what) {
            Objects.requireNonNull(d, what);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " must be positive, was " + d);
            }
            return d;
        }

        private static Duration notNegative(Duration d, String what) {
            Objects.requireNonNull(d, what);
            if (d.isNegative()) {
                throw new IllegalArgumentException(what + " must not be negative, was " + d);
            }
            return d;
        }
    }
}
