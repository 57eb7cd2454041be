package io.dr4j.backup;

import io.dr4j.Dr4jException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link Repository#forget}: a retention policy applied group by group (same host and source),
 * then the manifests no rule keeps deleted and the rollback guard told.
 */
final class ForgetRun {

    private ForgetRun() {
    }

    static ForgetResult run(Context ctx, RollbackGuard rollback, List<Snapshot> all, RetentionPolicy policy, boolean dryRun,
            String storeName) {
        Map<String, List<Snapshot>> groups = new LinkedHashMap<>();
        for (Snapshot s : all) {
            groups.computeIfAbsent(s.host() + "\u0000" + s.source(), k -> new ArrayList<>()).add(s);
        }
        List<ForgetResult.Kept> kept = new ArrayList<>();
        List<Snapshot> removed = new ArrayList<>();
        for (List<Snapshot> group : groups.values()) {
            Map<SnapshotId, List<String>> decisions = policy.decide(group);
            for (Snapshot s : group) {
                List<String> reasons = decisions.get(s.id());
                if (reasons == null) {
                    removed.add(s);
                } else {
                    kept.add(new ForgetResult.Kept(s, reasons));
                }
            }
        }
        if (!dryRun) {
            for (Snapshot s : removed) {
                try {
                    ctx.store().delete(ManifestStore.key(s.id()));
                } catch (IOException e) {
                    throw new Dr4jException("forgetting snapshot " + s.id() + " in " + storeName + " failed: "
                            + e.getMessage(), e);
                }
            }
        }
        if (!dryRun) {
            rollback.forgot(removed, kept.stream().map(ForgetResult.Kept::snapshot).toList());
        }
        return new ForgetResult(kept, removed, dryRun);
    }
}
