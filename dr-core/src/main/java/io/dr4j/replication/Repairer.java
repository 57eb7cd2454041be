package io.dr4j.replication;

import static io.dr4j.replication.Replicas.LOG;
import static io.dr4j.replication.Replicas.describe;
import static io.dr4j.replication.Replicas.names;

import io.dr4j.replication.RepairEntry.Kind;
import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Repair of a {@link ReplicatedBlobStore}: pays back the owed writes of the repair log (each
 * repaired key leaves the log, so a pass cut short continues where it stopped), then compares
 * member listings ({@link ConsistencyChecker}) and copies what is missing or different from the
 * members holding the majority version, rate-limited. {@link #syncKey} is also what read repair
 * and an arbitrated {@code putIfAbsent} use to bring one key up to date. Thread-safe; one pass at
 * a time.
 */
final class Repairer {

    private final Replicas r;
    private final ConsistencyChecker checker;
    private final String name;
    private final Map<String, Member> byName;
    private final ConcurrentHashMap<BlobKey, RepairEntry> pending;
    private final ConcurrentHashMap<BlobKey, List<MemberWrite>> inflight;
    private final RepairJournal journal;
    private final ReplicationOptions options;
    private final Clock clock;
    private final ReentrantLock repairLock = new ReentrantLock();

    Repairer(Replicas r, ConsistencyChecker checker) {
        this.r = r;
        this.checker = checker;
        this.name = r.name;
        this.byName = r.byName;
        this.pending = r.pending;
        this.inflight = r.inflight;
        this.journal = r.journal;
        this.options = r.options;
        this.clock = r.clock;
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
    RepairReport repair(ConsistencyCheck check) throws IOException {
        Objects.requireNonNull(check, "check");
        r.checkOpen();
        Instant start = clock.instant();
        Counters counters = new Counters();
        repairLock.lock();
        try {
            for (BlobKey key : new ArrayList<>(pending.keySet())) {
                repairOne(key, counters);
            }
            ConsistencyChecker.Snapshot snapshot = checker.snapshot(check, true);
            counters.examined = snapshot.keys().size();
            counters.failures.addAll(snapshot.unreachableLines());
            for (Map.Entry<BlobKey, Map<Member, Long>> k : snapshot.keys().entrySet()) {
                BlobKey key = k.getKey();
                if (pending.containsKey(key) || inflight.containsKey(key)) {
                    continue;
                }
                ConsistencyChecker.Verdict v = ConsistencyChecker.verdict(k.getValue(), snapshot.reachable(), true);
                if (v.wrong().isEmpty()) {
                    continue;
                }
                RepairEntry entry = new RepairEntry(journal.nextSeq(), Kind.READ_REPAIR, key, names(v.holders()),
                        names(v.wrong()), 0, clock.instant());
                if (pending.putIfAbsent(key, entry) == null) {
                    repairOne(key, counters);
                }
            }
            r.compact();
        } finally {
            repairLock.unlock();
        }
        return new RepairReport(counters.copied, counters.bytes, counters.deleted, counters.examined, counters.failures,
                r.owedWrites(), Duration.between(start, clock.instant()));
    }

    private void repairOne(BlobKey key, Counters counters) throws IOException {
        ReentrantLock lock = r.lock(key);
        try {
            if (inflight.containsKey(key)) {
                return; // a background write of this key is still running; it settles the member
            }
            syncKey(key, counters, true);
        } finally {
            lock.unlock();
        }
        if (r.resolvedSinceCompaction.get() >= Replicas.COMPACT_EVERY) {
            r.compact();
        }
    }

    /**
     * Makes the targets of {@code key}'s pending entry equal to the current state of one of its
     * sources (object or absence). The caller holds the key's lock.
     */
    void syncKey(BlobKey key, Counters counters, boolean probe) throws IOException {
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
                state = Replicas.call(m, probe, () -> m.store().find(key));
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
                    Replicas.call(target, probe, () -> {
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
            r.resolvedSinceCompaction.incrementAndGet();
        }
    }

    private long copy(BlobKey key, Member source, Member target, boolean probe) throws IOException {
        BlobInfo info = Replicas.call(source, probe, () -> source.store().stat(key));
        try (InputStream in = Replicas.call(source, probe, () -> source.store().get(key))) {
            Replicas.call(target, probe, () -> {
                target.store().put(key, in, info.size());
                return null;
            });
        }
        throttle(info.size());
        return info.size();
    }

    private long throttleStart = System.nanoTime(); // a rate, measured on the monotonic clock

    private long throttledBytes;

    private synchronized void throttle(long bytes) throws InterruptedIOException {
        if (options.repairBytesPerSecond() == Long.MAX_VALUE) {
            return;
        }
        long now = System.nanoTime();
        if (now - throttleStart > TimeUnit.SECONDS.toNanos(10)) {
            throttleStart = now; // forget old history so an idle period does not allow a burst
            throttledBytes = 0;
        }
        throttledBytes += bytes;
        long due = throttleStart + (long) (throttledBytes * 1e9 / options.repairBytesPerSecond());
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

    void scheduledRepair() {
        if (r.closed.get()) {
            return;
        }
        try {
            RepairReport report = repair(ConsistencyCheck.SIZES);
            if (!report.complete()) {
                LOG.warn("{}: scheduled repair left {} writes owed; failures: {}", name, report.owedAfter(), report.failures());
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("{}: scheduled repair failed: {}", name, describe(e));
        }
    }

    static final class Counters {
        long copied;
        long bytes;
        long deleted;
        long examined;
        final List<String> failures = new ArrayList<>();
    }
}
