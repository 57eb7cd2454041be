package io.dr4j.replication;

import static io.dr4j.replication.Replicas.LOG;
import static io.dr4j.replication.Replicas.describe;
import static io.dr4j.replication.Replicas.names;

import io.dr4j.replication.RepairEntry.Kind;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStoreException;
import io.dr4j.storage.PermanentBlobStoreException;
import io.dr4j.storage.TransientBlobStoreException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The writes of a {@link ReplicatedBlobStore}: every put and delete is sent to all members at
 * once and returns when W acknowledge ({@link Round}); members still writing then finish in the
 * background within a bounded budget, or are cancelled and owed. Every owed write goes to the
 * durable repair log before the write returns. A write that misses its quorum is rolled back or
 * forward by repair, as the class documentation of {@link ReplicatedBlobStore} explains.
 * Writes of one key are serialized and never overtake background writes of the key. Thread-safe.
 */
final class QuorumWriter {

    private final Replicas r;
    private final Repairer repairer;
    private final String name;
    private final List<Member> members;
    private final Map<String, Member> byName;
    private final ConcurrentHashMap<BlobKey, RepairEntry> pending;
    private final ConcurrentHashMap<BlobKey, List<MemberWrite>> inflight;
    private final RepairJournal journal;
    private final ReplicationOptions options;
    private final Clock clock;
    private final ExecutorService executor;
    private final ScheduledExecutorService scheduler;
    private final int writeQuorum;
    private final AtomicLong backgroundBytes = new AtomicLong();
    private final AtomicInteger backgroundWrites = new AtomicInteger();

    QuorumWriter(Replicas r, Repairer repairer) {
        this.r = r;
        this.repairer = repairer;
        this.name = r.name;
        this.members = r.members;
        this.byName = r.byName;
        this.pending = r.pending;
        this.inflight = r.inflight;
        this.journal = r.journal;
        this.options = r.options;
        this.clock = r.clock;
        this.executor = r.executor;
        this.scheduler = r.scheduler;
        this.writeQuorum = r.writeQuorum;
    }

    /**
     * How long to block before looking at the clock again: the time left until {@code deadline}
     * by the store's {@link Clock} (the one time source, which tests move by hand), in slices of
     * at most 50 ms so that a clock moved by a test is noticed.
     */
    static long waitSlice(Instant deadline, Clock clock) {
        long left = Duration.between(clock.instant(), deadline).toNanos();
        return Math.max(1, Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)));
    }

    /** Cancels every background write (at close, after waiting for them). */
    void cancelBackground() {
        inflight.values().forEach(list -> list.forEach(MemberWrite::cancel));
    }

    void put(BlobKey key, Path source) throws IOException {
        r.checkKey(key);
        PutSource src = PutSource.ofFile(source);
        try {
            write(key, Kind.PUT, src.size(), src, m -> src.putTo(m.store(), key));
        } finally {
            src.release();
        }
    }

    /** Copies the range once (every member's write needs the bytes until it completes, possibly after this returns). */
    void put(BlobKey key, byte[] data, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, data.length);
        put(key, offset == 0 && length == data.length ? data : java.util.Arrays.copyOfRange(data, offset, offset + length));
    }

    void put(BlobKey key, byte[] data) throws IOException {
        r.checkKey(key);
        PutSource src = PutSource.copyOf(data);
        try {
            write(key, Kind.PUT, src.size(), src, m -> src.putTo(m.store(), key));
        } finally {
            src.release();
        }
    }

    /** Buffers the stream first (memory or a temporary file, see {@link ReplicatedBlobStore.Builder#streamBufferInMemory}) so all members can read it. */
    void put(BlobKey key, InputStream data, long length) throws IOException {
        r.checkKey(key);
        PutSource src = PutSource.buffer(name, key, data, length, options.streamBufferInMemory(), options.tempDirectory());
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
    void putIfAbsent(BlobKey key, byte[] data) throws IOException {
        r.checkKey(key);
        Member arbiter = members.get(0);
        PutSource src = PutSource.copyOf(data);
        ReentrantLock lock = r.lock(key);
        try {
            RepairEntry owed = pending.get(key);
            if (owed != null && owed.targets().contains(arbiter.name())) {
                repairer.syncKey(key, new Repairer.Counters(), false); // the arbiter must not decide on a stale view
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
    void delete(BlobKey key) throws IOException {
        r.checkKey(key);
        write(key, Kind.DELETE, 0, null, m -> m.store().delete(key));
    }

    @FunctionalInterface
    private interface MemberOp {
        void apply(Member m) throws Exception;
    }

    private void write(BlobKey key, Kind kind, long size, PutSource source, MemberOp op) throws IOException {
        ReentrantLock lock = r.lock(key);
        try {
            settleInflight(key);
            writeLocked(key, kind, size, source, op);
        } finally {
            lock.unlock();
        }
    }

    /** The body of a replicated write; the caller holds the key's lock and has settled earlier writes. */
    private void writeLocked(BlobKey key, Kind kind, long size, PutSource source, MemberOp op) throws IOException {
        r.checkOpen();
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
        Instant deadline = clock.instant().plus(options.writeTimeout());
        boolean reached;
        boolean interrupted = false;
        try {
            reached = round.await(writeQuorum, deadline, clock);
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
                r.persist(entry);
                for (MemberWrite w : background) {
                    scheduleCancel(w, options.backgroundTimeout());
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
            r.persist(entry);
        }
        IOException failure = quorumFailure(key, kind, outcome, convergence, !clock.instant().isBefore(deadline));
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
            sb.append(m.name()).append(timedOut ? " timed out after " + options.writeTimeout()
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
                        r.resolvedSinceCompaction.incrementAndGet();
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
            r.notifyIdle();
        }
    }

    private boolean reserveBackground(long size) {
        while (true) {
            int ops = backgroundWrites.get();
            if (ops >= options.backgroundMaxWrites()) {
                return false;
            }
            if (backgroundWrites.compareAndSet(ops, ops + 1)) {
                break;
            }
        }
        if (backgroundBytes.addAndGet(size) > options.backgroundMaxBytes()) {
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
        Instant deadline = clock.instant().plus(options.writeTimeout());
        for (MemberWrite w : running) {
            try {
                while (!w.awaitDone(waitSlice(deadline, clock))) {
                    if (!clock.instant().isBefore(deadline)) {
                        throw new TransientBlobStoreException(name, key, "an earlier write of this key to "
                                + w.member().name() + " does not stop", null);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException(name + ": " + key + ": interrupted while waiting for an earlier write");
            }
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

        synchronized boolean await(int needed, Instant deadline, Clock clock) throws InterruptedException {
            while (acked.size() < needed && acked.size() + (total - finished) >= needed) {
                if (!clock.instant().isBefore(deadline)) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(this, waitSlice(deadline, clock));
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
