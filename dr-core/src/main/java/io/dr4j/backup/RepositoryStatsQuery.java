package io.dr4j.backup;

import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * {@link Repository#stats()} and {@link Repository#stats(List)}: the snapshots listed first (their
 * index files are written before their manifests, so every chunk they name is already indexed),
 * then the index loaded once and each manifest read one at a time into a {@link StatsRun}.
 */
final class RepositoryStatsQuery {

    private RepositoryStatsQuery() {
    }

    static RepositoryStats all(Context ctx, ManifestStore manifests) {
        List<Snapshot> all = manifests.summaries();
        StatsRun run = StatsRun.start(ctx);
        for (Snapshot s : all) {
            try {
                run.add(manifests.load(s.id()));
            } catch (SnapshotNotFoundException e) {
                // forgotten meanwhile: left out
            }
        }
        return run.result(all.size());
    }

    static RepositoryStats chosen(Context ctx, ManifestStore manifests, String storeName, List<SnapshotId> snapshots) {
        Objects.requireNonNull(snapshots, "snapshots");
        if (snapshots.isEmpty()) {
            throw new SnapshotNotFoundException("no snapshot chosen for stats of " + storeName
                    + "; name at least one, or ask for the whole repository");
        }
        Set<SnapshotId> present = new HashSet<>(manifests.ids());
        for (SnapshotId id : snapshots) {
            if (!present.contains(id)) {
                throw new SnapshotNotFoundException("no snapshot " + id + " in " + storeName + "; no stats were computed");
            }
        }
        StatsRun run = StatsRun.start(ctx);
        for (SnapshotId id : new LinkedHashSet<>(snapshots)) {
            run.add(manifests.load(id));
        }
        return run.result(present.size());
    }
}
