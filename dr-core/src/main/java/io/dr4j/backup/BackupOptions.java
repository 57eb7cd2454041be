package io.dr4j.backup;

import java.util.ArrayList;
import java.util.List;
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
 * @param excludes glob patterns of paths not to back up, relative to the source (default none); the
 *     syntax is in {@code docs/guide.md} ("Excluding files"): {@code *}, {@code ?}, {@code [..]} within a
 *     name, {@code **} across names, a pattern without {@code /} matches a name at any depth, one
 *     matching a directory excludes its subtree, a trailing {@code /} matches directories only. The
 *     patterns are recorded in the snapshot ({@link Snapshot#excludes()})
 * @param allowEmpty whether a backup whose excludes leave none of the source's files is allowed (an
 *     empty snapshot); default false: such a backup is refused with an {@link IllegalArgumentException}
 */
public record BackupOptions(Set<String> tags, Map<String, String> labels, Optional<SnapshotId> parent,
        boolean rereadUnchanged, ProgressListener progress, CancellationToken cancellation, List<String> excludes,
        boolean allowEmpty) {

    public BackupOptions {
        tags = Set.copyOf(tags);
        labels = Map.copyOf(labels);
        Objects.requireNonNull(parent, "parent");
        Objects.requireNonNull(progress, "progress");
        Objects.requireNonNull(cancellation, "cancellation");
        excludes = List.copyOf(excludes);
        excludes.forEach(ExcludeMatcher::check);
    }

    /** Options without excludes, as before they existed. */
    public BackupOptions(Set<String> tags, Map<String, String> labels, Optional<SnapshotId> parent,
            boolean rereadUnchanged, ProgressListener progress, CancellationToken cancellation) {
        this(tags, labels, parent, rereadUnchanged, progress, cancellation, List.of(), false);
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
        private final List<String> excludes = new ArrayList<>();
        private boolean allowEmpty;

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

        /**
         * Adds an exclude pattern (see {@link BackupOptions#excludes()}), e.g. {@code optimizer/**} or {@code *.tmp}.
         *
         * @throws IllegalArgumentException if the pattern is blank, has a {@code ..}, {@code .} or empty name, or an
         *     unclosed {@code [}
         */
        public Builder exclude(String glob) {
            ExcludeMatcher.check(glob);
            excludes.add(glob);
            return this;
        }

        /** Allows a backup whose excludes leave no file (default false: refused). */
        public Builder allowEmpty(boolean allow) {
            this.allowEmpty = allow;
            return this;
        }

        public BackupOptions build() {
            return new BackupOptions(tags, labels, Optional.ofNullable(parent), rereadUnchanged, progress, cancellation,
                    excludes, allowEmpty);
        }
    }
}
