package io.dr4j.backup;

import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Run-time settings of an open {@link Repository} (the format settings are in {@link InitOptions}).
 * Immutable; build with {@link #builder()}. Memory use of a backup or restore is fixed by these
 * settings and the pack size, whatever the checkpoint's size: a backup holds up to
 * {@code min(inFlightBytes / maxChunk, 4 × workers + 4)} chunk buffers, {@code min(workers, 4) + 2}
 * pack buffers and a read buffer of twice the maximum chunk size per reader; a restore holds
 * {@code min(8, max(2, inFlightBytes / packSize))} range buffers of a pack's size and as many chunk
 * buffers. With the defaults on two cores that is about 80 MiB for a backup and 70 MiB for a
 * restore, allocated once and reused.
 *
 * @param workers threads for chunking, hashing, sealing and opening chunks (default: available processors)
 * @param ioConcurrency concurrent store requests (default 8)
 * @param inFlightBytes bytes of chunk data held in memory at once (default 64 MiB, at least the maximum chunk size)
 * @param cacheDirectory where the sealed index files and snapshot catalog are cached (default {@code $XDG_CACHE_HOME/dr4j} or
 *     {@code ~/.cache/dr4j}); empty to disable the cache (every run then reads every index file and new manifest from the store)
 * @param host the host name recorded in snapshots and locks (default: this machine's)
 * @param clock time source for snapshot times, locks and retention (default UTC system clock)
 * @param lockStaleAfter a lock not refreshed for this long is ignored (default 30 minutes)
 * @param pruneGracePeriod unreferenced chunks younger than this survive a prune (default 24 hours)
 * @param storeAttempts attempts per store operation for transient failures (default 5; 1 disables retries)
 * @param repackThreshold prune copies the live chunks of a pack into a new pack, and deletes the old one, when more
 *     than this fraction of the pack's bytes is unreferenced (default 0.2; 0 repacks any pack with dead bytes,
 *     1 never repacks and only deletes packs that are wholly unreferenced)
 * @param readerLimits ceilings on what the store may ask a reader to spend (KDF cost, key slots, object sizes);
 *     default {@link ReaderLimits#defaults()}
 * @param uploadLimit bytes per second this repository sends to its store at most, all threads together (default
 *     unlimited); see {@link io.dr4j.storage.RateLimitedBlobStore}
 * @param downloadLimit bytes per second this repository reads from its store at most (default unlimited)
 * @param meterRegistry where backups, restores, verifies, prunes and copies publish their Micrometer meters
 *     ({@code dr4j.repository.*}, listed in {@code docs/guide.md} §Metrics); default none: nothing is registered
 */
public record RepositoryOptions(int workers, int ioConcurrency, long inFlightBytes, Optional<Path> cacheDirectory,
        String host, Clock clock, Duration lockStaleAfter, Duration pruneGracePeriod, int storeAttempts,
        double repackThreshold, ReaderLimits readerLimits, OptionalLong uploadLimit, OptionalLong downloadLimit,
        Optional<MeterRegistry> meterRegistry) {

    public RepositoryOptions {
        if (workers < 1 || workers > 256) {
            throw new IllegalArgumentException("workers must be 1 to 256, was " + workers);
        }
        if (ioConcurrency < 1 || ioConcurrency > 1024) {
            throw new IllegalArgumentException("ioConcurrency must be 1 to 1024, was " + ioConcurrency);
        }
        if (inFlightBytes < ChunkerParameters.MAX_CHUNK_SIZE / 8) {
            throw new IllegalArgumentException("inFlightBytes must be at least " + (ChunkerParameters.MAX_CHUNK_SIZE / 8)
                    + ", was " + inFlightBytes);
        }
        Objects.requireNonNull(cacheDirectory, "cacheDirectory");
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("host must be non-blank");
        }
        Objects.requireNonNull(clock, "clock");
        if (lockStaleAfter.compareTo(Duration.ofMinutes(1)) < 0) {
            throw new IllegalArgumentException("lockStaleAfter must be at least a minute, was " + lockStaleAfter);
        }
        if (pruneGracePeriod.isNegative()) {
            throw new IllegalArgumentException("pruneGracePeriod must not be negative, was " + pruneGracePeriod);
        }
        if (storeAttempts < 1) {
            throw new IllegalArgumentException("storeAttempts must be at least 1, was " + storeAttempts);
        }
        if (!(repackThreshold >= 0 && repackThreshold <= 1)) {
            throw new IllegalArgumentException("repackThreshold must be between 0 and 1, was " + repackThreshold);
        }
        Objects.requireNonNull(readerLimits, "readerLimits");
        checkLimit("uploadLimit", uploadLimit);
        checkLimit("downloadLimit", downloadLimit);
        Objects.requireNonNull(meterRegistry, "meterRegistry");
    }

    private static void checkLimit(String name, OptionalLong limit) {
        Objects.requireNonNull(limit, name);
        if (limit.isPresent() && limit.getAsLong() <= 0) {
            throw new IllegalArgumentException(name + " must be a positive number of bytes per second, was "
                    + limit.getAsLong() + " (leave it unset for no limit)");
        }
    }

    /** The defaults. */
    public static RepositoryOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds {@link RepositoryOptions}. Not thread-safe. */
    public static final class Builder {
        private int workers = Runtime.getRuntime().availableProcessors();
        private int ioConcurrency = 8;
        private long inFlightBytes = 64L << 20;
        private Optional<Path> cacheDirectory = defaultCacheDirectory();
        private String host = defaultHost();
        private Clock clock = Clock.systemUTC();
        private Duration lockStaleAfter = Duration.ofMinutes(30);
        private Duration pruneGracePeriod = Duration.ofHours(24);
        private int storeAttempts = 5;
        private double repackThreshold = 0.2;
        private ReaderLimits readerLimits = ReaderLimits.defaults();
        private OptionalLong uploadLimit = OptionalLong.empty();
        private OptionalLong downloadLimit = OptionalLong.empty();
        private Optional<MeterRegistry> meterRegistry = Optional.empty();

        private Builder() {
        }

        public Builder workers(int workers) {
            this.workers = workers;
            return this;
        }

        public Builder ioConcurrency(int n) {
            this.ioConcurrency = n;
            return this;
        }

        public Builder inFlightBytes(long bytes) {
            this.inFlightBytes = bytes;
            return this;
        }

        public Builder cacheDirectory(Path dir) {
            this.cacheDirectory = Optional.of(dir);
            return this;
        }

        public Builder noCache() {
            this.cacheDirectory = Optional.empty();
            return this;
        }

        public Builder host(String host) {
            this.host = host;
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        public Builder lockStaleAfter(Duration d) {
            this.lockStaleAfter = Objects.requireNonNull(d);
            return this;
        }

        public Builder pruneGracePeriod(Duration d) {
            this.pruneGracePeriod = Objects.requireNonNull(d);
            return this;
        }

        public Builder storeAttempts(int attempts) {
            this.storeAttempts = attempts;
            return this;
        }

        public Builder repackThreshold(double fraction) {
            this.repackThreshold = fraction;
            return this;
        }

        /** Ceilings against a hostile store; see {@link ReaderLimits}. */
        public Builder readerLimits(ReaderLimits limits) {
            this.readerLimits = Objects.requireNonNull(limits);
            return this;
        }

        /**
         * Limits what this repository sends to its store to {@code bytesPerSecond} (all threads together).
         *
         * @throws IllegalArgumentException if not positive
         */
        public Builder uploadLimit(long bytesPerSecond) {
            this.uploadLimit = OptionalLong.of(bytesPerSecond);
            checkLimit("uploadLimit", uploadLimit);
            return this;
        }

        /**
         * Limits what this repository reads from its store to {@code bytesPerSecond} (all threads together).
         *
         * @throws IllegalArgumentException if not positive
         */
        public Builder downloadLimit(long bytesPerSecond) {
            this.downloadLimit = OptionalLong.of(bytesPerSecond);
            checkLimit("downloadLimit", downloadLimit);
            return this;
        }

        /**
         * Publishes the meters of this repository's operations in {@code registry} (default none); see
         * {@code docs/guide.md} §Metrics for their names and tags. Meters appear at an operation's end and are
         * not removed by {@link Repository#close()}, so a process that opens a repository per backup keeps
         * counting on the same meters.
         */
        public Builder meterRegistry(MeterRegistry registry) {
            this.meterRegistry = Optional.of(Objects.requireNonNull(registry, "registry"));
            return this;
        }

        /** @throws IllegalArgumentException naming the first setting out of range */
        public RepositoryOptions build() {
            return new RepositoryOptions(workers, ioConcurrency, inFlightBytes, cacheDirectory, host, clock,
                    lockStaleAfter, pruneGracePeriod, storeAttempts, repackThreshold, readerLimits, uploadLimit,
                    downloadLimit, meterRegistry);
        }

        private static Optional<Path> defaultCacheDirectory() {
            String xdg = System.getenv("XDG_CACHE_HOME");
            if (xdg != null && !xdg.isBlank()) {
                return Optional.of(Path.of(xdg, "dr4j"));
            }
            String home = System.getProperty("user.home");
            return home == null || home.isBlank() ? Optional.empty() : Optional.of(Path.of(home, ".cache", "dr4j"));
        }

        private static String defaultHost() {
            String env = System.getenv("HOSTNAME");
            if (env != null && !env.isBlank()) {
                return env;
            }
            try {
                return InetAddress.getLocalHost().getHostName();
            } catch (Exception e) {
                return "localhost";
            }
        }
    }
}
