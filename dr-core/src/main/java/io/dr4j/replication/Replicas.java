package io.dr4j.replication;

import io.dr4j.storage.BlobKey;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state that the parts of a {@link ReplicatedBlobStore} share: the members in priority order,
 * the quorums, the owed writes (the in-memory view of the durable repair log), the background
 * writes still running, the per-key write locks, and the executors. {@link QuorumWriter},
 * {@link ReplicaReader}, {@link Repairer}, {@link ConsistencyChecker} and
 * {@link ReplicationMetrics} each hold one and do one job over it. Thread-safe.
 */
final class Replicas {

    static final Logger LOG = LoggerFactory.getLogger(ReplicatedBlobStore.class);
    private static final int STRIPES = 256;
    static final int COMPACT_EVERY = 256;

    final String name;
    final List<Member> members;
    final Map<String, Member> byName;
    final int writeQuorum;
    final int readQuorum;
    final ReplicationOptions options;
    final Clock clock;
    final ExecutorService executor;
    final ScheduledExecutorService scheduler;
    final RepairJournal journal;

    /** Owed writes by key: who holds the key's current state (sources) and who lacks it (targets). */
    final ConcurrentHashMap<BlobKey, RepairEntry> pending = new ConcurrentHashMap<>();
    /** Member writes still running after their put returned. */
    final ConcurrentHashMap<BlobKey, List<MemberWrite>> inflight = new ConcurrentHashMap<>();
    final AtomicInteger readRepairs = new AtomicInteger();
    final AtomicLong resolvedSinceCompaction = new AtomicLong();
    final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicBoolean compacting = new AtomicBoolean();
    private final ReentrantLock[] stripes = new ReentrantLock[STRIPES];
    private final Object idle = new Object();

    Replicas(List<Member> members, ReplicationOptions options, ExecutorService executor, ScheduledExecutorService scheduler,
            RepairJournal journal) {
        this.members = List.copyOf(members);
        Map<String, Member> names = new LinkedHashMap<>();
        this.members.forEach(m -> names.put(m.name(), m));
        this.byName = names;
        this.name = "replicated(" + String.join(",", names.keySet()) + ")";
        this.writeQuorum = options.writeQuorum() > 0 ? options.writeQuorum() : this.members.size() / 2 + 1;
        this.readQuorum = this.members.size() - writeQuorum + 1;
        this.options = options;
        this.clock = options.clock();
        this.executor = executor;
        this.scheduler = scheduler;
        this.journal = journal;
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new ReentrantLock();
        }
    }

    /** Restores the owed writes of a replayed repair log, dropping members no longer configured. */
    void restore(Collection<RepairEntry> replayed) {
        for (RepairEntry e : replayed) {
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
    }

    /** Takes the write lock of {@code key}'s stripe (writes of one key are serialized). */
    ReentrantLock lock(BlobKey key) throws InterruptedIOException {
        ReentrantLock lock = stripes[Math.floorMod(key.hashCode() * 0x9E3779B1, STRIPES)];
        try {
            lock.lockInterruptibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(name + ": " + key + ": interrupted while waiting for another write of the key");
        }
        return lock;
    }

    /** Appends {@code entry} to the repair log, compacting it in the background now and then. */
    void persist(RepairEntry entry) {
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

    /** Writes the pending set as a snapshot of the repair log and drops older journal objects. */
    void compact() throws IOException {
        resolvedSinceCompaction.set(0);
        journal.compact(() -> new ArrayList<>(pending.values()));
    }

    /** Members to read {@code key} from, best first; members owing a write of the key are left out. */
    List<Member> readOrder(BlobKey key) {
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

    /** Calls {@code m} through its breaker, or as a probe (repair) whatever the breaker says. */
    static <T> T call(Member m, boolean probe, Member.IoCall<T> c) throws IOException {
        return probe ? m.probe(c) : m.call(null, c);
    }

    /** The number of (key, member) writes owed. */
    long owedWrites() {
        long n = 0;
        for (RepairEntry e : pending.values()) {
            n += e.targets().size();
        }
        return n;
    }

    /** Wakes {@link #awaitIdle} after a background write or read repair finished. */
    void notifyIdle() {
        synchronized (idle) {
            idle.notifyAll();
        }
    }

    /**
     * Waits until no background write or read repair runs; returns whether that happened in time.
     * This bound is on the monotonic clock, not the store's {@link Clock}: it limits how long a
     * caller (and {@code close()}) waits for other threads, and must elapse even under a test's
     * clock that stands still.
     */
    boolean awaitIdle(Duration timeout) throws InterruptedException {
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

    void checkOpen() {
        if (closed.get()) {
            throw new IllegalStateException(name + " is closed");
        }
    }

    void checkKey(BlobKey key) {
        Objects.requireNonNull(key, "key");
        if (reserved(key)) {
            throw new IllegalArgumentException("Invalid blob key '" + key + "': the first segment '"
                    + ReplicatedBlobStore.RESERVED_PREFIX + "' is reserved by " + name);
        }
    }

    static boolean reserved(BlobKey key) {
        String v = key.value();
        return v.equals(ReplicatedBlobStore.RESERVED_PREFIX) || v.startsWith(ReplicatedBlobStore.RESERVED_PREFIX + "/");
    }

    static Set<String> names(Collection<Member> ms) {
        Set<String> out = new LinkedHashSet<>();
        ms.forEach(m -> out.add(m.name()));
        return out;
    }

    static long crc(byte[] bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes);
        return crc.getValue();
    }

    static String describe(Throwable t) {
        if (t instanceof ExecutionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getClass().getSimpleName() + ": " + t.getMessage();
    }
}
