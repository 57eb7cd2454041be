package io.dr4j.replication;

import io.dr4j.replication.internal.Member;
import io.dr4j.replication.internal.MemberWrite;
import io.dr4j.replication.internal.PutSource;
import io.dr4j.replication.internal.RepairEntry;
import io.dr4j.replication.internal.RepairEntry.Kind;
import io.dr4j.replication.internal.RepairJournal;
import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStore;
import io.dr4j.storage.BlobStoreException;
import io.dr4j.storage.Capability;
import io.dr4j.storage.PermanentBlobStoreException;
import io.dr4j.storage.TransientBlobStoreException;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link BlobStore} over N member stores (local disk, S3, Azure, another region): every object
 * is written to all members, so a repository on it is replicated with no change above the SPI.
 *
 * <h2>Writes (W of N)</h2>
 * A put or delete is sent to every member in parallel and returns once {@code W} members
 * acknowledge (default: a majority), or fails after {@link Builder#writeTimeout} or as soon as
 * W can no longer be reached. Members still writing when the put returns finish in the
 * background, within a bounded budget ({@link Builder#backgroundLimit}); when the budget is full
 * the slow member's write is cancelled instead, and it is owed. Every owed write (a member that
 * failed, timed out, or is still writing) is appended to the <b>durable repair log</b> before the
 * put returns, so a process restart does not forget it; {@link #repair()} pays it back.
 *
 * <p>Sources: a {@code byte[]} is copied once (the caller may reuse its array); a stream is
 * buffered, in memory up to {@link Builder#streamBufferInMemory} and in a temporary file above
 * it, so that it can be read by N members at once; a {@link Path} is read by each member from
 * the caller's file. A member finishing in the background after a {@code Path} put returned
 * checks that the file's size, modification time and identity did not change, and stays owed
 * (to be copied from a member that acknowledged) if they did.
 *
 * <p>Failure: with fewer than W acknowledgements the put throws a {@link BlobStoreException}
 * (transient if any member failed transiently or timed out) whose message names every member that
 * did not acknowledge and why; each member's exception is attached as suppressed. Nothing is
 * reported written. The members that did take the write are rolled back by repair to the state of
 * a member that definitely refused it (the contract's "the key is left as it was"); reads avoid
 * them meanwhile. If no up-to-date member definitely refused it (only timeouts), the write is
 * rolled forward instead. A failed delete is treated the same way.
 *
 * <p>Writes of one key are serialized (striped locks), and a new write of a key first cancels
 * and waits for background writes of the previous one, so members never apply two writes of a
 * key in different orders.
 *
 * <h2>Reads</h2>
 * From the preferred member: healthy before degraded before down, then by priority, then by
 * latency (EWMA); members that owe a write of the key are skipped. Falls back to the next member
 * on a transient or permanent error, on "not found" (absence is believed once {@code N - W + 1}
 * members agree, which intersects every write quorum), and on a failed integrity check.
 * Optional hedging ({@link Builder#hedgeReadsAfter}): if the first member has not answered after
 * the delay, the next is asked too; the first good answer wins and the other is cancelled.
 *
 * <h2>What integrity is guaranteed</h2>
 * The SPI carries no checksums, so this store checks what it can, and says so:
 * <ul>
 *   <li>{@link #getBytes} (and {@link #get} of objects up to {@link Builder#streamBufferInMemory})
 *       returns bytes only if their length equals the size the member reports; with
 *       {@link ReadVerification#REPLICAS} also only if their CRC32C matches a second member's
 *       (a third decides on a mismatch). A member that fails the check is read-repaired.</li>
 *   <li>Larger streamed {@link #get}s and ranged reads fail with an {@link IOException} at the
 *       end of the stream if the member returned more or fewer bytes than it reported; bit flips
 *       in them are not detected here.</li>
 *   <li>{@link #getBytesVerified} takes the caller's own check (the backup engine authenticates
 *       every chunk with AES-GCM) and tries members until one passes, then read-repairs the
 *       others: a read never returns bytes that fail the check while another member has good
 *       ones.</li>
 *   <li>{@link #verifyConsistency} and {@link #repair} with {@link ConsistencyCheck#CONTENTS}
 *       compare CRC32C across members; the majority wins.</li>
 * </ul>
 *
 * <h2>Repair, health and lag</h2>
 * {@link #repair()} first pays back the owed writes of the repair log (resumable: each repaired
 * key leaves the log, which is compacted as it goes), then compares member listings and sizes and
 * copies missing or different objects; missed deletes are applied from the log's tombstones, so a
 * deleted object does not come back. Copies are rate-limited ({@link Builder#repairRateLimit}); a
 * scheduled repairer can run it periodically ({@link Builder#repairEvery}). Repair also probes
 * members whose circuit breaker is open and closes it when they answer. {@link #status()} (and
 * Micrometer gauges) report per member health, owed writes and bytes, and the age of the oldest
 * unreplicated write: the achieved RPO of the standby site.
 *
 * <h2>Limits, stated</h2>
 * <ul>
 *   <li>If appending to the repair log fails, the write still succeeds (it has its quorum); the
 *       owed write is kept in memory, logged as an error, and written with the next compaction. A
 *       crash before then forgets it (a later {@link #repair()} still finds the object missing by
 *       comparing listings, but a missed delete would not be known).</li>
 *   <li>One process writes through one repair log. Members may be shared by readers.</li>
 *   <li>Memory: one small entry per owed write (so a member down for long costs memory in
 *       proportion to the writes it misses), the background budget, and during
 *       {@link #repair()} / {@link #verifyConsistency} a map of every key's size per member.</li>
 *   <li>Reads have no timeout of their own: a member that hangs holds up a read unless hedging
 *       is on and another member answers.</li>
 *   <li>{@link #putIfAbsent} is arbitrated by the highest-priority member; if its replication
 *       then misses the quorum, the arbiter keeps the object until repair rolls it back, so a
 *       second caller may see "exists" meanwhile.</li>
 * </ul>
 *
 * <p>The first key segment {@value #RESERVED_PREFIX} is reserved (the repair log may live in a
 * member) and is neither accepted, listed nor repaired.
 *
 * <p>Thread-safe. {@link #close()} waits up to the write timeout for background writes, cancels
 * the rest (they stay owed in the log), compacts the log, stops owned executors and closes the
 * member stores and the repair-log store, as other decorators close their delegate.
 */
public final class ReplicatedBlobStore implements BlobStore {

    /** The reserved first key segment. */
    public static final String RESERVED_PREFIX = "_dr4j";

    /** Where the repair log lives in its store. */
    public static final String REPAIR_LOG_PREFIX = RESERVED_PREFIX + "/repair";

    private static final Logger LOG = LoggerFactory.getLogger(ReplicatedBlobStore.class);
    private static final int STRIPES = 256;
    private static final int COMPACT_EVERY = 256;

    private final String name;
    private final List<Member> members;
    private final Map<String, Member> byName;
    private final int writeQuorum;
    private final int readQuorum;
    private final long writeTimeoutNanos;
    private final long backgroundMaxBytes;
    private final int backgroundMaxWrites;
    private final Duration backgroundTimeout;
    private final Duration hedgeDelay;
    private final ReadVerification verification;
    private final long streamBufferInMemory;
    private final Path tempDirectory;
    private final long repairBytesPerSecond;
    private final Clock clock;
    private final ExecutorService executor;
    private final boolean ownsExecutor;
    private final ScheduledExecutorService scheduler;
    private final boolean ownsScheduler;
    private final BlobStore logStore;
    private final RepairJournal journal;
    private final MeterRegistry registry;
    private final List<Meter> meters = new ArrayList<>();

    private final ConcurrentHashMap<BlobKey, RepairEntry> pending = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<BlobKey, List<MemberWrite>> inflight = new ConcurrentHashMap<>();
    private final ReentrantLock[] stripes = new ReentrantLock[STRIPES];
    private final AtomicLong backgroundBytes = new AtomicLong();
    private final AtomicInteger backgroundWrites = new AtomicInteger();
    private final AtomicInteger readRepairs = new AtomicInteger();
    private final Object idle = new Object();
    private final AtomicLong resolvedSinceCompaction = new AtomicLong();
    private final ReentrantLock repairLock = new ReentrantLock();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicBoolean compacting = new AtomicBoolean();
    private volatile ScheduledFuture<?> scheduledRepair;

    private ReplicatedBlobStore(Builder b, RepairJournal.Opened opened) {
        this.members = List.copyOf(b.members);
        Map<String, Member> names = new LinkedHashMap<>();
        members.forEach(m -> names.put(m.name(), m));
        this.byName = names;
        this.name = "replicated(" + String.join(",", names.keySet()) + ")";
        this.writeQuorum = b.writeQuorum > 0 ? b.writeQuorum : members.size() / 2 + 1;
        this.readQuorum = members.size() - writeQuorum + 1;
        this.writeTimeoutNanos = b.writeTimeout.toNanos();
        this.backgroundMaxBytes = b.backgroundMaxBytes;
        this.backgroundMaxWrites = b.backgroundMaxWrites;
        this.backgroundTimeout = b.backgroundTimeout;
        this.hedgeDelay = b.hedgeDelay;
        this.verification = b.verification;
        this.streamBufferInMemory = b.streamBufferInMemory;
        this.tempDirectory = b.tempDirectory;
        this.repairBytesPerSecond = b.repairBytesPerSecond;
        this.clock = b.clock;
        this.ownsExecutor = b.executor == null;
        this.executor = ownsExecutor ? Executors.newCachedThreadPool(daemonThreads("dr4j-replication")) : b.executor;
        this.ownsScheduler = b.scheduler == null;
        this.scheduler = ownsScheduler
                ? Executors.newSingleThreadScheduledExecutor(daemonThreads("dr4j-replication-timer"))
                : b.scheduler;
        this.logStore = b.logStore;
        this.journal = opened.journal();
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new ReentrantLock();
        }
        for (RepairEntry e : opened.pending().values()) {
            Set<String> known = new LinkedHashSet<>(e.targets());
            known.retainAll(byName.keySet());
            if (known.size() < e.targets().size()) {
                LOG.warn("{}: repair log names members no longer configured for {}: {}", name, e.key(), e.targets());
            }
            Set<String> sources = new LinkedHashSet<>(e.sources());
            sources.retainAll(byName.keySet());
            if (!known.isEmpty() && !sources.isEmpty()) {
                pending.put(e.key(), new RepairEntry(e.seq(), e.kind(), e.key(), sources, known, e.size(), e.recordedAt()));
            }
        }
        this.registry = b.registry;
        if (registry != null) {
            registerMeters();
        }
        if (b.repairInterval != null) {
            long ms = b.repairInterval.toMillis();
            scheduledRepair = scheduler.scheduleWithFixedDelay(this::scheduledRepair, ms, ms, TimeUnit.MILLISECONDS);
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
        private final List<Member> members = new ArrayList<>();
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
        private CircuitBreakerConfig breakerConfig;
        private final List<Object[]> pendingMembers = new ArrayList<>();

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
            pendingMembers.add(new Object[] {name, store, priority});
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

        /** Runs member calls on {@code executor}, which the store does not shut down (default: an owned cached pool of daemon threads). It must not be bounded below N + background writes, or writes queue. */
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
         * The circuit breaker of each member (default: count window of 10 calls, at least 5, open
         * at 50% failures for 30 s, 2 probe calls half-open). The builder's clock is used.
         */
        public Builder circuitBreaker(CircuitBreakerConfig config) {
            this.breakerConfig = Objects.requireNonNull(config, "config");
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
            CircuitBreakerConfig config = breakerConfig != null
                    ? CircuitBreakerConfig.from(breakerConfig).clock(clock).build()
                    : CircuitBreakerConfig.custom()
                            .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                            .slidingWindowSize(10)
                            .minimumNumberOfCalls(5)
                            .failureRateThreshold(50)
                            .waitDurationInOpenState(Duration.ofSeconds(30))
                            .permittedNumberOfCallsInHalfOpenState(2)
                            .clock(clock)
                            .build();
            members.clear();
            List<Object[]> sorted = new ArrayList<>(pendingMembers);
            sorted.sort(Comparator.comparingInt(o -> (Integer) o[2])); // stable: ties keep insertion order
            for (Object[] m : sorted) {
                members.add(new Member((String) m[0], (BlobStore) m[1], (Integer) m[2], config));
            }
            return new ReplicatedBlobStore(this, RepairJournal.open(logStore, REPAIR_LOG_PREFIX));
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
        return name;
    }

    /** {@link Capability#CONDITIONAL_PUT} if the arbitrating (highest-priority) member has it. */
    @Override
    public Set<Capability> capabilities() {
        return members.get(0).store().supportsConditionalPut() ? EnumSet.of(Capability.CONDITIONAL_PUT)
                : EnumSet.noneOf(Capability.class);
    }

    /** The write quorum W. */
    public int writeQuorum() {
        return writeQuorum;
    }

    /** The member names in priority order. */
    public List<String> memberNames() {
        return List.copyOf(byName.keySet());
    }

    // ------------------------------------------------------------------ writes

    @Override
    public void put(BlobKey key, Path source) throws IOException {
        checkKey(key);
        PutSource src = PutSource.ofFile(source);
        try {
            write(key, Kind.PUT, src.size(), src, m -> src.putTo(m.store(), key));
        } finally {
            src.release();
        }
    }

    /** Copies the range once (every member's write needs the bytes until it completes, possibly after this returns). */
    @Override
    public void put(BlobKey key, byte[] data, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, data.length);
        put(key, offset == 0 && length == data.length ? data : java.util.Arrays.copyOfRange(data, offset, offset + length));
    }

    @Override
    public void put(BlobKey key, byte[] data) throws IOException {
        checkKey(key);
        PutSource src = PutSource.copyOf(data);
        try {
            write(key, Kind.PUT, src.size(), src, m -> src.putTo(m.store(), key));
        } finally {
            src.release();
        }
    }

    /** Buffers the stream first (memory or a temporary file, see {@link Builder#streamBufferInMemory}) so all members can read it. */
    @Override
    public void put(BlobKey key, InputStream data, long length) throws IOException {
        checkKey(key);
        PutSource src = PutSource.buffer(name, key, data, length, streamBufferInMemory, tempDirectory);
        try {
            write(key, Kind.PUT, src.size(), src, m -> src.putTo(m.store(), key));
        } finally {
            src.release();
        }
    }

    /**
     * Conditional put, arbitrated by the highest-priority member: its own {@code putIfAbsent}
     * decides (atomically where it declares {@link Capability#CONDITIONAL_PUT}), then the object is
     * replicated to the others with the usual quorum (the arbiter counts as one). If the arbiter
     * is unreachable, this fails rather than risk two winners.
     */
    @Override
    public void putIfAbsent(BlobKey key, byte[] data) throws IOException {
        checkKey(key);
        Member arbiter = members.get(0);
        PutSource src = PutSource.copyOf(data);
        ReentrantLock lock = lock(key);
        try {
            RepairEntry owed = pending.get(key);
            if (owed != null && owed.targets().contains(arbiter.name())) {
                syncKey(key, new RepairCounters(), false); // the arbiter must not decide on a stale view
                RepairEntry still = pending.get(key);
                if (still != null && still.targets().contains(arbiter.name())) {
                    throw new TransientBlobStoreException(name, key, "arbitrating member " + arbiter.name()
                            + " owes a write of this key and could not be brought up to date", null);
                }
            }
            try {
                arbiter.call(key, () -> {
                    arbiter.store().putIfAbsent(key, data);
                    return null;
                });
            } catch (FileAlreadyExistsException e) {
                throw new FileAlreadyExistsException(key.value(), null, name + ": object already exists (arbiter "
                        + arbiter.name() + ")");
            }
            // only now supersede background writes of an earlier put: a refused call must not cancel them
            settleInflight(key);
            writeLocked(key, Kind.PUT, src.size(), src, m -> {
                if (m != arbiter) {
                    src.putTo(m.store(), key);
                }
            });
        } finally {
            lock.unlock();
            src.release();
        }
    }

    /** Deletes from every member with the write quorum; members that miss it get a tombstone in the repair log. */
    @Override
    public void delete(BlobKey key) throws IOException {
        checkKey(key);
        write(key, Kind.DELETE, 0, null, m -> m.store().delete(key));
    }

    @FunctionalInterface
    private interface MemberOp {
        void apply(Member m) throws Exception;
    }

    private void write(BlobKey key, Kind kind, long size, PutSource source, MemberOp op) throws IOException {
        ReentrantLock lock = lock(key);
        try {
            settleInflight(key);
            writeLocked(key, kind, size, source, op);
        } finally {
            lock.unlock();
        }
    }

    /** The body of a replicated write; the caller holds the key's lock and has settled earlier writes. */
    private void writeLocked(BlobKey key, Kind kind, long size, PutSource source, MemberOp op) throws IOException {
        checkOpen();
        RepairEntry previous = pending.get(key);
        Round round = new Round(members.size());
        Map<Member, MemberWrite> writes = new LinkedHashMap<>();
        for (Member m : members) {
            if (source != null) {
                source.retain();
            }
            MemberWrite w = new MemberWrite(m, () -> m.call(key, () -> {
                try {
                    op.apply(m);
                } catch (IOException | RuntimeException e) {
                    throw e;
                } catch (Exception e) {
                    throw new IOException(e);
                }
                return null;
            }), (write, failure) -> {
                // release first, so that a temporary file is gone by the time the write counts as done
                if (source != null) {
                    source.release();
                }
                round.done(write, failure);
            });
            writes.put(m, w);
            try {
                executor.execute(w);
            } catch (RejectedExecutionException e) {
                w.cancel();
                w.run(); // completes at once as cancelled, releasing its reference
            }
        }
        long deadline = System.nanoTime() + writeTimeoutNanos;
        boolean reached;
        boolean interrupted = false;
        try {
            reached = round.await(writeQuorum, deadline);
        } catch (InterruptedException e) {
            // handled as a missed quorum, so that members that took the write converge like after one
            Thread.currentThread().interrupt();
            interrupted = true;
            reached = false;
        }
        if (reached) {
            long seq = journal.nextSeq();
            List<MemberWrite> background = new ArrayList<>();
            // Decided under the round's lock, so that a member finishing right now is seen either
            // as acknowledged here or as a background write completing after the entry exists.
            RepairEntry entry = round.detach(outcome -> {
                Set<String> acked = names(outcome.acked());
                Set<String> owed = new LinkedHashSet<>(byName.keySet());
                owed.removeAll(acked);
                if (owed.isEmpty()) {
                    if (previous != null) {
                        pending.remove(key, previous);
                    }
                    return null;
                }
                RepairEntry e = new RepairEntry(seq, kind, key, acked, owed, size, clock.instant());
                pending.put(key, e);
                for (Member m : outcome.running()) {
                    MemberWrite w = writes.get(m);
                    if (reserveBackground(size)) {
                        background.add(w);
                    } else {
                        LOG.debug("{}: background budget full; {} owes {} to the repair log", name, m.name(), key);
                        w.cancel();
                    }
                }
                if (!background.isEmpty()) {
                    inflight.put(key, new CopyOnWriteArrayList<>(background));
                }
                return e;
            }, (write, failure) -> {
                if (background.contains(write)) {
                    backgroundDone(key, seq, write, failure, source, size);
                }
            });
            if (entry != null) {
                persist(entry);
                for (MemberWrite w : background) {
                    scheduleCancel(w, backgroundTimeout);
                }
            }
            return;
        }
        // quorum not reached: stop the rest, decide how the key converges, and say who failed
        Round.Outcome outcome = round.detach(o -> o, (write, failure) -> { });
        for (Member m : outcome.running()) {
            writes.get(m).cancel();
        }
        Set<String> acked = names(outcome.acked());
        Set<String> refused = names(outcome.failed().keySet());
        Set<String> upToDate = new LinkedHashSet<>(byName.keySet());
        if (previous != null) {
            upToDate.removeAll(previous.targets());
        }
        Set<String> oldHolders = new LinkedHashSet<>(refused);
        oldHolders.retainAll(upToDate);
        RepairEntry entry = null;
        String convergence;
        if (!oldHolders.isEmpty()) {
            Set<String> targets = new LinkedHashSet<>(byName.keySet());
            targets.removeAll(oldHolders);
            convergence = acked.isEmpty() ? "no member took it" : "members " + acked + " that took it will be rolled back by repair";
            if (!targets.isEmpty()) {
                entry = new RepairEntry(journal.nextSeq(), Kind.ROLLBACK, key, oldHolders, targets, 0, clock.instant());
            }
        } else if (!acked.isEmpty()) {
            Set<String> targets = new LinkedHashSet<>(byName.keySet());
            targets.removeAll(acked);
            convergence = "no up-to-date member refused it, so repair will complete it on the others";
            entry = new RepairEntry(journal.nextSeq(), kind, key, acked, targets, size, clock.instant());
        } else {
            convergence = "no member took it";
        }
        if (entry != null) {
            pending.put(key, entry);
            persist(entry);
        }
        IOException failure = quorumFailure(key, kind, outcome, convergence, System.nanoTime() - deadline >= 0);
        if (interrupted) {
            InterruptedIOException e = new InterruptedIOException(name + ": " + key
                    + ": interrupted while waiting for the write quorum; " + failure.getMessage());
            e.initCause(failure);
            throw e;
        }
        throw failure;
    }

    private IOException quorumFailure(BlobKey key, Kind kind, Round.Outcome outcome, String convergence, boolean timedOut) {
        StringBuilder sb = new StringBuilder();
        sb.append(kind == Kind.DELETE ? "delete" : "put").append(" reached ").append(outcome.acked().size())
                .append(" of ").append(writeQuorum).append(" required acknowledgements (W=").append(writeQuorum)
                .append(" of ").append(members.size()).append(" members); ");
        boolean transientFailure = false;
        List<Throwable> causes = new ArrayList<>();
        for (Map.Entry<Member, Throwable> f : outcome.failed().entrySet()) {
            Throwable t = f.getValue();
            sb.append(f.getKey().name()).append(" failed: ").append(describe(t)).append("; ");
            transientFailure |= BlobStoreException.isTransient(t) || !(t instanceof BlobStoreException);
            causes.add(t);
        }
        for (Member m : outcome.running()) {
            sb.append(m.name()).append(timedOut ? " timed out after " + Duration.ofNanos(writeTimeoutNanos)
                    : " was cancelled once the quorum could no longer be reached").append("; ");
            transientFailure = true;
        }
        sb.append("not reported written (").append(convergence).append(")");
        Throwable first = causes.isEmpty() ? null : causes.get(0);
        BlobStoreException e = transientFailure
                ? new TransientBlobStoreException(name, key, sb.toString(), first)
                : new PermanentBlobStoreException(name, key, sb.toString(), first);
        causes.stream().skip(1).forEach(e::addSuppressed);
        return e;
    }

    /** A write still running after its put returned has finished (on the member's thread). */
    private void backgroundDone(BlobKey key, long seq, MemberWrite write, Throwable failure, PutSource source, long size) {
        try {
            String member = write.member().name();
            if (failure == null && (source == null || source.unchanged())) {
                pending.computeIfPresent(key, (k, e) -> {
                    if (e.seq() != seq) {
                        return e;
                    }
                    RepairEntry rest = e.without(member);
                    if (rest == null) {
                        resolvedSinceCompaction.incrementAndGet();
                    }
                    return rest;
                });
            } else if (failure != null && !(failure instanceof InterruptedIOException)) {
                LOG.debug("{}: background write of {} to {} failed; it stays owed: {}", name, key, member, describe(failure));
            }
        } finally {
            releaseBackground(size);
            inflight.computeIfPresent(key, (k, list) -> {
                list.remove(write);
                return list.isEmpty() ? null : list;
            });
            synchronized (idle) {
                idle.notifyAll();
            }
        }
    }

    private boolean reserveBackground(long size) {
        while (true) {
            int ops = backgroundWrites.get();
            if (ops >= backgroundMaxWrites) {
                return false;
            }
            if (backgroundWrites.compareAndSet(ops, ops + 1)) {
                break;
            }
        }
        if (backgroundBytes.addAndGet(size) > backgroundMaxBytes) {
            backgroundBytes.addAndGet(-size);
            backgroundWrites.decrementAndGet();
            return false;
        }
        return true;
    }

    private void releaseBackground(long size) {
        backgroundBytes.addAndGet(-size);
        backgroundWrites.decrementAndGet();
    }

    private void scheduleCancel(MemberWrite w, Duration after) {
        try {
            scheduler.schedule(() -> {
                if (!w.isDone()) {
                    LOG.warn("{}: background write to {} ran longer than {}; cancelled, it stays owed", name, w.member(), after);
                    w.cancel();
                }
            }, after.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // the scheduler is shutting down: close() cancels what is left
        }
    }

    /**
     * Cancels background writes of {@code key} from an earlier put and waits for them to stop, so
     * that a new write is applied after them on every member. A write that does not stop within
     * the write timeout is left running; its member is then treated as owing the key.
     */
    private void settleInflight(BlobKey key) throws IOException {
        List<MemberWrite> running = inflight.get(key);
        if (running == null) {
            return;
        }
        for (MemberWrite w : running) {
            w.cancel();
        }
        long deadline = System.nanoTime() + writeTimeoutNanos;
        for (MemberWrite w : running) {
            try {
                if (!w.awaitDone(Math.max(0, deadline - System.nanoTime()))) {
                    throw new TransientBlobStoreException(name, key, "an earlier write of this key to "
                            + w.member().name() + " does not stop", null);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException(name + ": " + key + ": interrupted while waiting for an earlier write");
            }
        }
    }

    private void persist(RepairEntry entry) {
        try {
            journal.append(List.of(entry));
            if (journal.appendsSinceSnapshot() >= COMPACT_EVERY && compacting.compareAndSet(false, true)) {
                // keep the log small in steady state (most puts at W < N append an entry) without
                // making this put wait for it
                try {
                    executor.execute(() -> {
                        try {
                            compact();
                        } catch (IOException | RuntimeException e) {
                            LOG.warn("{}: compacting the repair log failed: {}", name, describe(e));
                        } finally {
                            compacting.set(false);
                        }
                    });
                } catch (RejectedExecutionException e) {
                    compacting.set(false);
                }
            }
        } catch (IOException | RuntimeException e) {
            // The write itself succeeded; the owed write is kept in memory and written with the
            // next compaction. Until then a crash would forget it: say so loudly.
            LOG.error("{}: could not record owed write of {} in the repair log at {}: {}", name, entry.key(),
                    journal.storeName(), describe(e));
        }
    }

    // ------------------------------------------------------------------ reads

    @Override
    public byte[] getBytes(BlobKey key) throws IOException {
        checkKey(key);
        return readBytes(key, null);
    }

    /**
     * Reads the object from members in read order until one returns bytes that {@code valid}
     * accepts; members that returned rejected bytes, or "not found", are read-repaired from the
     * member that passed. Meant for callers that can authenticate what they read (the backup
     * engine checks every chunk's AES-GCM tag).
     *
     * @throws NoSuchFileException if the object is absent (by the read quorum)
     * @throws PermanentBlobStoreException naming the members if none returned acceptable bytes
     */
    public byte[] getBytesVerified(BlobKey key, Predicate<byte[]> valid) throws IOException {
        checkKey(key);
        return readBytes(key, Objects.requireNonNull(valid, "valid"));
    }

    /** Reads the range from members in read order, falling back to the next one on a failure. */
    @Override
    public void read(BlobKey key, long offset, ByteBuffer dst) throws IOException {
        readVerified(key, offset, dst, bytes -> true);
    }

    /**
     * Reads the range from members in read order until one returns bytes that {@code authentic}
     * accepts; members that failed it, or did not have the object, are then read-repaired (the
     * whole object copied from the member that passed) in the background.
     *
     * @throws NoSuchFileException if the object is absent (by the read quorum)
     * @throws PermanentBlobStoreException naming the members if none returned acceptable bytes
     */
    @Override
    public void readVerified(BlobKey key, long offset, ByteBuffer dst, Predicate<ByteBuffer> authentic) throws IOException {
        checkKey(key);
        Objects.requireNonNull(authentic, "authentic");
        if (offset < 0) {
            throw new IllegalArgumentException("negative offset " + offset + " for " + key);
        }
        int start = dst.position();
        List<Member> order = readOrder(key);
        ReadAttempts attempts = new ReadAttempts(key);
        EOFException shortCopy = null;
        int shortCopies = 0;
        for (Member m : order) {
            dst.position(start);
            try {
                m.callOrProbe(() -> {
                    m.store().read(key, offset, dst);
                    return null;
                });
            } catch (EOFException e) {
                attempts.bad.put(m, "is shorter than the range read (" + e.getMessage() + ")");
                shortCopy = shortCopy == null ? e : shortCopy;
                shortCopies++;
                continue;
            } catch (IOException e) {
                attempts.record(m, e);
                if (attempts.absenceConfirmed(order) && attempts.absent.size() == order.size()) {
                    break;
                }
                continue;
            }
            ByteBuffer view = dst.asReadOnlyBuffer();
            view.position(start).limit(dst.position());
            if (!authentic.test(view)) {
                attempts.bad.put(m, "returned bytes that failed the caller's verification");
                continue;
            }
            readRepair(key, m, attempts);
            return;
        }
        if (attempts.absenceConfirmed(order) || (attempts.errors.isEmpty() && attempts.bad.isEmpty() && !attempts.absent.isEmpty())) {
            throw attempts.notFound();
        }
        if (shortCopy != null && shortCopies == attempts.bad.size() && attempts.errors.isEmpty()) {
            // every copy ends before the range does: the caller asked for bytes that do not exist
            throw new EOFException(name + ": " + shortCopy.getMessage());
        }
        throw attempts.failure(name, true);
    }

    private byte[] readBytes(BlobKey key, Predicate<byte[]> valid) throws IOException {
        List<Member> order = readOrder(key);
        ReadAttempts attempts = new ReadAttempts(key);
        List<Member> remaining = new ArrayList<>(order);
        while (!remaining.isEmpty()) {
            Member first = remaining.get(0);
            Member second = hedgeDelay != null && remaining.size() > 1 ? remaining.get(1) : null;
            Map.Entry<Member, byte[]> got;
            if (second != null) {
                got = hedged(key, first, second, attempts);
                if ((got != null && got.getKey() == second) || attempts.tried(second)) {
                    remaining.remove(second); // a hedge that was cancelled unfinished may still be asked later
                }
            } else {
                got = sizeVerifiedRead(key, first, attempts) ? Map.entry(first, attempts.lastBytes) : null;
            }
            remaining.remove(first);
            if (got == null) {
                if (attempts.absenceConfirmed(order)) {
                    throw attempts.notFound();
                }
                continue;
            }
            Member source = got.getKey();
            byte[] bytes = got.getValue();
            if (valid != null && !valid.test(bytes)) {
                attempts.bad.put(source, "returned bytes that failed the caller's verification");
                continue;
            }
            if (valid == null && verification == ReadVerification.REPLICAS) {
                Optional<byte[]> agreed = crossCheck(key, source, bytes, order, attempts);
                if (agreed.isEmpty()) {
                    continue;
                }
                bytes = agreed.get();
                source = attempts.lastGood;
            }
            readRepair(key, source, attempts);
            return bytes;
        }
        if (attempts.absenceConfirmed(order) || (attempts.errors.isEmpty() && attempts.bad.isEmpty() && !attempts.absent.isEmpty())) {
            throw attempts.notFound();
        }
        throw attempts.failure(name, valid != null);
    }

    /** Reads from {@code m}; returns whether it produced size-consistent bytes (in {@code attempts.lastBytes}). */
    private boolean sizeVerifiedRead(BlobKey key, Member m, ReadAttempts attempts) {
        try {
            attempts.lastBytes = readChecked(key, m);
            return true;
        } catch (IOException e) {
            attempts.record(m, e);
            return false;
        }
    }

    private byte[] readChecked(BlobKey key, Member m) throws IOException {
        BlobInfo info = m.callOrProbe(() -> m.store().stat(key));
        byte[] bytes = m.callOrProbe(() -> m.store().getBytes(key));
        if (bytes.length != info.size()) {
            throw new SizeMismatch(m.name() + " returned " + bytes.length + " bytes for " + key + " whose size it reports as " + info.size());
        }
        return bytes;
    }

    private Map.Entry<Member, byte[]> hedged(BlobKey key, Member first, Member second, ReadAttempts attempts) {
        ExecutorCompletionService<Map.Entry<Member, byte[]>> race = new ExecutorCompletionService<>(executor);
        List<Future<Map.Entry<Member, byte[]>>> started = new ArrayList<>();
        Map<Future<Map.Entry<Member, byte[]>>, Member> whose = new HashMap<>();
        try {
            Future<Map.Entry<Member, byte[]>> f1 = race.submit(() -> Map.entry(first, readChecked(key, first)));
            started.add(f1);
            whose.put(f1, first);
            Future<Map.Entry<Member, byte[]>> done = race.poll(hedgeDelay.toNanos(), TimeUnit.NANOSECONDS);
            if (done == null) {
                Future<Map.Entry<Member, byte[]>> f2 = race.submit(() -> Map.entry(second, readChecked(key, second)));
                started.add(f2);
                whose.put(f2, second);
            }
            int outstanding = started.size();
            while (outstanding > 0) {
                if (done == null) {
                    done = race.take();
                }
                outstanding--;
                try {
                    return done.get();
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause();
                    attempts.record(whose.get(done), cause instanceof IOException ? (IOException) cause : new IOException(cause));
                }
                done = null;
            }
            if (started.size() == 1) {
                // the first failed fast, before the hedge delay: ask the second now
                return sizeVerifiedRead(key, second, attempts) ? Map.entry(second, attempts.lastBytes) : null;
            }
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            attempts.record(first, new InterruptedIOException("interrupted during a hedged read"));
            return null;
        } finally {
            for (Future<?> f : started) {
                f.cancel(true);
            }
        }
    }

    /** With {@link ReadVerification#REPLICAS}: confirms {@code bytes} against other members by CRC32C, majority wins. */
    private Optional<byte[]> crossCheck(BlobKey key, Member source, byte[] bytes, List<Member> order, ReadAttempts attempts) {
        Map<Long, List<Member>> votes = new LinkedHashMap<>();
        Map<Long, byte[]> bodies = new HashMap<>();
        long c = crc(bytes);
        votes.computeIfAbsent(c, x -> new ArrayList<>()).add(source);
        bodies.put(c, bytes);
        for (Member other : order) {
            if (other == source || attempts.tried(other)) {
                continue;
            }
            byte[] b;
            try {
                b = readChecked(key, other);
            } catch (IOException e) {
                attempts.record(other, e);
                continue;
            }
            long oc = crc(b);
            votes.computeIfAbsent(oc, x -> new ArrayList<>()).add(other);
            bodies.putIfAbsent(oc, b);
            if (votes.get(oc).size() >= 2 || (votes.size() == 1 && votes.get(c).size() >= 2)) {
                break;
            }
        }
        long best = c;
        for (Map.Entry<Long, List<Member>> v : votes.entrySet()) {
            if (v.getValue().size() > votes.get(best).size()) {
                best = v.getKey();
            }
        }
        if (votes.size() > 1 && votes.get(best).size() < 2) {
            attempts.bad.put(source, "disagrees with " + votes.values() + " and no majority could be formed");
            return Optional.empty();
        }
        for (Map.Entry<Long, List<Member>> v : votes.entrySet()) {
            if (v.getKey() != best) {
                v.getValue().forEach(m -> attempts.bad.put(m, "returned bytes whose CRC32C disagrees with the majority"));
            }
        }
        attempts.lastGood = votes.get(best).get(0);
        return Optional.of(bodies.get(best));
    }

    /**
     * Opens the object. Objects up to {@link Builder#streamBufferInMemory} are read and verified
     * in memory first (with fallback, as {@link #getBytes}); larger ones are streamed from the
     * preferred member and the stream fails at its end if the member returned a different number
     * of bytes than it reported.
     */
    @Override
    public InputStream get(BlobKey key) throws IOException {
        checkKey(key);
        Located located = locate(key);
        if (located.info.size() <= streamBufferInMemory) {
            return new ByteArrayInputStream(readBytes(key, null));
        }
        return openStream(key, located, 0, Long.MAX_VALUE);
    }

    @Override
    public InputStream get(BlobKey key, long offset, long length) throws IOException {
        checkKey(key);
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("negative range offset=" + offset + " length=" + length + " for " + key);
        }
        Located located = locate(key);
        if (offset > located.info.size()) {
            throw new EOFException(name + ": " + key + ": offset " + offset + " is beyond the object's size " + located.info.size());
        }
        return openStream(key, located, offset, length);
    }

    private InputStream openStream(BlobKey key, Located located, long offset, long length) throws IOException {
        List<Member> order = new ArrayList<>(located.order);
        order.remove(located.member);
        order.add(0, located.member);
        ReadAttempts attempts = new ReadAttempts(key);
        for (Member m : order) {
            try {
                BlobInfo info = m == located.member ? located.info : m.callOrProbe(() -> m.store().stat(key));
                long expected = Math.max(0, Math.min(length, info.size() - offset));
                InputStream in = m.callOrProbe(() -> offset == 0 && length == Long.MAX_VALUE
                        ? m.store().get(key) : m.store().get(key, offset, length));
                return new LengthCheckedStream(in, expected, name + ": " + key + " from " + m.name());
            } catch (IOException e) {
                attempts.record(m, e);
            }
        }
        if (attempts.absenceConfirmed(order) || attempts.errors.isEmpty()) {
            throw attempts.notFound();
        }
        throw attempts.failure(name, false);
    }

    @Override
    public BlobInfo stat(BlobKey key) throws IOException {
        checkKey(key);
        return locate(key).info;
    }

    private record Located(Member member, BlobInfo info, List<Member> order) {
    }

    private Located locate(BlobKey key) throws IOException {
        List<Member> order = readOrder(key);
        ReadAttempts attempts = new ReadAttempts(key);
        for (Member m : order) {
            try {
                BlobInfo info = m.callOrProbe(() -> m.store().stat(key));
                if (!attempts.absent.isEmpty()) {
                    readRepair(key, m, attempts);
                }
                return new Located(m, info, order);
            } catch (IOException e) {
                attempts.record(m, e);
                if (attempts.absenceConfirmed(order)) {
                    throw attempts.notFound();
                }
            }
        }
        if (attempts.errors.isEmpty()) {
            throw attempts.notFound();
        }
        throw attempts.failure(name, false);
    }

    /**
     * Lists from the preferred member that answers, correcting its view with the repair log: keys
     * it owes a write of are answered by a member that holds their current state. Weakly
     * consistent, as the SPI allows.
     */
    @Override
    public Stream<BlobInfo> list(String prefix) throws IOException {
        BlobKey.checkPrefix(prefix);
        if (prefix.equals(RESERVED_PREFIX) || prefix.startsWith(RESERVED_PREFIX + "/")) {
            return Stream.empty();
        }
        IOException last = null;
        for (Member m : readOrder(null)) {
            Stream<BlobInfo> base;
            try {
                base = m.callOrProbe(() -> m.store().list(prefix));
            } catch (IOException e) {
                last = e;
                continue;
            }
            String memberName = m.name();
            // Keys this member owes are answered by a member holding their current state: those
            // owed when the listing starts, and those found owed while it runs.
            Set<BlobKey> deferred = new HashSet<>();
            for (RepairEntry e : pending.values()) {
                if (e.targets().contains(memberName) && e.key().isUnder(prefix)) {
                    deferred.add(e.key());
                }
            }
            Set<BlobKey> startOwed = Set.copyOf(deferred);
            Stream<BlobInfo> own = base.filter(i -> !reserved(i.key())).filter(i -> {
                if (startOwed.contains(i.key())) {
                    return false;
                }
                RepairEntry e = pending.get(i.key());
                if (e != null && e.targets().contains(memberName)) {
                    deferred.add(i.key());
                    return false;
                }
                return true;
            });
            Stream<BlobInfo> corrected = Stream.of(0).flatMap(x -> currentInfo(deferred).stream());
            return Stream.concat(own, corrected).onClose(base::close);
        }
        throw last != null ? last : new TransientBlobStoreException(name, null, "no member could be listed", null);
    }

    private List<BlobInfo> currentInfo(Collection<BlobKey> keys) {
        List<BlobInfo> out = new ArrayList<>();
        for (BlobKey key : keys) {
            try {
                out.add(stat(key));
            } catch (NoSuchFileException gone) {
                // the key's current state is "absent"
            } catch (IOException ex) {
                throw new UncheckedIOException(ex);
            }
        }
        return out;
    }

    /** Members to read {@code key} from, best first; members owing a write of the key are left out. */
    private List<Member> readOrder(BlobKey key) {
        RepairEntry e = key == null ? null : pending.get(key);
        List<Member> order = new ArrayList<>();
        for (Member m : members) {
            if (e == null || !e.targets().contains(m.name())) {
                order.add(m);
            }
        }
        order.sort(Comparator.comparingInt(Member::healthRank).thenComparingInt(Member::priority)
                .thenComparing(Member::latency));
        return order;
    }

    /** Records members that failed a read of {@code key} as owing it, and repairs them in the background. */
    private void readRepair(BlobKey key, Member good, ReadAttempts attempts) {
        Set<String> bad = new LinkedHashSet<>();
        attempts.bad.keySet().forEach(m -> bad.add(m.name()));
        attempts.absent.forEach(m -> bad.add(m.name()));
        bad.remove(good.name());
        if (bad.isEmpty() || closed.get()) {
            return;
        }
        RepairEntry entry = new RepairEntry(journal.nextSeq(), Kind.READ_REPAIR, key, Set.of(good.name()), bad, 0, clock.instant());
        if (pending.putIfAbsent(key, entry) != null) {
            return; // another owed write of this key is pending; repair handles both
        }
        LOG.info("{}: read of {} found bad or missing copies on {}; repairing from {}", name, key, bad, good.name());
        readRepairs.incrementAndGet();
        try {
            executor.execute(() -> {
                try {
                    persist(entry);
                    ReentrantLock lock = lock(key);
                    try {
                        syncKey(key, new RepairCounters(), true);
                    } finally {
                        lock.unlock();
                    }
                } catch (IOException e) {
                    LOG.warn("{}: read repair of {} failed; it stays owed: {}", name, key, describe(e));
                } finally {
                    readRepairs.decrementAndGet();
                    synchronized (idle) {
                        idle.notifyAll();
                    }
                }
            });
        } catch (RejectedExecutionException e) {
            readRepairs.decrementAndGet();
        }
    }

    // ------------------------------------------------------------------ repair

    /** {@link #repair(ConsistencyCheck)} comparing sizes. */
    public RepairReport repair() throws IOException {
        return repair(ConsistencyCheck.SIZES);
    }

    /**
     * Brings every member to the same state: pays back the owed writes of the repair log, then
     * compares member listings (and, with {@link ConsistencyCheck#CONTENTS}, checksums) and copies
     * missing or different objects from the members that hold the majority version (a key present
     * anywhere and not owed a delete is copied to members that lack it; missed deletes are in the
     * log as tombstones). Keys written during the pass are left to their own writes. One pass at
     * a time; a concurrent call waits. Resumable: what was repaired leaves the log, so a pass cut
     * short by a crash continues where it stopped (objects copied just before the crash may be
     * copied again).
     *
     * @throws IOException only if the repair log cannot be written; members that cannot be
     *     reached are reported in {@link RepairReport#failures()} and stay owed
     */
    public RepairReport repair(ConsistencyCheck check) throws IOException {
        Objects.requireNonNull(check, "check");
        checkOpen();
        long start = System.nanoTime();
        RepairCounters counters = new RepairCounters();
        repairLock.lock();
        try {
            for (BlobKey key : new ArrayList<>(pending.keySet())) {
                repairOne(key, counters);
            }
            Snapshot snapshot = snapshot(check, true);
            counters.examined = snapshot.keys.size();
            counters.failures.addAll(snapshot.unreachableLines());
            for (Map.Entry<BlobKey, Map<Member, Long>> k : snapshot.keys.entrySet()) {
                BlobKey key = k.getKey();
                if (pending.containsKey(key) || inflight.containsKey(key)) {
                    continue;
                }
                Verdict v = verdict(k.getValue(), snapshot.reachable, true);
                if (v.wrong.isEmpty()) {
                    continue;
                }
                RepairEntry entry = new RepairEntry(journal.nextSeq(), Kind.READ_REPAIR, key, names(v.holders),
                        names(v.wrong), 0, clock.instant());
                if (pending.putIfAbsent(key, entry) == null) {
                    repairOne(key, counters);
                }
            }
            compact();
        } finally {
            repairLock.unlock();
        }
        return new RepairReport(counters.copied, counters.bytes, counters.deleted, counters.examined, counters.failures,
                owedWrites(), Duration.ofNanos(System.nanoTime() - start));
    }

    private void repairOne(BlobKey key, RepairCounters counters) throws IOException {
        ReentrantLock lock = lock(key);
        try {
            if (inflight.containsKey(key)) {
                return; // a background write of this key is still running; it settles the member
            }
            syncKey(key, counters, true);
        } finally {
            lock.unlock();
        }
        if (resolvedSinceCompaction.get() >= COMPACT_EVERY) {
            compact();
        }
    }

    /**
     * Makes the targets of {@code key}'s pending entry equal to the current state of one of its
     * sources (object or absence). The caller holds the key's lock.
     */
    private void syncKey(BlobKey key, RepairCounters counters, boolean probe) throws IOException {
        RepairEntry entry = pending.get(key);
        if (entry == null) {
            return;
        }
        Optional<BlobInfo> state = null;
        Member source = null;
        List<String> sourceProblems = new ArrayList<>();
        for (String s : entry.sources()) {
            Member m = byName.get(s);
            try {
                state = call(m, probe, () -> m.store().find(key));
                source = m;
                break;
            } catch (IOException e) {
                sourceProblems.add(s + ": " + describe(e));
            }
        }
        if (source == null) {
            counters.failures.add(key + ": no source member reachable (" + String.join("; ", sourceProblems) + ")");
            return;
        }
        RepairEntry current = entry;
        for (String t : entry.targets()) {
            Member target = byName.get(t);
            try {
                if (state.isEmpty()) {
                    call(target, probe, () -> {
                        target.store().delete(key);
                        return null;
                    });
                    counters.deleted++;
                } else {
                    long size = copy(key, source, target, probe);
                    counters.copied++;
                    counters.bytes += size;
                }
                current = current == null ? null : current.without(t);
            } catch (IOException e) {
                counters.failures.add(key + " -> " + t + ": " + describe(e));
            }
        }
        RepairEntry updated = current;
        pending.computeIfPresent(key, (k, e) -> e.seq() == entry.seq() ? updated : e);
        if (updated == null) {
            resolvedSinceCompaction.incrementAndGet();
        }
    }

    private long copy(BlobKey key, Member source, Member target, boolean probe) throws IOException {
        BlobInfo info = call(source, probe, () -> source.store().stat(key));
        try (InputStream in = call(source, probe, () -> source.store().get(key))) {
            call(target, probe, () -> {
                target.store().put(key, in, info.size());
                return null;
            });
        }
        throttle(info.size());
        return info.size();
    }

    private long throttleStart = System.nanoTime();
    private long throttledBytes;

    private synchronized void throttle(long bytes) throws InterruptedIOException {
        if (repairBytesPerSecond == Long.MAX_VALUE) {
            return;
        }
        long now = System.nanoTime();
        if (now - throttleStart > TimeUnit.SECONDS.toNanos(10)) {
            throttleStart = now; // forget old history so an idle period does not allow a burst
            throttledBytes = 0;
        }
        throttledBytes += bytes;
        long due = throttleStart + (long) (throttledBytes * 1e9 / repairBytesPerSecond);
        long wait = due - now;
        if (wait > 0) {
            try {
                TimeUnit.NANOSECONDS.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException(name + ": repair interrupted");
            }
        }
    }

    private <T> T call(Member m, boolean probe, Member.IoCall<T> c) throws IOException {
        return probe ? m.probe(c) : m.call(null, c);
    }

    /** Writes the pending set as a snapshot of the repair log and drops older journal objects. */
    private void compact() throws IOException {
        resolvedSinceCompaction.set(0);
        journal.compact(() -> new ArrayList<>(pending.values()));
    }

    private void scheduledRepair() {
        if (closed.get()) {
            return;
        }
        try {
            RepairReport r = repair();
            if (!r.complete()) {
                LOG.warn("{}: scheduled repair left {} writes owed; failures: {}", name, r.owedAfter(), r.failures());
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("{}: scheduled repair failed: {}", name, describe(e));
        }
    }

    // ------------------------------------------------------------------ consistency

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
        Objects.requireNonNull(check, "check");
        Snapshot snapshot = snapshot(check, false);
        Map<Member, Set<BlobKey>> missing = new HashMap<>();
        Map<Member, Set<BlobKey>> extra = new HashMap<>();
        Map<Member, Set<BlobKey>> different = new HashMap<>();
        for (Member m : snapshot.reachable) {
            missing.put(m, new HashSet<>());
            extra.put(m, new HashSet<>());
            different.put(m, new HashSet<>());
        }
        for (Map.Entry<BlobKey, Map<Member, Long>> k : snapshot.keys.entrySet()) {
            Verdict v = verdict(k.getValue(), snapshot.reachable, false);
            for (Member m : v.wrong) {
                Long mine = k.getValue().get(m);
                if (v.value == null) {
                    extra.get(m).add(k.getKey());
                } else if (mine == null) {
                    missing.get(m).add(k.getKey());
                } else {
                    different.get(m).add(k.getKey());
                }
            }
        }
        Map<String, ConsistencyReport.Differences> per = new LinkedHashMap<>();
        for (Member m : snapshot.reachable) {
            per.put(m.name(), ConsistencyReport.Differences.of(missing.get(m), extra.get(m), different.get(m)));
        }
        return new ConsistencyReport(check, snapshot.keys.size(), per, snapshot.unreachable);
    }

    /** Per key, per reachable member: the size, or with CONTENTS a CRC32C mixed with the size. */
    private record Snapshot(Map<BlobKey, Map<Member, Long>> keys, List<Member> reachable, Map<String, String> unreachable) {
        List<String> unreachableLines() {
            List<String> out = new ArrayList<>();
            unreachable.forEach((m, why) -> out.add(m + ": could not be listed: " + why));
            return out;
        }
    }

    private Snapshot snapshot(ConsistencyCheck check, boolean probe) {
        Map<BlobKey, Map<Member, Long>> keys = new HashMap<>();
        List<Member> reachable = new ArrayList<>();
        Map<String, String> unreachable = new LinkedHashMap<>();
        for (Member m : members) {
            Map<BlobKey, Long> mine = new HashMap<>();
            try (Stream<BlobInfo> listing = call(m, probe, () -> m.store().list(""))) {
                Iterator<BlobInfo> it = listing.iterator();
                while (it.hasNext()) {
                    BlobInfo i = it.next();
                    if (!reserved(i.key())) {
                        mine.put(i.key(), i.size());
                    }
                }
                if (check == ConsistencyCheck.CONTENTS) {
                    for (Map.Entry<BlobKey, Long> e : mine.entrySet()) {
                        e.setValue(contentFingerprint(m, e.getKey(), probe));
                    }
                }
            } catch (IOException | UncheckedIOException e) {
                unreachable.put(m.name(), describe(e));
                continue;
            }
            reachable.add(m);
            mine.forEach((k, v) -> keys.computeIfAbsent(k, x -> new HashMap<>()).put(m, v));
        }
        return new Snapshot(keys, reachable, unreachable);
    }

    private long contentFingerprint(Member m, BlobKey key, boolean probe) throws IOException {
        CRC32C crc = new CRC32C();
        long size = 0;
        try (InputStream in = call(m, probe, () -> m.store().get(key))) {
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) >= 0) {
                crc.update(buf, 0, n);
                size += n;
            }
        } catch (NoSuchFileException e) {
            return -1; // deleted since listed
        }
        return (crc.getValue() << 20) ^ size;
    }

    /** Which value of a key is right and which reachable members differ from it. */
    private record Verdict(Long value, List<Member> holders, List<Member> wrong) {
    }

    /**
     * The majority value of a key among reachable members (ties: the best-priority member's).
     * With {@code presenceWins} (repair), a key present anywhere is kept, since missed deletes are
     * tombstoned in the log rather than inferred from a minority.
     */
    private static Verdict verdict(Map<Member, Long> values, List<Member> reachable, boolean presenceWins) {
        Map<Long, Integer> counts = new HashMap<>();
        int present = 0;
        for (Member m : reachable) {
            Long v = values.get(m);
            if (v != null && v >= 0) {
                counts.merge(v, 1, Integer::sum);
                present++;
            }
        }
        int absent = reachable.size() - present;
        Long value;
        if (present == 0 || (!presenceWins && absent > present)) {
            value = null;
        } else if (!presenceWins && absent == present && values.get(reachable.get(0)) == null) {
            value = null;
        } else {
            value = null;
            int best = -1;
            for (Member m : reachable) { // reachable is in priority order: ties go to the earlier member
                Long v = values.get(m);
                if (v != null && v >= 0 && counts.get(v) > best) {
                    best = counts.get(v);
                    value = v;
                }
            }
        }
        List<Member> holders = new ArrayList<>();
        List<Member> wrong = new ArrayList<>();
        for (Member m : reachable) {
            Long v = values.get(m);
            boolean has = v != null && v >= 0;
            if (value == null ? !has : has && v.equals(value)) {
                holders.add(m);
            } else {
                wrong.add(m);
            }
        }
        return new Verdict(value, holders, wrong);
    }

    // ------------------------------------------------------------------ health and lag

    /** Health, owed writes and lag of every member, now. */
    public ReplicationStatus status() {
        Instant now = clock.instant();
        Map<String, long[]> owed = new HashMap<>(); // count, bytes, oldest epoch ms
        long total = 0;
        long totalBytes = 0;
        Instant oldest = null;
        for (RepairEntry e : pending.values()) {
            for (String t : e.targets()) {
                long[] o = owed.computeIfAbsent(t, x -> new long[] {0, 0, Long.MAX_VALUE});
                o[0]++;
                o[1] += e.size();
                o[2] = Math.min(o[2], e.recordedAt().toEpochMilli());
                total++;
                totalBytes += e.size();
            }
            if (oldest == null || e.recordedAt().isBefore(oldest)) {
                oldest = e.recordedAt();
            }
        }
        List<MemberStatus> out = new ArrayList<>();
        for (Member m : members) {
            long[] o = owed.getOrDefault(m.name(), new long[] {0, 0, Long.MAX_VALUE});
            out.add(new MemberStatus(m.name(), m.priority(), m.health(), o[0], o[1],
                    o[0] == 0 ? Optional.empty() : Optional.of(Instant.ofEpochMilli(o[2])), m.latency()));
        }
        return new ReplicationStatus(now, out, total, totalBytes, Optional.ofNullable(oldest));
    }

    /**
     * Waits until no background write or read repair is running (owed writes in the repair log
     * may remain; see {@link #repair()}).
     *
     * @return whether that happened within {@code timeout}
     */
    public boolean awaitBackground(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (idle) {
            while (!inflight.isEmpty() || readRepairs.get() > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(idle, Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)));
            }
        }
        return true;
    }

    private long owedWrites() {
        long n = 0;
        for (RepairEntry e : pending.values()) {
            n += e.targets().size();
        }
        return n;
    }

    private void registerMeters() {
        for (Member m : members) {
            String member = m.name();
            meters.add(Gauge.builder("dr4j.replication.member.owed.writes", this, s -> s.memberStatus(member).owedWrites())
                    .tag("store", name).tag("member", member).description("writes this member has not yet applied").register(registry));
            meters.add(Gauge.builder("dr4j.replication.member.owed.bytes", this, s -> s.memberStatus(member).owedBytes())
                    .tag("store", name).tag("member", member).baseUnit("bytes").register(registry));
            meters.add(Gauge.builder("dr4j.replication.member.lag", this,
                            s -> s.memberStatus(member).lag(s.clock.instant()).toMillis() / 1000.0)
                    .tag("store", name).tag("member", member).baseUnit("seconds")
                    .description("age of the oldest write this member has not applied").register(registry));
            meters.add(Gauge.builder("dr4j.replication.member.health", this, s -> s.memberStatus(member).health().ordinal())
                    .tag("store", name).tag("member", member).description("0 healthy, 1 degraded, 2 down").register(registry));
        }
        meters.add(Gauge.builder("dr4j.replication.lag", this, s -> s.status().lag().toMillis() / 1000.0)
                .tag("store", name).baseUnit("seconds")
                .description("age of the oldest write not yet on every member (achieved RPO of the standby)").register(registry));
    }

    private MemberStatus memberStatus(String member) {
        return status().member(member).orElseThrow();
    }

    // ------------------------------------------------------------------ lifecycle

    @Override
    public void close() throws IOException {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        ScheduledFuture<?> repairTask = scheduledRepair;
        if (repairTask != null) {
            repairTask.cancel(false);
        }
        try {
            if (!awaitBackground(Duration.ofNanos(writeTimeoutNanos))) {
                inflight.values().forEach(list -> list.forEach(MemberWrite::cancel));
                awaitBackground(Duration.ofSeconds(10));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        IOException failure = null;
        try {
            compact();
        } catch (IOException e) {
            failure = e;
        }
        if (registry != null) {
            meters.forEach(registry::remove);
        }
        if (ownsScheduler) {
            scheduler.shutdownNow();
        }
        if (ownsExecutor) {
            executor.shutdownNow();
        }
        for (Member m : members) {
            try {
                m.store().close();
            } catch (IOException e) {
                failure = failure == null ? e : failure;
            }
        }
        if (members.stream().noneMatch(m -> m.store() == logStore)) {
            logStore.close();
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return name;
    }

    // ------------------------------------------------------------------ small parts

    private void checkOpen() {
        if (closed.get()) {
            throw new IllegalStateException(name + " is closed");
        }
    }

    private void checkKey(BlobKey key) {
        Objects.requireNonNull(key, "key");
        if (reserved(key)) {
            throw new IllegalArgumentException("Invalid blob key '" + key + "': the first segment '" + RESERVED_PREFIX
                    + "' is reserved by " + name);
        }
    }

    private static boolean reserved(BlobKey key) {
        String v = key.value();
        return v.equals(RESERVED_PREFIX) || v.startsWith(RESERVED_PREFIX + "/");
    }

    private ReentrantLock lock(BlobKey key) throws InterruptedIOException {
        ReentrantLock lock = stripes[Math.floorMod(key.hashCode() * 0x9E3779B1, STRIPES)];
        try {
            lock.lockInterruptibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(name + ": " + key + ": interrupted while waiting for another write of the key");
        }
        return lock;
    }

    private static Set<String> names(Collection<Member> ms) {
        Set<String> out = new LinkedHashSet<>();
        ms.forEach(m -> out.add(m.name()));
        return out;
    }

    private static long crc(byte[] bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes);
        return crc.getValue();
    }

    private static String describe(Throwable t) {
        if (t instanceof ExecutionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    private static final class RepairCounters {
        long copied;
        long bytes;
        long deleted;
        long examined;
        final List<String> failures = new ArrayList<>();
    }

    /** A member's stream that fails at its end unless it delivered exactly the expected number of bytes. */
    private static final class LengthCheckedStream extends FilterInputStream {
        private final long expected;
        private final String what;
        private long seen;

        LengthCheckedStream(InputStream in, long expected, String what) {
            super(in);
            this.expected = expected;
            this.what = what;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b < 0) {
                atEnd();
            } else {
                counted(1);
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n < 0) {
                atEnd();
            } else {
                counted(n);
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long skipped = super.skip(n);
            counted(skipped);
            return skipped;
        }

        private void counted(long n) throws IOException {
            seen += n;
            if (seen > expected) {
                throw new IOException(what + ": the member returned more than the " + expected + " bytes it reported");
            }
        }

        private void atEnd() throws IOException {
            if (seen != expected) {
                throw new EOFException(what + ": the member returned " + seen + " of the " + expected + " bytes it reported");
            }
        }
    }

    /** Bytes whose length differs from the size the member reports. */
    private static final class SizeMismatch extends IOException {
        private static final long serialVersionUID = 1L;

        SizeMismatch(String message) {
            super(message);
        }
    }

    /** What the members said during one read. */
    private final class ReadAttempts {
        final BlobKey key;
        final List<Member> absent = new ArrayList<>();
        final Map<Member, String> bad = new LinkedHashMap<>();
        final Map<Member, IOException> errors = new LinkedHashMap<>();
        byte[] lastBytes;
        Member lastGood;

        ReadAttempts(BlobKey key) {
            this.key = key;
        }

        void record(Member m, IOException e) {
            if (e instanceof NoSuchFileException) {
                absent.add(m);
            } else if (e instanceof SizeMismatch) {
                bad.put(m, e.getMessage());
            } else {
                errors.put(m, e);
            }
        }

        boolean tried(Member m) {
            return absent.contains(m) || bad.containsKey(m) || errors.containsKey(m);
        }

        /** Absence is believed when a read quorum says so, or when every candidate did. */
        boolean absenceConfirmed(List<Member> candidates) {
            return absent.size() >= Math.min(readQuorum, candidates.size()) && bad.isEmpty();
        }

        NoSuchFileException notFound() {
            return new NoSuchFileException(key.value(), null, name + ": no such object");
        }

        IOException failure(String store, boolean verified) {
            StringBuilder sb = new StringBuilder(verified ? "no member returned bytes that pass verification: " : "no member could serve the read: ");
            boolean anyTransient = false;
            for (Map.Entry<Member, String> b : bad.entrySet()) {
                sb.append(b.getKey().name()).append(' ').append(b.getValue()).append("; ");
            }
            for (Map.Entry<Member, IOException> e : errors.entrySet()) {
                sb.append(e.getKey().name()).append(": ").append(describe(e.getValue())).append("; ");
                anyTransient |= BlobStoreException.isTransient(e.getValue());
            }
            for (Member m : absent) {
                sb.append(m.name()).append(": not found; ");
            }
            Throwable cause = errors.isEmpty() ? null : errors.values().iterator().next();
            BlobStoreException ex = anyTransient
                    ? new TransientBlobStoreException(store, key, sb.toString(), cause)
                    : new PermanentBlobStoreException(store, key, sb.toString(), cause);
            return ex;
        }
    }

    /** The acknowledgements of one replicated write. */
    private final class Round {
        record Outcome(List<Member> acked, Map<Member, Throwable> failed, List<Member> running) {
        }

        private final int total;
        private int finished;
        private final List<Member> acked = new ArrayList<>();
        private final Map<Member, Throwable> failed = new LinkedHashMap<>();
        private MemberWrite.Completion afterDetach;

        Round(int total) {
            this.total = total;
        }

        synchronized boolean await(int needed, long deadline) throws InterruptedException {
            while (acked.size() < needed && acked.size() + (total - finished) >= needed) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            return acked.size() >= needed;
        }

        void done(MemberWrite write, Throwable failure) {
            MemberWrite.Completion after;
            synchronized (this) {
                finished++;
                if (failure == null) {
                    acked.add(write.member());
                } else {
                    failed.put(write.member(), failure);
                }
                notifyAll();
                after = afterDetach;
            }
            if (after != null) {
                after.done(write, failure);
            }
        }

        /**
         * Freezes the outcome so far and runs {@code decide} on it under the round's lock; writes
         * completing later are passed to {@code after}.
         */
        synchronized <T> T detach(java.util.function.Function<Outcome, T> decide, MemberWrite.Completion after) {
            this.afterDetach = after;
            List<Member> running = new ArrayList<>(members);
            running.removeAll(acked);
            running.removeAll(failed.keySet());
            return decide.apply(new Outcome(List.copyOf(acked), new LinkedHashMap<>(failed), running));
        }
    }
}
