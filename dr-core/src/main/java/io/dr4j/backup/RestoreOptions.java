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
 * @param durability what the all-or-nothing promise survives (default {@link Durability#POWER_LOSS})
 * @param allowNonPortablePaths whether paths that are safe on POSIX but not on Windows are restored (default false:
 *     a snapshot with a {@code :}, a device name such as {@code CON} or {@code nul.txt}, a name ending in a dot or
 *     space, a character of {@code <>"|?*}, or two paths equal under case folding or Unicode NFC is refused on every
 *     platform before anything is written; true restores them on Linux and macOS, never on Windows; FORMAT.md §Snapshots)
 */
public record RestoreOptions(boolean replaceExisting, boolean delta, boolean restorePermissions, boolean restoreTimes,
        ProgressListener progress, CancellationToken cancellation, Durability durability, boolean allowNonPortablePaths) {

    /**
     * How durable a finished restore is. Either way a restore is atomic against a killed process:
     * the new tree is renamed into place only when complete, so the target is the old tree or
     * the new one.
     */
    public enum Durability {
        /**
         * Every file and directory of the new tree is forced to disk (fsync) before the rename, and
         * the parent directory after it: once the restore returns, the new tree survives a power
         * loss, and a power loss during the restore leaves the old tree. The default.
         */
        POWER_LOSS,
        /**
         * Nothing is forced: faster (the kernel writes the data back when it likes), but after a
         * power loss soon after the restore the target may name files whose data never reached
         * the disk. For scratch restores (drills) and targets rebuilt anyway after a reboot.
         */
        PROCESS_CRASH
    }

    public RestoreOptions {
        Objects.requireNonNull(durability, "durability");
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
        private Durability durability = Durability.POWER_LOSS;
        private boolean allowNonPortablePaths;

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

        /** What a finished restore survives; see {@link Durability}. */
        public Builder durability(Durability durability) {
            this.durability = Objects.requireNonNull(durability);
            return this;
        }

        /** Restore paths that are only unsafe on Windows (never honoured on Windows); see {@link RestoreOptions}. */
        public Builder allowNonPortablePaths(boolean allow) {
            this.allowNonPortablePaths = allow;
            return this;
        }

        public RestoreOptions build() {
            return new RestoreOptions(replaceExisting, delta, restorePermissions, restoreTimes, progress, cancellation, durability,
                    allowNonPortablePaths);
        }
    }
}
