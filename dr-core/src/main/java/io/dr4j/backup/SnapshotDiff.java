package io.dr4j.backup;

import java.util.List;

/**
 * The difference between two snapshots, by path.
 *
 * @param from the older snapshot
 * @param to the newer snapshot
 * @param added paths only in {@code to}
 * @param removed paths only in {@code from}
 * @param modified files in both whose content differs
 * @param unchanged number of paths in both with the same content
 * @param bytesAdded bytes of chunks {@code to} references that {@code from} does not (what the newer snapshot cost)
 */
public record SnapshotDiff(SnapshotId from, SnapshotId to, List<String> added, List<String> removed,
        List<String> modified, long unchanged, long bytesAdded) {

    public SnapshotDiff {
        added = List.copyOf(added);
        removed = List.copyOf(removed);
        modified = List.copyOf(modified);
    }
}
