package io.dr4j.backup;

import java.util.Objects;

/**
 * Options of one {@link Repository#copyTo} call. Immutable; build with {@link #builder()}.
 *
 * @param progress progress callback: bytes of chunk plaintext copied of those to copy (default none)
 * @param cancellation cancellation token (default none); a cancelled copy indexes what it already
 *     stored before it throws, so the next copy resumes there
 */
public record CopyOptions(ProgressListener progress, CancellationToken cancellation) {

    public CopyOptions {
        Objects.requireNonNull(progress, "progress");
        Objects.requireNonNull(cancellation, "cancellation");
    }

    /** No progress, not cancellable. */
    public static CopyOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds {@link CopyOptions}. Not thread-safe. */
    public static final class Builder {
        private ProgressListener progress = ProgressListener.NONE;
        private CancellationToken cancellation = new CancellationToken();

        private Builder() {
        }

        public Builder progress(ProgressListener progress) {
            this.progress = Objects.requireNonNull(progress, "progress");
            return this;
        }

        public Builder cancellation(CancellationToken cancellation) {
            this.cancellation = Objects.requireNonNull(cancellation, "cancellation");
            return this;
        }

        public CopyOptions build() {
            return new CopyOptions(progress, cancellation);
        }
    }
}
