package io.dr4j.replication;

import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStore;
import io.dr4j.storage.Capability;
import io.dr4j.storage.transfer.NamedThreadFactory;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * A {@link BlobStore} over N member stores (local disk, S3, Azure, another region): every object
 * is written to all members, so a repository on it is replicated with no change above the SPI.
 *
 * <p><b>Writes (W of N)</b> ({@link QuorumWriter}): a put or delete goes to every member in
 * parallel and returns once W acknowledge (default a majority), or fails after the write timeout
 * or as soon as W can no longer be reached; with fewer than W acknowledgements nothing is
 * reported written, the message names every member that did not acknowledge and why, and repair
 * rolls the members that took it back (or forward, if no up-to-date member refused it). Members
 * still writing finish in the background within a bounded budget; every owed write is appended
 * to the <b>durable repair log</b> before the put returns. Writes of one key are serialized. A
 * {@code byte[]} is copied once, a stream buffered (memory, then a temporary file), a file read
 * by each member.
 *
 * <p><b>Reads</b> ({@link ReplicaReader}): healthy before degraded before down, then by
 * priority, then by latency; members owing the key are skipped; fall back to the next member on
 * an error, on "not found" until a read quorum ({@code N - W + 1}) agrees, and on a failed check
 * (sizes, a second replica's CRC-32C with {@link ReadVerification#REPLICAS}, or the caller's own
 * check through the SPI's {@link #readVerified} for a range and
 * {@link #getBytesVerified(BlobKey, long, Predicate)} for a whole object under a size ceiling);
 * optional hedging. Members found missing, damaged or over the ceiling are read-repaired.
 *
 * <p><b>Repair, consistency, lag</b> ({@link Repairer}, {@link ConsistencyChecker},
 * {@link ReplicationMetrics}): {@link #repair()} pays back the log, then compares listings and
 * copies what differs, rate-limited; {@link #verifyConsistency} reports differences and changes
 * nothing; {@link #status()} and the Micrometer gauges give per member health, owed writes and
 * the age of the oldest unreplicated write (the achieved RPO of the standby).
 *
 * <p>The guarantees and limits in full (what integrity is checked where, memory, how retries of
 * the members multiply) are in {@code docs/guide.md}, "Replication" and "Retry plan". The first
 * key segment {@value #RESERVED_PREFIX} is reserved (the repair log may live in a member).
 *
 * <p>Thread-safe. The store's own executor is bounded ({@link Builder#maxThreads}) and named;
 * {@link #close()} waits up to the write timeout for background writes, cancels the rest (they
 * stay owed in the log), compacts the log, stops owned executors and closes the member stores
 * and the repair-log store, as other decorators close their delegate.
 *
 * <p>Why this file is above ~600 lines: the public {@link Builder} (some 230 lines, most of them
 * the javadoc of its options) stays nested because {@code ReplicatedBlobStore.Builder} is API;
 * the facade itself is under 400 lines, and the work is in the parts named above.
 */
public final class ReplicatedBlobStore implements BlobStore {

    /** The reserved first key segment. */
    public static final String RESERVED_PREFIX = "_dr4j";

    /** Where the repair log lives in its store. */
    public static final String REPAIR_LOG_PREFIX = RESERVED_PREFIX + "/repair";

    /** Default bound of the store's own executor: 256 threads. */
    public static final int DEFAULT_MAX_THREADS = 256;

    private final Replicas replicas;
    private final QuorumWriter writer;
    private final ReplicaReader reader;
    private final Repairer repairer;
    private final ConsistencyChecker checker;
    private final ReplicationMetrics metrics;
    private final boolean ownsExecutor;
    private final boolean ownsScheduler;
    private final BlobStore logStore;
    private final ScheduledFuture<?> scheduledRepair;

    private ReplicatedBlobStore(List<Member> members, ReplicationOptions options, Builder b, RepairJournal.Opened opened) {
        String label = "dr4j-replication-" + String.join("-", members.stream().map(Member::name).toList());
        this.ownsExecutor = b.executor == null;
        ExecutorService executor = ownsExecutor
                ? new ThreadPoolExecutor(0, options.maxThreads(), 30, TimeUnit.SECONDS, new SynchronousQueue<>(),
                        new NamedThreadFactory(label))
                : b.executor;
        this.ownsScheduler = b.scheduler == null;
        ScheduledExecutorService scheduler = ownsScheduler
                ? Executors.newSingleThreadScheduledExecutor(new NamedThreadFactory(label + "-timer"))
                : b.scheduler;
        this.logStore = b.logStore;
        this.replicas = new Replicas(members, options, executor, scheduler, opened.journal());
        replicas.restore(opened.pending().values());
        this.checker = new ConsistencyChecker(replicas);
        this.repairer = new Repairer(replicas, checker);
        this.writer = new QuorumWriter(replicas, repairer);
        this.reader = new ReplicaReader(replicas, repairer);
        this.metrics = new ReplicationMetrics(replicas, b.registry);
        if (options.repairInterval() != null) {
            long ms = options.repairInterval().toMillis();
            scheduledRepair = scheduler.scheduleWithFixedDelay(repairer::scheduledRepair, ms, ms, TimeUnit.MILLISECONDS);
        } else {
            scheduledRepair = null;
        }
    }

    /** Returns a builder. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Builds a {@link ReplicatedBlobStore}. Not thread-safe. Members, in priority order, and a
     * repair-log store are required; everything else has a documented default.
     */
    public static final class Builder {
        private final Set<String> names = new HashSet<>();
        private int writeQuorum;
        private Duration writeTimeout = Duration.ofMinutes(5);
        private long backgroundMaxBytes = 1L << 30;
        private int backgroundMaxWrites = 1024;
        private Duration backgroundTimeout = Duration.ofHours(1);
        private Duration hedgeDelay;
        private ReadVerification verification = ReadVerification.SIZE;
        private long streamBufferInMemory = 8L << 20;
        private Path tempDirectory = Path.of(System.getProperty("java.io.tmpdir"));
        private long repairBytesPerSecond = Long.MAX_VALUE;
        private Duration repairInterval;
        private Clock clock = Clock.systemUTC();
        private ExecutorService executor;
        private ScheduledExecutorService scheduler;
        private BlobStore logStore;
        private MeterRegistry registry;
        private CircuitBreakerSettings breaker = CircuitBreakerSettings.DEFAULT;
        private int maxThreads = DEFAULT_MAX_THREADS;
        private final List<MemberSpec> pendingMembers = new ArrayList<>();

        /** A member as added, before the members are sorted by priority. */
        private record MemberSpec(String name, BlobStore store, int priority) {
        }

        private Builder() {
        }

        /** Adds a member whose priority is its position (the first added is preferred for reads). */
        public Builder member(String name, BlobStore store) {
            return member(name, store, pendingMembers.size());
        }

        /**
         * Adds a member with an explicit read priority (lower is preferred; ties keep insertion
         * order). The highest-priority member also arbitrates {@link #putIfAbsent}.
         *
         * @throws IllegalArgumentException if the name is blank or already used
         */
        public Builder member(String name, BlobStore store, int priority) {
            Objects.requireNonNull(store, "store");
            if (name == null || name.isBlank() || name.contains(",")) {
                throw new IllegalArgumentException("member name must be non-blank and without ',', was '" + name + "'");
            }
            if (!names.add(name)) {
                throw new IllegalArgumentException("duplicate member name '" + name + "'");
            }
            pendingMembers.add(new MemberSpec(name, store, priority));
            return this;
        }

        /** Acknowledgements a write needs (default: a majority, {@code N/2 + 1}); between 1 and N. */
        public Builder writeQuorum(int w) {
            if (w < 1) {
                throw new IllegalArgumentException("write quorum must be at least 1, was " + w);
            }
            this.writeQuorum = w;
            return this;
        }

        /** How long a write waits for its quorum (default 5 minutes). */
        public Builder writeTimeout(Duration timeout) {
            this.writeTimeout = positive(timeout, "writeTimeout");
            return this;
        }

        /**
         * Bounds the member writes that continue after their put returned (default 1 GiB and 1,024
         * writes). A write that would exceed it is cancelled and owed in the repair log instead:
         * a put never waits for slow members beyond its quorum.
         */
        public Builder backgroundLimit(long maxBytes, int maxWrites) {
            if (maxBytes < 0 || maxWrites < 0) {
                throw new IllegalArgumentException("background limits must not be negative, were " + maxBytes + " bytes and " + maxWrites + " writes");
            }
            this.backgroundMaxBytes = maxBytes;
            this.backgroundMaxWrites = maxWrites;
            return this;
        }

        /** How long a background write may run before it is cancelled and owed (default 1 hour). */
        public Builder backgroundTimeout(Duration timeout) {
            this.backgroundTimeout = positive(timeout, "backgroundTimeout");
            return this;
        }

        /** Sends a read to the next member too if the first has not answered after {@code delay} (default: no hedging). */
        public Builder hedgeReadsAfter(Duration delay) {
            this.hedgeDelay = positive(delay, "hedge delay");
            return this;
        }

        /** How returned bytes are checked (default {@link ReadVerification#SIZE}). */
        public Builder readVerification(ReadVerification verification) {
            this.verification = Objects.requireNonNull(verification, "verification");
            return this;
        }

        /**
         * Streams put with {@code put(key, stream, length)} are buffered in memory up to this many
         * bytes, above it in a temporary file (default 8 MiB); {@code get} of objects up to this
         * size is verified in memory before it is returned.
         */
        public Builder streamBufferInMemory(long bytes) {
            if (bytes < 0 || bytes > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException("streamBufferInMemory must be in [0, 2^31 - 17], was " + bytes);
            }
            this.streamBufferInMemory = bytes;
            return this;
        }

        /** Where stream puts above the in-memory threshold are buffered (default {@code java.io.tmpdir}). */
        public Builder tempDirectory(Path dir) {
            this.tempDirectory = Objects.requireNonNull(dir, "dir");
            return this;
        }

        /** Caps the bytes per second that {@link ReplicatedBlobStore#repair} copies (default unlimited). */
        public Builder repairRateLimit(long bytesPerSecond) {
            if (bytesPerSecond < 1) {
                throw new IllegalArgumentException("repair rate must be positive, was " + bytesPerSecond);
            }
            this.repairBytesPerSecond = bytesPerSecond;
            return this;
        }

        /** Runs {@link ReplicatedBlobStore#repair()} every {@code interval} on the scheduler (default: never). */
        public Builder repairEvery(Duration interval) {
            this.repairInterval = positive(interval, "repair interval");
            return this;
        }

        /** The durable repair log's store (required): one that outlives the process, e.g. a {@code LocalBlobStore} on the writer's disk. */
        public Builder repairLog(BlobStore store) {
            this.logStore = Objects.requireNonNull(store, "store");
            return this;
        }

        /** Clock for timestamps of owed writes and for the circuit breakers (default UTC system clock). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Runs member calls on {@code executor}, which the store does not shut down (default: an
         * owned pool of at most {@link #maxThreads} named daemon threads). It should not queue
         * tasks behind each other: a member write waiting in a queue counts against the write
         * timeout.
         */
        public Builder executor(ExecutorService executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /** Runs timers and scheduled repair on {@code scheduler}, which the store does not shut down (default: an owned single thread). */
        public Builder scheduler(ScheduledExecutorService scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        /** Publishes health and lag gauges to {@code registry} (default: none). */
        public Builder meterRegistry(MeterRegistry registry) {
            this.registry = Objects.requireNonNull(registry, "registry");
            return this;
        }

        /**
         * When a member counts as down ({@link CircuitBreakerSettings#DEFAULT}: a window of 10
         * calls, at least 5, open at 50% failures for 30 s, 2 probe calls half-open). The
         * builder's clock times the breakers.
         */
        public Builder circuitBreaker(CircuitBreakerSettings settings) {
            this.breaker = Objects.requireNonNull(settings, "settings");
            return this;
        }

        /**
         * Bounds the threads of the store's own executor (default {@value #DEFAULT_MAX_THREADS}):
         * member calls of writes, background writes, hedged reads and read repairs. A member call
         * that finds every thread busy is not queued: a write's member then owes the write
         * (repair log), a hedge is not sent. Between N and 4096.
         */
        public Builder maxThreads(int threads) {
            if (threads < 1 || threads > 4096) {
                throw new IllegalArgumentException("maxThreads must be between 1 and 4096, was " + threads);
            }
            this.maxThreads = threads;
            return this;
        }

        /**
         * Opens the store: replays the repair log, so writes owed before a restart are owed again.
         *
         * @throws IllegalStateException if no member or no repair log was given, or W exceeds N
         * @throws IOException if the repair log cannot be read
         */
        public ReplicatedBlobStore build() throws IOException {
            if (pendingMembers.isEmpty()) {
                throw new IllegalStateException("a replicated store needs at least one member");
            }
            if (logStore == null) {
                throw new IllegalStateException("a replicated store needs a repairLog(store) for owed writes");
            }
            if (writeQuorum > pendingMembers.size()) {
                throw new IllegalStateException("write quorum " + writeQuorum + " exceeds the " + pendingMembers.size() + " members");
            }
            if (executor == null && maxThreads < pendingMembers.size()) {
                throw new IllegalStateException("maxThreads " + maxThreads + " is below the " + pendingMembers.size()
                        + " members: a write could never reach all of them");
            }
            List<MemberSpec> sorted = new ArrayList<>(pendingMembers);
            sorted.sort(Comparator.comparingInt(MemberSpec::priority)); // stable: ties keep insertion order
            List<Member> members = new ArrayList<>();
            for (MemberSpec m : sorted) {
                members.add(new Member(m.name(), m.store(), m.priority(), breaker, clock));
            }
            ReplicationOptions options = new ReplicationOptions(writeQuorum, writeTimeout, backgroundMaxBytes,
                    backgroundMaxWrites, backgroundTimeout, hedgeDelay, verification, streamBufferInMemory, tempDirectory,
                    repairBytesPerSecond, repairInterval, maxThreads, clock);
            return new ReplicatedBlobStore(members, options, this, RepairJournal.open(logStore, REPAIR_LOG_PREFIX));
        }

        private static Duration positive(Duration d, String what) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " must be positive, was " + d);
            }
            return d;
        }
    }

    // ------------------------------------------------------------------ identity

    @Override
    public String name() {
        return replicas.name;
    }

    /** {@link Capability#CONDITIONAL_PUT} if the arbitrating (highest-priority) member has it. */
    @Override
    public Set<Capability> capabilities() {
        return replicas.members.get(0).store().supportsConditionalPut() ? EnumSet.of(Capability.CONDITIONAL_PUT)
                : EnumSet.noneOf(Capability.class);
    }

    /** The write quorum W. */
    public int writeQuorum() {
        return replicas.writeQuorum;
    }

    /** The member names in priority order. */
    public List<String> memberNames() {
        return List.copyOf(replicas.byName.keySet());
    }

    // ------------------------------------------------------------------ writes

    @Override
    public void put(BlobKey key, Path source) throws IOException {
        writer.put(key, source);
    }

    /** Copies the range once (every member's write needs the bytes until it completes, possibly after this returns). */
    @Override
    public void put(BlobKey key, byte[] data, int offset, int length) throws IOException {
        writer.put(key, data, offset, length);
    }

    @Override
    public void put(BlobKey key, byte[] data) throws IOException {
        writer.put(key, data);
    }

    /** Buffers the stream first (memory or a temporary file, see {@link Builder#streamBufferInMemory}) so all members can read it. */
    @Override
    public void put(BlobKey key, InputStream data, long length) throws IOException {
        writer.put(key, data, length);
    }

    /**
     * Conditional put, arbitrated by the highest-priority member: its own {@code putIfAbsent}
     * decides (atomically where it declares {@link Capability#CONDITIONAL_PUT}), then the object is
     * replicated to the others with the usual quorum (the arbiter counts as one). If the arbiter
     * is unreachable, this fails rather than risk two winners; if the replication then misses the
     * quorum, the arbiter keeps the object until repair rolls it back.
     */
    @Override
    public void putIfAbsent(BlobKey key, byte[] data) throws IOException {
        writer.putIfAbsent(key, data);
    }

    /** Deletes from every member with the write quorum; members that miss it get a tombstone in the repair log. */
    @Override
    public void delete(BlobKey key) throws IOException {
        writer.delete(key);
    }

    /**
     * Cleans every member (see {@link BlobStore#cleanupIncompleteUploads}); returns the total. A
     * member that fails does not stop the others; the first failure is thrown after all were tried.
     */
    @Override
    public int cleanupIncompleteUploads(java.time.Duration olderThan) throws IOException {
        int removed = 0;
        IOException failure = null;
        for (Member m : replicas.members) {
            try {
                removed += m.store().cleanupIncompleteUploads(olderThan);
            } catch (IOException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
        return removed;
    }

    // ------------------------------------------------------------------ reads

    @Override
    public byte[] getBytes(BlobKey key) throws IOException {
        return reader.getBytes(key);
    }

    /** {@link #getBytesVerified(BlobKey, long, Predicate)} with no ceiling but the largest array. */
    public byte[] getBytesVerified(BlobKey key, Predicate<byte[]> valid) throws IOException {
        return reader.getBytesVerified(key, Long.MAX_VALUE, valid);
    }

    /**
     * Reads the object from members in read order until one returns at most {@code maxBytes}
     * bytes that {@code authentic} accepts; members that returned rejected or oversized bytes, or
     * "not found", are then read-repaired (the object copied from the member that passed) in the
     * background. A copy is refused from the size its member reports and never read past
     * {@code maxBytes + 1} bytes. Meant for callers that can authenticate what they read (the
     * backup engine opens its sealed manifests and index files this way).
     *
     * @throws NoSuchFileException if the object is absent (by the read quorum)
     * @throws io.dr4j.storage.RejectedBlobException naming the members and why, if every member
     *     that answered returned a copy that was rejected or too large
     * @throws io.dr4j.storage.BlobStoreException naming the members if none could serve the read
     */
    @Override
    public byte[] getBytesVerified(BlobKey key, long maxBytes, Predicate<byte[]> authentic) throws IOException {
        return reader.getBytesVerified(key, maxBytes, authentic);
    }

    /** Reads the range from members in read order, falling back to the next one on a failure. */
    @Override
    public void read(BlobKey key, long offset, ByteBuffer dst) throws IOException {
        reader.read(key, offset, dst);
    }

    /**
     * Reads the range from members in read order until one returns bytes that {@code authentic}
     * accepts; members that failed it, or did not have the object, are then read-repaired (the
     * whole object copied from the member that passed) in the background.
     *
     * @throws NoSuchFileException if the object is absent (by the read quorum)
     * @throws io.dr4j.storage.RejectedBlobException naming the members if every member that answered returned rejected bytes
     */
    @Override
    public void readVerified(BlobKey key, long offset, ByteBuffer dst, Predicate<ByteBuffer> authentic) throws IOException {
        reader.readVerified(key, offset, dst, authentic);
    }

    /**
     * Opens the object. Objects up to {@link Builder#streamBufferInMemory} are read and verified
     * in memory first (with fallback, as {@link #getBytes}); larger ones are streamed from the
     * preferred member and the stream fails at its end if the member returned a different number
     * of bytes than it reported.
     */
    @Override
    public InputStream get(BlobKey key) throws IOException {
        return reader.get(key);
    }

    @Override
    public InputStream get(BlobKey key, long offset, long length) throws IOException {
        return reader.get(key, offset, length);
    }

    @Override
    public BlobInfo stat(BlobKey key) throws IOException {
        return reader.stat(key);
    }

    /**
     * Lists from the preferred member that answers, correcting its view with the repair log: keys
     * it owes a write of are answered by a member that holds their current state. Weakly
     * consistent, as the SPI allows.
     */
    @Override
    public Stream<BlobInfo> list(String prefix) throws IOException {
        return reader.list(prefix);
    }

    // ------------------------------------------------------------------ repair, consistency, status

    /** {@link #repair(ConsistencyCheck)} comparing sizes. */
    public RepairReport repair() throws IOException {
        return repair(ConsistencyCheck.SIZES);
    }

    /**
     * Brings every member to the same state: pays back the owed writes of the repair log, then
     * compares member listings (and, with {@link ConsistencyCheck#CONTENTS}, checksums) and copies
     * missing or different objects from the members that hold the majority version. Keys written
     * during the pass are left to their own writes. One pass at a time; a concurrent call waits.
     * Resumable: what was repaired leaves the log.
     *
     * @throws IOException only if the repair log cannot be written; members that cannot be
     *     reached are reported in {@link RepairReport#failures()} and stay owed
     */
    public RepairReport repair(ConsistencyCheck check) throws IOException {
        return repairer.repair(check);
    }

    /** {@link #verifyConsistency(ConsistencyCheck)} comparing sizes. */
    public ConsistencyReport verifyConsistency() throws IOException {
        return verifyConsistency(ConsistencyCheck.SIZES);
    }

    /**
     * Lists every member (and with {@link ConsistencyCheck#CONTENTS} reads every object) and
     * reports, per member, the objects it lacks, holds in excess or holds in a different version
     * than the majority. Changes nothing.
     */
    public ConsistencyReport verifyConsistency(ConsistencyCheck check) throws IOException {
        return checker.verifyConsistency(check);
    }

    /** Health, owed writes and lag of every member, now. */
    public ReplicationStatus status() {
        return metrics.status();
    }

    /**
     * Waits until no background write or read repair is running (owed writes in the repair log
     * may remain; see {@link #repair()}).
     *
     * @return whether that happened within {@code timeout}
     */
    public boolean awaitBackground(Duration timeout) throws InterruptedException {
        return replicas.awaitIdle(timeout);
    }

    // ------------------------------------------------------------------ lifecycle

    @Override
    public void close() throws IOException {
        if (!replicas.closed.compareAndSet(false, true)) {
            return;
        }
        if (scheduledRepair != null) {
            scheduledRepair.cancel(false);
        }
        try {
            if (!replicas.awaitIdle(replicas.options.writeTimeout())) {
                writer.cancelBackground();
                replicas.awaitIdle(Duration.ofSeconds(10));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        IOException failure = null;
        try {
            replicas.compact();
        } catch (IOException e) {
            failure = e;
        }
        metrics.close();
        if (ownsScheduler) {
            replicas.scheduler.shutdownNow();
        }
        if (ownsExecutor) {
            replicas.executor.shutdownNow();
        }
        for (Member m : replicas.members) {
            try {
                m.store().close();
            } catch (IOException e) {
                failure = failure == null ? e : failure;
            }
        }
        if (replicas.members.stream().noneMatch(m -> m.store() == logStore)) {
            logStore.close();
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return replicas.name;
    }
}
