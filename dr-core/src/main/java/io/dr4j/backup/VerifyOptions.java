package io.dr4j.backup;

import java.util.Objects;

/**
 * How {@link Repository#verify(SnapshotId, VerifyOptions)} checks a snapshot. Immutable and thread-safe.
 *
 * <pre>{@code
 * VerifyOptions.builder().level(VerifyLevel.DATA).subset(PackSubset.slice(day % 7 + 1, 7)).build()
 * }</pre>
 */
public final class VerifyOptions {

    private final VerifyLevel level;
    private final PackSubset subset;
    private final CancellationToken cancellation;

    private VerifyOptions(Builder b) {
        this.level = b.level;
        this.subset = b.subset;
        this.cancellation = b.cancellation;
    }

    /** Metadata level, every pack, not cancellable. */
    public static VerifyOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** How thoroughly (default {@link VerifyLevel#METADATA}). */
    public VerifyLevel level() {
        return level;
    }

    /** Which packs a {@link VerifyLevel#DATA} check reads (default {@link PackSubset#ALL}); ignored at metadata level. */
    public PackSubset subset() {
        return subset;
    }

    /** Cancels the check (default: a token nobody cancels). */
    public CancellationToken cancellation() {
        return cancellation;
    }

    /** Builds {@link VerifyOptions}; not thread-safe. */
    public static final class Builder {
        private VerifyLevel level = VerifyLevel.METADATA;
        private PackSubset subset = PackSubset.ALL;
        private CancellationToken cancellation = new CancellationToken();

        private Builder() {
        }

        public Builder level(VerifyLevel level) {
            this.level = Objects.requireNonNull(level, "level");
            return this;
        }

        public Builder subset(PackSubset subset) {
            this.subset = Objects.requireNonNull(subset, "subset");
            return this;
        }

        public Builder cancellation(CancellationToken cancellation) {
            this.cancellation = Objects.requireNonNull(cancellation, "cancellation");
            return this;
        }

        public VerifyOptions build() {
            return new VerifyOptions(this);
        }
    }
}
