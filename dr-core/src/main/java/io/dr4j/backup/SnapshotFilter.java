package io.dr4j.backup;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Selects snapshots by host, source path, tags (all must be present) and labels (all must match).
 * Immutable.
 *
 * @param host required host, if set
 * @param source required source path, if set
 * @param tags tags a snapshot must all have
 * @param labels labels a snapshot must all have with these values
 */
public record SnapshotFilter(Optional<String> host, Optional<String> source, Set<String> tags,
        Map<String, String> labels) implements Predicate<Snapshot> {

    /** Matches every snapshot. */
    public static final SnapshotFilter ALL = new SnapshotFilter(Optional.empty(), Optional.empty(), Set.of(), Map.of());

    public SnapshotFilter {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(source, "source");
        tags = Set.copyOf(tags);
        labels = Map.copyOf(labels);
    }

    /** Snapshots having all of {@code tags}. */
    public static SnapshotFilter withTags(String... tags) {
        return ALL.andTags(tags);
    }

    /** This filter, also requiring {@code tags}. */
    public SnapshotFilter andTags(String... tags) {
        Set<String> all = new java.util.HashSet<>(this.tags);
        all.addAll(Set.of(tags));
        return new SnapshotFilter(host, source, all, labels);
    }

    /** This filter, also requiring label {@code key=value}. */
    public SnapshotFilter andLabel(String key, String value) {
        Map<String, String> all = new java.util.HashMap<>(labels);
        all.put(key, value);
        return new SnapshotFilter(host, source, tags, all);
    }

    /** This filter, also requiring the host. */
    public SnapshotFilter andHost(String host) {
        return new SnapshotFilter(Optional.of(host), source, tags, labels);
    }

    /** This filter, also requiring the source path. */
    public SnapshotFilter andSource(String source) {
        return new SnapshotFilter(host, Optional.of(source), tags, labels);
    }

    @Override
    public boolean test(Snapshot s) {
        return host.map(s.host()::equals).orElse(true)
                && source.map(s.source()::equals).orElse(true)
                && s.tags().containsAll(tags)
                && labels.entrySet().stream().allMatch(e -> e.getValue().equals(s.labels().get(e.getKey())));
    }
}
