package io.dr4j.storage;

import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * A {@link BlobStore} decorator for tests that injects faults into a real store: failing the Nth
 * call or a fraction of calls (transient or permanent), latency, hanging until interrupted,
 * a whole store going down, and truncated or bit-flipped reads. With no fault configured it is
 * a transparent pass-through (and passes {@link BlobStoreContract}).
 *
 * <p>Faults can be changed while the store is in use; all methods are thread-safe. Randomness
 * is seeded, so a test run is reproducible. In the spirit of kopia's {@code blobtesting}.
 */
public final class FaultInjectingBlobStore implements BlobStore {

    /** The operations a fault can target. */
    public enum Operation { PUT, PUT_IF_ABSENT, GET, STAT, LIST, DELETE }

    /** Whether an injected failure is a {@link TransientBlobStoreException} or a {@link PermanentBlobStoreException}. */
    public enum FailureKind { TRANSIENT, PERMANENT }

    /** How a read is damaged. */
    public enum Corruption {
        /** The object's bytes are returned with one bit flipped. */
        FLIP_BIT,
        /** The object's bytes are returned with the second half cut off. */
        TRUNCATE
    }

    private static final Set<Operation> ALL = EnumSet.allOf(Operation.class);

    private final BlobStore delegate;
    private final Random random;
    private final Map<Operation, AtomicLong> calls = new ConcurrentHashMap<>();
    private final Map<Operation, AtomicLong> delayed = new ConcurrentHashMap<>();
    private final CopyOnWriteArrayList<Rule> rules = new CopyOnWriteArrayList<>();
    private volatile Duration latency = Duration.ZERO;
    private volatile Set<Operation> latencyOps = EnumSet.noneOf(Operation.class);
    private volatile Set<Operation> hangingOps = EnumSet.noneOf(Operation.class);
    private volatile Corruption corruption;
    private volatile Predicate<BlobKey> corruptKeys = k -> false;

    /** Wraps {@code delegate}; faults use a fixed seed. */
    public FaultInjectingBlobStore(BlobStore delegate) {
        this(delegate, 42);
    }

    /** Wraps {@code delegate}; fractional faults draw from a {@link Random} seeded with {@code seed}. */
    public FaultInjectingBlobStore(BlobStore delegate, long seed) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.random = new Random(seed);
        for (Operation op : Operation.values()) {
            calls.put(op, new AtomicLong());
            delayed.put(op, new AtomicLong());
        }
    }

    /** The wrapped store. */
    public BlobStore delegate() {
        return delegate;
    }

    /** Fails the {@code n}th call (1-based, counted from now) to any of {@code ops}, once. */
    public FaultInjectingBlobStore failNthCall(int n, FailureKind kind, Operation... ops) {
        if (n < 1) {
            throw new IllegalArgumentException("n must be at least 1");
        }
        rules.add(Rule.nth(n, kind, opsOf(ops)));
        return this;
    }

    /** Fails the next {@code count} calls to any of {@code ops}. */
    public FaultInjectingBlobStore failNextCalls(int count, FailureKind kind, Operation... ops) {
        rules.add(Rule.next(count, kind, opsOf(ops)));
        return this;
    }

    /** Fails each call to {@code ops} with probability {@code fraction} until cleared. */
    public FaultInjectingBlobStore failFraction(double fraction, FailureKind kind, Operation... ops) {
        if (fraction < 0 || fraction > 1) {
            throw new IllegalArgumentException("fraction must be in [0, 1], was " + fraction);
        }
        rules.add(Rule.fraction(fraction, kind, opsOf(ops)));
        return this;
    }

    /** Fails every call, as a store that is unreachable (transient), until {@link #clearFaults()}. */
    public FaultInjectingBlobStore down() {
        return failFraction(1.0, FailureKind.TRANSIENT);
    }

    /** Delays every call to {@code ops} (all if none given) by {@code delay}. */
    public FaultInjectingBlobStore latency(Duration delay, Operation... ops) {
        this.latencyOps = opsOf(ops);
        this.latency = delay;
        return this;
    }

    /** Makes calls to {@code ops} (all if none given) block until the calling thread is interrupted or faults are cleared. */
    public FaultInjectingBlobStore hang(Operation... ops) {
        this.hangingOps = opsOf(ops);
        return this;
    }

    /** Damages the bytes returned by reads of keys matching {@code keys}. */
    public FaultInjectingBlobStore corruptReads(Corruption how, Predicate<BlobKey> keys) {
        this.corruptKeys = Objects.requireNonNull(keys);
        this.corruption = Objects.requireNonNull(how);
        return this;
    }

    /** Removes every configured fault; hanging calls return and proceed. */
    public synchronized FaultInjectingBlobStore clearFaults() {
        rules.clear();
        latency = Duration.ZERO;
        latencyOps = EnumSet.noneOf(Operation.class);
        hangingOps = EnumSet.noneOf(Operation.class);
        corruption = null;
        corruptKeys = k -> false;
        notifyAll();
        return this;
    }

    /**
     * Waits until {@code count} calls of {@code op} in all have entered an injected latency or
     * hang: the latch a test waits on before it interrupts or releases them (no sleep needed).
     *
     * @return whether that happened within {@code timeout}
     */
    public synchronized boolean awaitDelayedCalls(Operation op, int count, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (delayed.get(op).get() < count) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return true;
    }

    private synchronized void enteredDelay(Operation op) {
        delayed.get(op).incrementAndGet();
        notifyAll();
    }

    /** How many calls of {@code op} reached this store (faulted or not). */
    public long calls(Operation op) {
        return calls.get(op).get();
    }

    @Override
    public String name() {
        return "faulty(" + delegate.name() + ")";
    }

    @Override
    public Set<Capability> capabilities() {
        return delegate.capabilities();
    }

    @Override
    public void put(BlobKey key, Path source) throws IOException {
        before(Operation.PUT, key);
        delegate.put(key, source);
    }

    @Override
    public void put(BlobKey key, byte[] data, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, data.length);
        put(key, java.util.Arrays.copyOfRange(data, offset, offset + length));
    }

    @Override
    public void put(BlobKey key, byte[] data) throws IOException {
        before(Operation.PUT, key);
        delegate.put(key, data);
    }

    @Override
    public void put(BlobKey key, InputStream data, long length) throws IOException {
        before(Operation.PUT, key);
        delegate.put(key, data, length);
    }

    @Override
    public void putIfAbsent(BlobKey key, byte[] data) throws IOException {
        before(Operation.PUT_IF_ABSENT, key);
        delegate.putIfAbsent(key, data);
    }

    @Override
    public InputStream get(BlobKey key) throws IOException {
        before(Operation.GET, key);
        return maybeCorrupt(key, delegate.get(key));
    }

    @Override
    public InputStream get(BlobKey key, long offset, long length) throws IOException {
        before(Operation.GET, key);
        return maybeCorrupt(key, delegate.get(key, offset, length));
    }

    @Override
    public byte[] getBytes(BlobKey key) throws IOException {
        before(Operation.GET, key);
        byte[] bytes = delegate.getBytes(key);
        return shouldCorrupt(key) ? damage(bytes) : bytes;
    }

    @Override
    public BlobInfo stat(BlobKey key) throws IOException {
        before(Operation.STAT, key);
        return delegate.stat(key);
    }

    @Override
    public Stream<BlobInfo> list(String prefix) throws IOException {
        before(Operation.LIST, null);
        return delegate.list(prefix);
    }

    @Override
    public void delete(BlobKey key) throws IOException {
        before(Operation.DELETE, key);
        delegate.delete(key);
    }

    @Override
    public int cleanupIncompleteUploads(java.time.Duration olderThan) throws IOException {
        return delegate.cleanupIncompleteUploads(olderThan);
    }

    @Override
    public void close() throws IOException {
        delegate.close();
    }

    private void before(Operation op, BlobKey key) throws IOException {
        long n = calls.get(op).incrementAndGet();
        if (hangingOps.contains(op)) {
            enteredDelay(op);
            awaitRelease(op);
        }
        Duration delay = latency;
        if (!delay.isZero() && latencyOps.contains(op)) {
            enteredDelay(op);
            try {
                Thread.sleep(delay.toMillis(), delay.toNanosPart() % 1_000_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException(name() + ": interrupted during injected latency");
            }
        }
        for (Rule rule : rules) {
            if (rule.fires(op, n, random)) {
                String message = "injected " + rule.kind.name().toLowerCase() + " failure of " + op + " (call " + n + ")";
                throw rule.kind == FailureKind.TRANSIENT
                        ? new TransientBlobStoreException(name(), key, message, null)
                        : new PermanentBlobStoreException(name(), key, message, null);
            }
        }
    }

    private synchronized void awaitRelease(Operation op) throws InterruptedIOException {
        while (hangingOps.contains(op)) {
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException(name() + ": interrupted while hanging in " + op);
            }
        }
    }

    private boolean shouldCorrupt(BlobKey key) {
        return corruption != null && corruptKeys.test(key);
    }

    private InputStream maybeCorrupt(BlobKey key, InputStream in) throws IOException {
        if (!shouldCorrupt(key)) {
            return in;
        }
        try (InputStream closing = in) {
            return new ByteArrayInputStream(damage(closing.readAllBytes()));
        }
    }

    private byte[] damage(byte[] bytes) {
        Corruption how = corruption;
        if (how == null || bytes.length == 0) {
            return bytes;
        }
        if (how == Corruption.TRUNCATE) {
            return java.util.Arrays.copyOf(bytes, bytes.length / 2);
        }
        byte[] copy = bytes.clone();
        int bit;
        synchronized (random) {
            bit = random.nextInt(copy.length * 8);
        }
        copy[bit / 8] ^= (byte) (1 << (bit % 8));
        return copy;
    }

    private static Set<Operation> opsOf(Operation... ops) {
        return ops.length == 0 ? ALL : EnumSet.copyOf(java.util.Arrays.asList(ops));
    }

    /** One failure rule; thread-safe. */
    private static final class Rule {
        final FailureKind kind;
        final Set<Operation> ops;
        final double fraction;
        final AtomicLong countdown;
        final AtomicLong remaining;

        private Rule(FailureKind kind, Set<Operation> ops, double fraction, long nth, long count) {
            this.kind = kind;
            this.ops = ops;
            this.fraction = fraction;
            this.countdown = new AtomicLong(nth);
            this.remaining = new AtomicLong(count);
        }

        static Rule nth(int n, FailureKind kind, Set<Operation> ops) {
            return new Rule(kind, ops, -1, n, 1);
        }

        static Rule next(int count, FailureKind kind, Set<Operation> ops) {
            return new Rule(kind, ops, -1, 1, count);
        }

        static Rule fraction(double fraction, FailureKind kind, Set<Operation> ops) {
            return new Rule(kind, ops, fraction, 0, 0);
        }

        boolean fires(Operation op, long callNumber, Random random) {
            if (!ops.contains(op)) {
                return false;
            }
            if (fraction >= 0) {
                synchronized (random) {
                    return random.nextDouble() < fraction;
                }
            }
            if (countdown.get() > 1) {
                countdown.decrementAndGet();
                return false;
            }
            return remaining.getAndUpdate(r -> Math.max(0, r - 1)) > 0;
        }
    }
}
