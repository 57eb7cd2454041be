package io.dr4j.backup;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Options of one {@link Repository#backup} call. Immutable; build with {@link #builder()}.
 *
 * @param tags tags to attach (default none)
 * @param labels labels to attach, e.g. {@code model}, {@code step} (default none)
 * @param parent the snapshot to back up incrementally against; default: the newest snapshot of the
 *     same host and source path
 * @param rereadUnchanged whether files whose size, mtime and mode match the parent are read again
 *     (default false: their chunk list is reused, as restic does)
 * @param progress progress callback (default none)
 * @param cancellation cancellation token (default none)
 */
public record BackupOptions(Set<String> tags, Map<String, String> labels, Optional<SnapshotId> parent,
        boolean rereadUnchanged, ProgressListener progress, CancellationToken cancellation) {

    public BackupOptions {
        tags = Set.copyOf(tags);
        labels = Map.copyOf(labels);
        Objects.requireNonNull(parent, "parent");
        Objects.requireNonNull(progress, "progress");
        Objects.requireNonNull(cancellation, "cancellation");
    }

    /** Defaults: no tags or labels, automatic parent, progress ignored. */
    public static BackupOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds {@link BackupOptions}. Not thread-safe. */
    public static final class Builder {
        private final Set<String> tags = new TreeSet<>();
        private final Map<String, String> labels = new TreeMap<>();
        private SnapshotId parent;
        private boolean rereadUnchanged;
        private ProgressListener progress = ProgressListener.NONE;
        private CancellationToken cancellation = new CancellationToken();

        private Builder() {
        }

        /** Adds a tag (non-blank, no whitespace). */
        public Builder tag(String tag) {
            if (tag == null || tag.isBlank() || tag.chars().anyMatch(Character::isWhitespace)) {
                throw new IllegalArgumentException("Invalid tag '" + tag + "': must be non-empty without whitespace");
            }
            tags.add(tag);
            return this;
        }

        /** Adds a label, e.g. {@code label("model", "llama-3-8b")}. */
        public Builder label(String key, String value) {
            if (key == null || key.isBlank()) {
                throw new IllegalArgumentException("label key must be non-blank");
            }
            labels.put(key, Objects.requireNonNull(value, "label value"));
            return this;
        }

        public Builder parent(SnapshotId parent) {
            this.parent = Objects.requireNonNull(parent);
            return this;
        }

        public Builder rereadUnchanged(boolean reread) {
            this.rereadUnchanged = reread;
            return this;
        }

        public Builder progress(ProgressListener progress) {
            this.progress = Objects.requireNonNull(progress);
            return this;
        }

        public Builder cancellation(CancellationToken token) {
            this.cancellation = Objects.requireNonNull(token);
            return this;
        }

        public BackupOptions build() {
            return new BackupOptions(tags, labels, Optional.ofNullable(parent), rereadUnchanged, progress, cancellation);
        }
    }
}
