package io.dr4j.replication;

import static io.dr4j.replication.Replicas.LOG;
import static io.dr4j.replication.Replicas.crc;
import static io.dr4j.replication.Replicas.describe;
import static io.dr4j.replication.Replicas.reserved;

import io.dr4j.replication.RepairEntry.Kind;
import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStoreException;
import io.dr4j.storage.PermanentBlobStoreException;
import io.dr4j.storage.RejectedBlobException;
import io.dr4j.storage.TransientBlobStoreException;
import io.dr4j.storage.transfer.VerifyingInputStream;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * The reads of a {@link ReplicatedBlobStore}: members are tried best first
 * ({@link Replicas#readOrder}), skipping those that owe the key, with optional hedging, size and
 * cross-replica checks, and the caller's own authenticity check ({@link #readVerified} for a
 * range, {@link #getBytesVerified} for a whole object under the caller's size ceiling); members
 * found missing, damaged or oversized are read-repaired in the background. Absence is believed
 * once a read quorum ({@code N - W + 1}) agrees. Listing corrects the preferred member's view
 * with the owed writes. Thread-safe.
 */
final class ReplicaReader {

    /** No ceiling: {@link #readBytes} reads a member's copy with its own {@code getBytes}. */
    private static final long UNBOUNDED = Long.MAX_VALUE;

    private final Replicas r;
    private final Repairer repairer;
    private final String name;
    private final ConcurrentHashMap<BlobKey, RepairEntry> pending;
    private final RepairJournal journal;
    private final ReplicationOptions options;
    private final java.time.Clock clock;
    private final ExecutorService executor;

    ReplicaReader(Replicas r, Repairer repairer) {
        this.r = r;
        this.repairer = repairer;
        this.name = r.name;
        this.pending = r.pending;
        this.journal = r.journal;
        this.options = r.options;
        this.clock = r.clock;
        this.executor = r.executor;
    }

    byte[] getBytes(BlobKey key) throws IOException {
        r.checkKey(key);
        return readBytes(key, null, UNBOUNDED);
    }

    /**
     * Reads the object from members in read order until one returns at most {@code maxBytes}
     * bytes that {@code valid} accepts; members that returned rejected or oversized bytes, or
     * "not found", are read-repaired from the member that passed. A member's copy is refused
     * from the size it reports, and read no further than {@code maxBytes + 1} bytes whatever it
     * reports. Meant for callers that can authenticate what they read (the backup engine opens
     * sealed manifests and index files).
     *
     * @throws NoSuchFileException if the object is absent (by the read quorum)
     * @throws RejectedBlobException naming the members and why, if every member that answered was rejected
     * @throws PermanentBlobStoreException or {@link TransientBlobStoreException} naming the members if none could serve the read
     */
    byte[] getBytesVerified(BlobKey key, long maxBytes, Predicate<byte[]> valid) throws IOException {
        r.checkKey(key);
        Objects.requireNonNull(valid, "valid");
        if (maxBytes < 0) {
            throw new IllegalArgumentException("negative maxBytes " + maxBytes + " for " + key);
        }
        return readBytes(key, valid, Math.min(maxBytes, Integer.MAX_VALUE - 16));
    }

    /** Reads the range from members in read order, falling back to the next one on a failure. */
    void read(BlobKey key, long offset, ByteBuffer dst) throws IOException {
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
    void readVerified(BlobKey key, long offset, ByteBuffer dst, Predicate<ByteBuffer> authentic) throws IOException {
        r.checkKey(key);
        Objects.requireNonNull(authentic, "authentic");
        if (offset < 0) {
            throw new IllegalArgumentException("negative offset " + offset + " for " + key);
        }
        int start = dst.position();
        List<Member> order = r.readOrder(key);
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

    private byte[] readBytes(BlobKey key, Predicate<byte[]> valid, long max) throws IOException {
        List<Member> order = r.readOrder(key);
        ReadAttempts attempts = new ReadAttempts(key);
        List<Member> remaining = new ArrayList<>(order);
        while (!remaining.isEmpty()) {
            Member first = remaining.get(0);
            Member second = options.hedgeDelay() != null && remaining.size() > 1 ? remaining.get(1) : null;
            Map.Entry<Member, byte[]> got;
            if (second != null) {
                got = hedged(key, first, second, attempts, max);
                if ((got != null && got.getKey() == second) || attempts.tried(second)) {
                    remaining.remove(second); // a hedge that was cancelled unfinished may still be asked later
                }
                if (got == null || got.getKey() == first || attempts.tried(first)) {
                    remaining.remove(first); // a first read cancelled unfinished (the hedge answered) is asked again
                }
            } else {
                got = sizeVerifiedRead(key, first, attempts, max) ? Map.entry(first, attempts.lastBytes) : null;
                remaining.remove(first);
            }
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
            if (valid == null && options.verification() == ReadVerification.REPLICAS) {
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
    private boolean sizeVerifiedRead(BlobKey key, Member m, ReadAttempts attempts, long max) {
        try {
            attempts.lastBytes = readChecked(key, m, max);
            return true;
        } catch (IOException e) {
            attempts.record(m, e);
            return false;
        }
    }

    /**
     * Reads {@code m}'s copy whole, refusing one above {@code max} bytes ({@link #UNBOUNDED}: no
     * ceiling) from its reported size, or once {@code max + 1} bytes came back, as {@link TooLarge}.
     */
    private byte[] readChecked(BlobKey key, Member m, long max) throws IOException {
        BlobInfo info = m.callOrProbe(() -> m.store().stat(key));
        if (info.size() > max) {
            throw new TooLarge("holds " + info.size() + " bytes, more than the " + max + " the reader accepts");
        }
        // a copy over the ceiling is the object's fault, not the member's: no failure for its breaker
        byte[] bytes = m.callOrProbe(() -> max == UNBOUNDED ? m.store().getBytes(key) : withinCeiling(m, key, max));
        if (bytes == null) {
            throw new TooLarge("returned more than the " + max + " bytes the reader accepts (it reports "
                    + info.size() + ")");
        }
        if (bytes.length != info.size()) {
            throw new SizeMismatch("returned " + bytes.length + " bytes for " + key + " whose size it reports as " + info.size());
        }
        return bytes;
    }

    /** {@code m}'s copy if it holds at most {@code max} bytes, else null. */
    private static byte[] withinCeiling(Member m, BlobKey key, long max) throws IOException {
        try {
            return m.store().getBytesVerified(key, max, any -> true);
        } catch (RejectedBlobException e) {
            if (e.tooLarge()) {
                return null;
            }
            throw e;
        }
    }

    private Map.Entry<Member, byte[]> hedged(BlobKey key, Member first, Member second, ReadAttempts attempts, long max) {
        ExecutorCompletionService<Map.Entry<Member, byte[]>> race = new ExecutorCompletionService<>(executor);
        List<Future<Map.Entry<Member, byte[]>>> started = new ArrayList<>();
        Map<Future<Map.Entry<Member, byte[]>>, Member> whose = new HashMap<>();
        try {
            Future<Map.Entry<Member, byte[]>> f1;
            try {
                f1 = race.submit(() -> Map.entry(first, readChecked(key, first, max)));
            } catch (RejectedExecutionException busy) {
                // every thread of the bounded executor is busy: read without a hedge, on this thread
                return sizeVerifiedRead(key, first, attempts, max) ? Map.entry(first, attempts.lastBytes) : null;
            }
            started.add(f1);
            whose.put(f1, first);
            Future<Map.Entry<Member, byte[]>> done = race.poll(options.hedgeDelay().toNanos(), TimeUnit.NANOSECONDS);
            if (done == null) {
                try {
                    Future<Map.Entry<Member, byte[]>> f2 = race.submit(() -> Map.entry(second, readChecked(key, second, max)));
                    started.add(f2);
                    whose.put(f2, second);
                } catch (RejectedExecutionException busy) {
                    // no thread for the hedge: wait for the first alone
                }
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
                return sizeVerifiedRead(key, second, attempts, max) ? Map.entry(second, attempts.lastBytes) : null;
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
                b = readChecked(key, other, UNBOUNDED);
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
     * Opens the object. Objects up to {@link ReplicatedBlobStore.Builder#streamBufferInMemory} are read and verified
     * in memory first (with fallback, as {@link #getBytes}); larger ones are streamed from the
     * preferred member and the stream fails at its end if the member returned a different number
     * of bytes than it reported.
     */
    InputStream get(BlobKey key) throws IOException {
        r.checkKey(key);
        Located located = locate(key);
        if (located.info.size() <= options.streamBufferInMemory()) {
            return new ByteArrayInputStream(readBytes(key, null, UNBOUNDED));
        }
        return openStream(key, located, 0, Long.MAX_VALUE);
    }

    InputStream get(BlobKey key, long offset, long length) throws IOException {
        r.checkKey(key);
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
                return VerifyingInputStream.exactLength(in, expected, name + ": " + key + " from " + m.name());
            } catch (IOException e) {
                attempts.record(m, e);
            }
        }
        if (attempts.absenceConfirmed(order) || attempts.errors.isEmpty()) {
            throw attempts.notFound();
        }
        throw attempts.failure(name, false);
    }

    BlobInfo stat(BlobKey key) throws IOException {
        r.checkKey(key);
        return locate(key).info;
    }

    private record Located(Member member, BlobInfo info, List<Member> order) {
    }

    private Located locate(BlobKey key) throws IOException {
        List<Member> order = r.readOrder(key);
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
    Stream<BlobInfo> list(String prefix) throws IOException {
        BlobKey.checkPrefix(prefix);
        if (prefix.equals(ReplicatedBlobStore.RESERVED_PREFIX) || prefix.startsWith(ReplicatedBlobStore.RESERVED_PREFIX + "/")) {
            return Stream.empty();
        }
        IOException last = null;
        for (Member m : r.readOrder(null)) {
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

    /** Records members that failed a read of {@code key} as owing it, and repairs them in the background. */
    private void readRepair(BlobKey key, Member good, ReadAttempts attempts) {
        Set<String> bad = new LinkedHashSet<>();
        attempts.bad.keySet().forEach(m -> bad.add(m.name()));
        attempts.absent.forEach(m -> bad.add(m.name()));
        bad.remove(good.name());
        if (bad.isEmpty() || r.closed.get()) {
            return;
        }
        RepairEntry entry = new RepairEntry(journal.nextSeq(), Kind.READ_REPAIR, key, Set.of(good.name()), bad, 0, clock.instant());
        if (pending.putIfAbsent(key, entry) != null) {
            return; // another owed write of this key is pending; repair handles both
        }
        LOG.info("{}: read of {} found bad or missing copies on {}; repairing from {}", name, key, bad, good.name());
        r.readRepairs.incrementAndGet();
        try {
            executor.execute(() -> {
                try {
                    r.persist(entry);
                    ReentrantLock lock = r.lock(key);
                    try {
                        repairer.syncKey(key, new Repairer.Counters(), true);
                    } finally {
                        lock.unlock();
                    }
                } catch (IOException e) {
                    LOG.warn("{}: read repair of {} failed; it stays owed: {}", name, key, describe(e));
                } finally {
                    r.readRepairs.decrementAndGet();
                    r.notifyIdle();
                }
            });
        } catch (RejectedExecutionException e) {
            r.readRepairs.decrementAndGet();
        }
    }

    /** Bytes whose length differs from the size the member reports. */
    private static class SizeMismatch extends IOException {
        private static final long serialVersionUID = 1L;

        SizeMismatch(String message) {
            super(message);
        }
    }

    /** A copy larger than the reader's ceiling: a bad copy, as a size mismatch is. */
    private static final class TooLarge extends SizeMismatch {
        private static final long serialVersionUID = 1L;

        TooLarge(String message) {
            super(message);
        }
    }

    /** What the members said during one read. */
    private final class ReadAttempts {
        final BlobKey key;
        final List<Member> absent = new ArrayList<>();
        final Map<Member, String> bad = new LinkedHashMap<>();
        /** The members of {@link #bad} whose copy was over the reader's ceiling. */
        final Set<Member> tooLarge = new HashSet<>();
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
                if (e instanceof TooLarge) {
                    tooLarge.add(m);
                }
            } else {
                errors.put(m, e);
            }
        }

        boolean tried(Member m) {
            return absent.contains(m) || bad.containsKey(m) || errors.containsKey(m);
        }

        /** Absence is believed when a read quorum says so, or when every candidate did. */
        boolean absenceConfirmed(List<Member> candidates) {
            return absent.size() >= Math.min(r.readQuorum, candidates.size()) && bad.isEmpty();
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
            if (verified && errors.isEmpty() && !bad.isEmpty()) {
                // the object is there, and every copy read was refused: by the caller's check or the ceiling
                return new RejectedBlobException(store, key, sb.toString(), tooLarge.containsAll(bad.keySet()));
            }
            Throwable cause = errors.isEmpty() ? null : errors.values().iterator().next();
            BlobStoreException ex = anyTransient
                    ? new TransientBlobStoreException(store, key, sb.toString(), cause)
                    : new PermanentBlobStoreException(store, key, sb.toString(), cause);
            return ex;
        }
    }
}
