package io.dr4j.backup;

import java.util.List;

/**
 * What {@link Repository#forget} kept and removed (or, in a dry run, would remove).
 *
 * @param kept snapshots kept, each with the rules that keep it
 * @param removed snapshots forgotten
 * @param dryRun whether nothing was actually deleted
 */
public record ForgetResult(List<Kept> kept, List<Snapshot> removed, boolean dryRun) {

    public ForgetResult {
        kept = List.copyOf(kept);
        removed = List.copyOf(removed);
    }

    /**
     * A kept snapshot and why.
     *
     * @param snapshot the snapshot
     * @param reasons the rules that keep it, e.g. {@code "daily 7"}
     */
    public record Kept(Snapshot snapshot, List<String> reasons) {
        public Kept {
            reasons = List.copyOf(reasons);
        }
    }
}
