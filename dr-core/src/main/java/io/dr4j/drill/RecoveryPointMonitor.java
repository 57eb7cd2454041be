package io.dr4j.drill;

import io.dr4j.replication.ReplicatedBlobStore;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Tracks the current recovery point of each store of a checkpoint set: the age of the newest
 * snapshot proven recoverable from that store, plus the store's replication lag. A snapshot is
 * proven by a passed drill ({@link #record(DrillReport)}, e.g. as a {@link DrillRunner} listener)
 * or by the application's own verification ({@link #recordVerified}). Until a store has one, its
 * recovery point is unknown and counts as exceeding the objective: an unproven backup is not a
 * backup.
 *
 * <p>Exposed three ways: {@link #current(String)} / {@link #check()}; Micrometer gauges
 * {@code dr4j.rpo.current} (seconds; NaN while unknown) and {@code dr4j.rpo.objective} (seconds),
 * tagged {@code checkpointSet} and {@code store}; and alert hooks, called by {@link #check()} when
 * a store's recovery point goes over the objective ({@link Builder#onExceeded}) and when it comes
 * back within it ({@link Builder#onRecovered}) — on the transition, not on every check.
 * {@link #start} runs {@link #check()} periodically on the application's scheduler.
 *
 * <p>Thread-safe. Alert hooks run on the thread that calls {@link #check()}, one check at a time.
 */
public final class RecoveryPointMonitor implements AutoCloseable {

    private final RecoveryObjectives objectives;
    private final Duration objective;
    private final Clock clock;
    private final Map<String, Supplier<Duration>> stores;
    private final Map<String, Instant> verified = new ConcurrentHashMap<>();
    private final Map<String, Boolean> alerted = new ConcurrentHashMap<>();
    private final List<Consumer<RecoveryPoint>> onExceeded;
    private final List<Consumer<RecoveryPoint>> onRecovered;
    private ScheduledFuture<?> periodic;

    private RecoveryPointMonitor(Builder b) {
        this.objectives = b.objectives;
        this.objective = b.objectives.target(b.region).rpo();
        this.clock = b.clock;
        this.stores = new LinkedHashMap<>(b.stores);
        this.onExceeded = List.copyOf(b.onExceeded);
        this.onRecovered = List.copyOf(b.onRecovered);
        b.registry.ifPresent(this::registerGauges);
    }

    /** A monitor of the checkpoint set of {@code objectives}. */
    public static Builder builder(RecoveryObjectives objectives) {
        return new Builder(objectives);
    }

    /**
     * Takes a drill's report into account: a passed drill proves its snapshot recoverable from
     * its store. Other reports, and reports of other checkpoint sets or unknown stores, are ignored.
     */
    public void record(DrillReport report) {
        if (report.passed() && report.checkpointSet().equals(objectives.checkpointSet()) && stores.containsKey(report.store())
                && report.snapshotTime().isPresent()) {
            recordVerified(report.store(), report.snapshotTime().get());
        }
    }

    /**
     * Records that the snapshot taken at {@code snapshotTime} was verified recoverable from
     * {@code store}; an older time than the one recorded is ignored.
     *
     * @throws IllegalArgumentException if the store is not monitored
     */
    public void recordVerified(String store, Instant snapshotTime) {
        requireStore(store);
        Objects.requireNonNull(snapshotTime, "snapshotTime");
        verified.merge(store, snapshotTime, (a, b) -> a.isAfter(b) ? a : b);
    }

    /**
     * The current recovery point of {@code store}.
     *
     * @throws IllegalArgumentException if the store is not monitored
     */
    public RecoveryPoint current(String store) {
        requireStore(store);
        Instant now = clock.instant();
        Optional<Instant> newest = Optional.ofNullable(verified.get(store));
        Duration lag = lag(store);
        Optional<Duration> current = newest.map(t -> {
            Duration age = Duration.between(t, now);
            return (age.isNegative() ? Duration.ZERO : age).plus(lag);
        });
        return new RecoveryPoint(store, now, newest, lag, current, objective);
    }

    /** The current recovery point of every store, in the order they were added; fires the alert hooks on transitions. */
    public synchronized List<RecoveryPoint> check() {
        List<RecoveryPoint> points = new ArrayList<>();
        for (String store : stores.keySet()) {
            RecoveryPoint p = current(store);
            points.add(p);
            Boolean was = alerted.get(store);
            if (p.exceeded() && !Boolean.TRUE.equals(was)) {
                alerted.put(store, true);
                onExceeded.forEach(l -> notify(l, p));
            } else if (!p.exceeded() && Boolean.TRUE.equals(was)) {
                alerted.put(store, false);
                onRecovered.forEach(l -> notify(l, p));
            } else if (was == null) {
                alerted.put(store, p.exceeded());
            }
        }
        return points;
    }

    /**
     * Runs {@link #check()} every {@code every} on {@code scheduler} (the caller's, left running by
     * {@link #close()}).
     *
     * @throws IllegalStateException if already started
     */
    public synchronized RecoveryPointMonitor start(ScheduledExecutorService scheduler, Duration every) {
        if (periodic != null) {
            throw new IllegalStateException("the monitor was already started");
        }
        if (every.isNegative() || every.isZero()) {
            throw new IllegalArgumentException("check period must be positive, was " + every);
        }
        periodic = scheduler.scheduleAtFixedRate(() -> {
            try {
                check();
            } catch (RuntimeException e) {
                // a failing lag supplier must not end the periodic checks
            }
        }, 0, every.toNanos(), TimeUnit.NANOSECONDS);
        return this;
    }

    /** Stops the periodic checks, if started. Idempotent. */
    @Override
    public synchronized void close() {
        if (periodic != null) {
            periodic.cancel(false);
        }
    }

    private Duration lag(String store) {
        Duration lag = stores.get(store).get();
        return lag == null || lag.isNegative() ? Duration.ZERO : lag;
    }

    private void requireStore(String store) {
        if (!stores.containsKey(store)) {
            throw new IllegalArgumentException("store " + store + " is not monitored; monitored: " + stores.keySet());
        }
    }

    private void registerGauges(MeterRegistry registry) {
        for (String store : stores.keySet()) {
            Gauge.builder("dr4j.rpo.current", this, m -> m.current(store).current()
                            .map(d -> d.toMillis() / 1000.0).orElse(Double.NaN))
                    .description("age of the newest verified snapshot plus replication lag")
                    .baseUnit("seconds").tag("checkpointSet", objectives.checkpointSet()).tag("store", store)
                    .register(registry);
            Gauge.builder("dr4j.rpo.objective", this, m -> m.objective.toMillis() / 1000.0)
                    .description("recovery point objective").baseUnit("seconds")
                    .tag("checkpointSet", objectives.checkpointSet()).tag("store", store)
                    .register(registry);
        }
    }

    private static void notify(Consumer<RecoveryPoint> listener, RecoveryPoint p) {
        try {
            listener.accept(p);
        } catch (RuntimeException e) {
            // an alert hook's failure must not stop the other hooks or the checks
        }
    }

    /** Builds a {@link RecoveryPointMonitor}; at least one store. Not thread-safe. */
    public static final class Builder {
        private final RecoveryObjectives objectives;
        private Optional<String> region = Optional.empty();
        private Clock clock = Clock.systemUTC();
        private final Map<String, Supplier<Duration>> stores = new LinkedHashMap<>();
        private final List<Consumer<RecoveryPoint>> onExceeded = new ArrayList<>();
        private final List<Consumer<RecoveryPoint>> onRecovered = new ArrayList<>();
        private Optional<MeterRegistry> registry = Optional.empty();

        private Builder(RecoveryObjectives objectives) {
            this.objectives = Objects.requireNonNull(objectives, "objectives");
        }

        /** A store with no replication lag (the primary, or one written directly). */
        public Builder store(String name) {
            return store(name, () -> Duration.ZERO);
        }

        /**
         * A store whose replication lag {@code lag} reports (asked on every read; must be quick
         * and thread-safe). For {@link #record(DrillReport)} to count a drill, {@code name} must
         * be the {@link io.dr4j.storage.BlobStore#name()} of the store the drill ran against.
         */
        public Builder store(String name, Supplier<Duration> lag) {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("store name must be non-blank");
            }
            if (stores.containsKey(name)) {
                throw new IllegalArgumentException("store " + name + " was already added");
            }
            stores.put(name, Objects.requireNonNull(lag, "lag"));
            return this;
        }

        /** A replicated store, under its {@link ReplicatedBlobStore#name()}, lagging by its {@link io.dr4j.replication.ReplicationStatus#lag()}. */
        public Builder store(ReplicatedBlobStore replicated) {
            Objects.requireNonNull(replicated, "replicated");
            return store(replicated.name(), () -> replicated.status().lag());
        }

        /** The region whose objective applies (default: the objectives' defaults). */
        public Builder region(String region) {
            if (region == null || region.isBlank()) {
                throw new IllegalArgumentException("region must be non-blank");
            }
            this.region = Optional.of(region);
            return this;
        }

        /** Time source (default the UTC system clock). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** Called when a store's recovery point goes over the RPO (or is unknown at the first check). */
        public Builder onExceeded(Consumer<RecoveryPoint> hook) {
            onExceeded.add(Objects.requireNonNull(hook, "hook"));
            return this;
        }

        /** Called when a store's recovery point comes back within the RPO after an alert. */
        public Builder onRecovered(Consumer<RecoveryPoint> hook) {
            onRecovered.add(Objects.requireNonNull(hook, "hook"));
            return this;
        }

        /** Registers the gauges in {@code registry} (default none). */
        public Builder meterRegistry(MeterRegistry registry) {
            this.registry = Optional.of(Objects.requireNonNull(registry, "registry"));
            return this;
        }

        /** @throws IllegalStateException if no store was added */
        public RecoveryPointMonitor build() {
            if (stores.isEmpty()) {
                throw new IllegalStateException("a recovery point monitor needs at least one store");
            }
            return new RecoveryPointMonitor(this);
        }
    }
}
