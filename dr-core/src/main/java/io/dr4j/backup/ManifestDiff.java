package io.dr4j.backup;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@link Repository#diff}: two manifests compared by path and file hash, and the chunk bytes the newer adds. */
final class ManifestDiff {

    private ManifestDiff() {
    }

    static SnapshotDiff compare(SnapshotId from, SnapshotId to, Manifest a, Manifest b) {
        Map<String, Manifest.Entry> before = new HashMap<>();
        a.entries().forEach(e -> before.put(e.entry().path(), e));
        Set<ChunkId> oldChunks = new HashSet<>();
        a.entries().forEach(e -> e.chunks().forEach(c -> oldChunks.add(c.id())));
        List<String> added = new ArrayList<>();
        List<String> modified = new ArrayList<>();
        long unchanged = 0;
        long bytesAdded = 0;
        Set<ChunkId> counted = new HashSet<>();
        Set<String> seen = new HashSet<>();
        for (Manifest.Entry e : b.entries()) {
            String path = e.entry().path();
            seen.add(path);
            Manifest.Entry old = before.get(path);
            if (old == null) {
                added.add(path);
            } else if (old.entry().type() != e.entry().type() || !old.entry().hash().equals(e.entry().hash())) {
                modified.add(path);
            } else {
                unchanged++;
            }
            for (Manifest.ChunkRef c : e.chunks()) {
                if (!oldChunks.contains(c.id()) && counted.add(c.id())) {
                    bytesAdded += c.length();
                }
            }
        }
        List<String> removed = a.entries().stream().map(e -> e.entry().path()).filter(p -> !seen.contains(p)).sorted().toList();
        return new SnapshotDiff(from, to, added, removed, modified, unchanged, bytesAdded);
    }
}
