package io.dr4j.drill;

import io.dr4j.backup.SnapshotFilter;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The recovery point objective (how much recent work may be lost) and the recovery time objective
 * (how long getting the checkpoint back may take) of one protected checkpoint set, optionally
 * tightened or relaxed per region. A checkpoint set is named and selects its snapshots with a
 * {@link SnapshotFilter} (default: all snapshots of the repository).
 *
 * <pre>{@code
 * RecoveryObjectives objectives = RecoveryObjectives.builder("llama-3-8b")
 *         .snapshots(SnapshotFilter.ALL.andLabel("model", "llama-3-8b"))
 *         .rpo(Duration.ofHours(1))
 *         .rto(Duration.ofMinutes(15))
 *         .region("eu-west", Duration.ofHours(4), Duration.ofMinutes(30))
 *         .build();
 * }</pre>
 *
 * <p>Immutable and thread-safe.
 */
public final class RecoveryObjectives {

    private final String checkpointSet;
    private final SnapshotFilter snapshots;
    private final Target defaults;
    private final Map<String, Target> regions;

    /**
     * One RPO/RTO pair.
     *
     * @param rpo the largest acceptable age of the newest recoverable snapshot; positive
     * @param rto the largest acceptable time to restore and check it; positive
     */
    public record Target(Duration rpo, Duration rto) {
        public Target {
            requirePositive(rpo, "RPO");
            requirePositive(rto, "RTO");
        }
    }

    private RecoveryObjectives(Builder b) {
        this.checkpointSet = b.checkpointSet;
        this.snapshots = b.snapshots;
        this.defaults = new Target(b.rpo, b.rto);
        this.regions = Map.copyOf(b.regions);
    }

    /**
     * Starts objectives for the checkpoint set named {@code checkpointSet} (non-blank, used in
     * reports and metric tags).
     */
    public static Builder builder(String checkpointSet) {
        return new Builder(checkpointSet);
    }

    /** The checkpoint set's name. */
    public String checkpointSet() {
        return checkpointSet;
    }

    /** Which snapshots belong to the checkpoint set. */
    public SnapshotFilter snapshots() {
        return snapshots;
    }

    /** The default RPO. */
    public Duration rpo() {
        return defaults.rpo();
    }

    /** The default RTO. */
    public Duration rto() {
        return defaults.rto();
    }

    /** The objectives in {@code region}: its own if declared, the defaults otherwise. */
    public Target target(Optional<String> region) {
        Objects.requireNonNull(region, "region");
        return region.map(regions::get).orElse(defaults);
    }

    /** The regions with their own objectives, sorted by name. */
    public Map<String, Target> regions() {
        return new TreeMap<>(regions);
    }

    @Override
    public String toString() {
        return "RecoveryObjectives[" + checkpointSet + ": RPO " + rpo() + ", RTO " + rto()
                + (regions.isEmpty() ? "" : ", regions " + regions()) + "]";
    }

    private static void requirePositive(Duration d, String what) {
        Objects.requireNonNull(d, what);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " must be positive, was " + d);
        }
    }

    /** Builds {@link RecoveryObjectives}; RPO and RTO are required. Not thread-safe. */
    public static final class Builder {
        private final String checkpointSet;
        private SnapshotFilter snapshots = SnapshotFilter.ALL;
        private Duration rpo;
        private Duration rto;
        private final Map<String, Target> regions = new TreeMap<>();

        private Builder(String checkpointSet) {
            if (checkpointSet == null || checkpointSet.isBlank()) {
                throw new IllegalArgumentException("the checkpoint set needs a non-blank name");
            }
            this.checkpointSet = checkpointSet;
        }

        /** The snapshots of this checkpoint set (default {@link SnapshotFilter#ALL}). */
        public Builder snapshots(SnapshotFilter filter) {
            this.snapshots = Objects.requireNonNull(filter, "filter");
            return this;
        }

        /** The recovery point objective (required, positive). */
        public Builder rpo(Duration rpo) {
            requirePositive(rpo, "RPO");
            this.rpo = rpo;
            return this;
        }

        /** The recovery time objective (required, positive). */
        public Builder rto(Duration rto) {
            requirePositive(rto, "RTO");
            this.rto = rto;
            return this;
        }

        /**
         * Objectives specific to {@code region} (non-blank, declared once).
         *
         * @throws IllegalArgumentException if the region is blank, already declared, or a duration is not positive
         */
        public Builder region(String region, Duration rpo, Duration rto) {
            if (region == null || region.isBlank()) {
                throw new IllegalArgumentException("a region needs a non-blank name");
            }
            if (regions.containsKey(region)) {
                throw new IllegalArgumentException("objectives for region " + region + " were already declared");
            }
            regions.put(region, new Target(rpo, rto));
            return this;
        }

        /** @throws IllegalStateException if the RPO or the RTO is missing */
        public RecoveryObjectives build() {
            if (rpo == null || rto == null) {
                throw new IllegalStateException("objectives for " + checkpointSet + " need both an RPO and an RTO");
            }
            return new RecoveryObjectives(this);
        }
    }
}
