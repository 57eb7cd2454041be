package io.dr4j.drill;

import io.dr4j.backup.SnapshotId;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The result of one disaster-recovery drill: whether the checkpoint set could be recovered from a
 * store within its objectives, why not if not, and the figures measured. A drill that could not
 * even start (no snapshot, store unreachable, scratch space too small) is a failed drill with a
 * finding that says so, not an exception: the report is the product.
 *
 * <p>Renders as JSON with a stable, versioned schema ({@link #toJson()}, documented in
 * {@code docs/drill-report.md}; {@link #fromJson} reads it back) and as text for people
 * ({@link #toText()}). Immutable and thread-safe.
 *
 * @param drillId a random id of this drill
 * @param checkpointSet the checkpoint set drilled ({@link RecoveryObjectives#checkpointSet()})
 * @param region the region the drill ran for, if one was given
 * @param store the store restored from ({@link io.dr4j.storage.BlobStore#name()})
 * @param outcome passed, failed, or skipped because another drill was running
 * @param findings why the drill failed or was skipped, in the order found; empty when it passed
 * @param snapshot the snapshot restored, if one was chosen
 * @param snapshotTime when that snapshot was taken
 * @param startedAt when the drill started
 * @param finishedAt when the drill finished, scratch space cleaned up
 * @param objectives the RPO and RTO the drill was judged against
 * @param figures what was measured
 */
public record DrillReport(String drillId, String checkpointSet, Optional<String> region, String store,
        Outcome outcome, List<Finding> findings, Optional<SnapshotId> snapshot, Optional<Instant> snapshotTime,
        Instant startedAt, Instant finishedAt, RecoveryObjectives.Target objectives, Figures figures) {

    /** The version of the JSON schema {@link #toJson()} writes; incremented on incompatible changes. */
    public static final int SCHEMA_VERSION = 1;

    public DrillReport {
        Objects.requireNonNull(drillId, "drillId");
        Objects.requireNonNull(checkpointSet, "checkpointSet");
        Objects.requireNonNull(region, "region");
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(outcome, "outcome");
        findings = List.copyOf(findings);
        Objects.requireNonNull(snapshot, "snapshot");
        Objects.requireNonNull(snapshotTime, "snapshotTime");
        Objects.requireNonNull(startedAt, "startedAt");
        Objects.requireNonNull(finishedAt, "finishedAt");
        Objects.requireNonNull(objectives, "objectives");
        Objects.requireNonNull(figures, "figures");
        if (outcome == Outcome.PASSED && !findings.isEmpty()) {
            throw new IllegalArgumentException("a passed drill has no findings, got " + findings);
        }
        if (outcome != Outcome.PASSED && findings.isEmpty()) {
            throw new IllegalArgumentException("a " + outcome + " drill needs a finding that says why");
        }
    }

    /** How a drill ended. */
    public enum Outcome {
        /** Restored, verified, smoke-checked, within the RPO and the RTO. */
        PASSED,
        /** At least one finding: the checkpoint set is not recoverable as promised. */
        FAILED,
        /** Not run, because another drill of the same runner was running. */
        SKIPPED
    }

    /** What a finding is about; stable names, used in the JSON. */
    public enum Code {
        /** No snapshot of the checkpoint set exists in the store (or the chosen one is missing). */
        NO_SNAPSHOT,
        /** The store could not be reached or failed. */
        STORE_UNREACHABLE,
        /** The key does not open the repository. */
        WRONG_KEY,
        /** An object is missing, damaged or fails authentication; {@link Finding#object()} names it. */
        CORRUPT_OBJECT,
        /** The snapshot is older than the RPO. */
        RPO_EXCEEDED,
        /** Verification, restore and smoke check took longer than the RTO. */
        RTO_EXCEEDED,
        /** The scratch area has less usable space than the snapshot needs; found before restoring. */
        SCRATCH_TOO_SMALL,
        /** The caller's smoke check threw. */
        SMOKE_CHECK_FAILED,
        /** The restore failed for another reason (target, cancellation, an unexpected error). */
        RESTORE_FAILED,
        /** Another drill of the same runner was running; this one was skipped. */
        OVERLAPPING_DRILL,
        /**
         * The store's newest snapshot is older than one this client saw before: snapshots were
         * deleted from the store ({@link io.dr4j.backup.RollbackDetectedException}); the drill did not restore.
         */
        ROLLBACK_DETECTED
    }

    /**
     * One reason a drill failed or was skipped.
     *
     * @param code what kind of problem
     * @param message a sentence for people, naming the object, store and figures involved
     * @param object the store key of the object concerned, for {@link Code#CORRUPT_OBJECT}
     */
    public record Finding(Code code, String message, Optional<String> object) {
        public Finding {
            Objects.requireNonNull(code, "code");
            Objects.requireNonNull(message, "message");
            Objects.requireNonNull(object, "object");
        }

        /** A finding about no object in particular. */
        public static Finding of(Code code, String message) {
            return new Finding(code, message, Optional.empty());
        }
    }

    /**
     * Figures of a drill; a phase that did not run has no duration.
     *
     * @param snapshotAge age of the snapshot when the drill started (compared with the RPO)
     * @param verifyTime time to read and authenticate every chunk
     * @param restoreTime time to restore into scratch space
     * @param smokeCheckTime time of the caller's smoke check
     * @param recoveryTime verify + restore + smoke check (compared with the RTO)
     * @param files files restored
     * @param bytesRestored bytes of those files
     * @param chunksVerified distinct chunks read and authenticated by the verification
     * @param bytesVerified plaintext bytes of those chunks
     */
    public record Figures(Optional<Duration> snapshotAge, Optional<Duration> verifyTime, Optional<Duration> restoreTime,
            Optional<Duration> smokeCheckTime, Optional<Duration> recoveryTime, long files, long bytesRestored,
            long chunksVerified, long bytesVerified) {

        /** Nothing measured. */
        public static final Figures NONE = new Figures(Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty(), 0, 0, 0, 0);

        public Figures {
            Objects.requireNonNull(snapshotAge, "snapshotAge");
            Objects.requireNonNull(verifyTime, "verifyTime");
            Objects.requireNonNull(restoreTime, "restoreTime");
            Objects.requireNonNull(smokeCheckTime, "smokeCheckTime");
            Objects.requireNonNull(recoveryTime, "recoveryTime");
            if (files < 0 || bytesRestored < 0 || chunksVerified < 0 || bytesVerified < 0) {
                throw new IllegalArgumentException("negative counts in drill figures");
            }
        }
    }

    /** Whether the drill passed. */
    public boolean passed() {
        return outcome == Outcome.PASSED;
    }

    /** Whether some finding has {@code code}. */
    public boolean has(Code code) {
        return findings.stream().anyMatch(f -> f.code() == code);
    }

    /** The report as JSON, in schema version {@value #SCHEMA_VERSION} (see {@code docs/drill-report.md}), pretty-printed. */
    public String toJson() {
        return ReportCodec.toJson(this);
    }

    /**
     * Reads a report written by {@link #toJson()}; unknown fields are ignored, so that reports of
     * a newer minor revision still read.
     *
     * @throws IllegalArgumentException if the text is not a drill report, or of a newer schema version
     */
    public static DrillReport fromJson(String json) {
        return ReportCodec.fromJson(json);
    }

    /** The report as a few lines of text for people. */
    public String toText() {
        return ReportCodec.toText(this);
    }

    @Override
    public String toString() {
        return "DrillReport[" + outcome + " " + checkpointSet + " from " + store + snapshot.map(s -> " snapshot " + s).orElse("")
                + (findings.isEmpty() ? "" : " " + findings.stream().map(f -> f.code().name()).toList()) + "]";
    }
}
