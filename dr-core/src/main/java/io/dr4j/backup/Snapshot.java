package io.dr4j.backup;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A point-in-time copy of a checkpoint directory (or a single file) in a {@link Repository}.
 * Immutable.
 *
 * @param id the snapshot's id
 * @param time when the backup started
 * @param host the host that made it
 * @param source the absolute path that was backed up
 * @param tags free-form tags (e.g. {@code nightly})
 * @param labels key/value labels (e.g. {@code model=llama-3-8b}, {@code step=12000})
 * @param parent the snapshot it was made incrementally against, if any
 * @param entries files and directories, sorted by path
 * @param stats figures of the backup run
 * @param excludes the exclude patterns the backup ran with ({@link BackupOptions#excludes()}), in the order given;
 *     empty if none (and for snapshots written before excludes existed)
 */
public record Snapshot(SnapshotId id, Instant time, String host, String source, Set<String> tags,
        Map<String, String> labels, Optional<SnapshotId> parent, List<SnapshotEntry> entries, SnapshotStats stats,
        List<String> excludes) {

    public Snapshot {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(time, "time");
        tags = Set.copyOf(tags);
        labels = Map.copyOf(labels);
        entries = List.copyOf(entries);
        Objects.requireNonNull(parent, "parent");
        Objects.requireNonNull(stats, "stats");
        excludes = List.copyOf(excludes);
    }

    /** A snapshot made without excludes. */
    public Snapshot(SnapshotId id, Instant time, String host, String source, Set<String> tags,
            Map<String, String> labels, Optional<SnapshotId> parent, List<SnapshotEntry> entries, SnapshotStats stats) {
        this(id, time, host, source, tags, labels, parent, entries, stats, List.of());
    }

    /** Total bytes of the files in the snapshot. */
    public long totalBytes() {
        return entries.stream().mapToLong(SnapshotEntry::size).sum();
    }

    /** The regular files in the snapshot. */
    public List<SnapshotEntry> files() {
        return entries.stream().filter(e -> e.type() == SnapshotEntry.Type.FILE).toList();
    }
}
