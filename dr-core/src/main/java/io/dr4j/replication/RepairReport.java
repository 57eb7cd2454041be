package io.dr4j.replication;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What one {@link ReplicatedBlobStore#repair()} pass did. Immutable and thread-safe.
 *
 * @param objectsCopied objects written to members that lacked them or held a different version
 * @param bytesCopied bytes of those objects
 * @param objectsDeleted objects deleted from members that missed a delete (tombstones applied) or
 *     held an object that a failed write was rolled back from
 * @param keysExamined keys compared across members
 * @param failures one line per key and member that could not be repaired (its write stays owed)
 * @param owedAfter writes still owed after the pass
 * @param elapsed wall time of the pass
 */
public record RepairReport(long objectsCopied, long bytesCopied, long objectsDeleted, long keysExamined,
        List<String> failures, long owedAfter, Duration elapsed) {

    public RepairReport {
        failures = List.copyOf(failures);
        Objects.requireNonNull(elapsed, "elapsed");
    }

    /** Whether the pass left every member complete (no failures, nothing owed). */
    public boolean complete() {
        return failures.isEmpty() && owedAfter == 0;
    }
}
