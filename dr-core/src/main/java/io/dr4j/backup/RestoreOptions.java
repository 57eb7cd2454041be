package io.dr4j.backup;

import java.util.Objects;

/**
 * Options of one {@link Repository#restore} call. Immutable; build with {@link #builder()}.
 *
 * @param replaceExisting whether a non-empty target may be replaced (default false: a non-empty
 *     target is refused before anything is written)
 * @param delta whether chunks already present in an existing target are reused instead of being
 *     downloaded (default true; each reused chunk is checked against its id first)
 * @param restorePermissions whether POSIX permissions are applied (default true)
 * @param restoreTimes whether modification times are applied (default true)
 * @param progress progress callback (default none)
 * @param cancellation cancellation token (default none)
 */
public record RestoreOptions(boolean replaceExisting, boolean delta, boolean restorePermissions, boolean restoreTimes,
        ProgressListener progress, CancellationToken cancellation) {

    public RestoreOptions {
        Objects.requireNonNull(progress, "progress");
        Objects.requireNonNull(cancellation, "cancellation");
    }

    /** Defaults: refuse a non-empty target, delta on, permissions and times restored. */
    public static RestoreOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds {@link RestoreOptions}. Not thread-safe. */
    public static final class Builder {
        private boolean replaceExisting;
        private boolean delta = true;
        private boolean restorePermissions = true;
        private boolean restoreTimes = true;
        private ProgressListener progress = ProgressListener.NONE;
        private CancellationToken cancellation = new CancellationToken();

        private Builder() {
        }

        public Builder replaceExisting(boolean replace) {
            this.replaceExisting = replace;
            return this;
        }

        public Builder delta(boolean delta) {
            this.delta = delta;
            return this;
        }

        public Builder restorePermissions(boolean restore) {
            this.restorePermissions = restore;
            return this;
        }

        public Builder restoreTimes(boolean restore) {
            this.restoreTimes = restore;
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

        public RestoreOptions build() {
            return new RestoreOptions(replaceExisting, delta, restorePermissions, restoreTimes, progress, cancellation);
        }
    }
}
