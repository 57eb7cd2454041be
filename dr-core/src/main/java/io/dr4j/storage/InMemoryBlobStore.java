package io.dr4j.storage;

import io.dr4j.storage.transfer.KeyPrefixRules;
import io.dr4j.storage.transfer.Ranges;
import io.dr4j.storage.transfer.SourceFiles;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.stream.Stream;

/**
 * The reference {@link BlobStore}: every object held in memory, every rule of the contract kept
 * in the plainest way, and every optional {@link Capability} available, so that it passes
 * {@code BlobStoreContract} with all capability tests running. For tests and examples (a
 * repository that needs no disk), as Trino's {@code MemoryFileSystem}; not for data that must
 * outlive the process. Also what a new backend can be compared with.
 *
 * <ul>
 *   <li>Puts copy the caller's bytes into a new array and install it with one map update:
 *       atomic, and {@link #putIfAbsent} is atomic ({@link Capability#CONDITIONAL_PUT}).</li>
 *   <li>Listing walks a {@link ConcurrentSkipListMap} lazily in key order; it is weakly
 *       consistent, as the SPI allows.</li>
 *   <li>{@link Builder#objectLock} keeps objects under a prefix immutable until their write time
 *       plus a retention ({@link Capability#OBJECT_LOCK}): replacing or deleting one earlier is a
 *       {@link PermanentBlobStoreException}. {@link Builder#tier} records a tier name per prefix
 *       ({@link Capability#STORAGE_TIERS}), reported by {@link #tierOf}.</li>
 * </ul>
 *
 * <p>Thread-safe. Memory is the sum of the objects' sizes; {@link #close()} drops them.
 */
public final class InMemoryBlobStore implements BlobStore {

    private record StoredObject(byte[] data, Instant modified, Instant retainUntil, String tier) {
    }

    private final String name;
    private final Clock clock;
    private final KeyPrefixRules<Duration> locks;
    private final KeyPrefixRules<String> tiers;
    private final Set<Capability> capabilities;
    private final ConcurrentNavigableMap<String, StoredObject> objects = new ConcurrentSkipListMap<>();

    private InMemoryBlobStore(Builder b) {
        this.name = "memory:" + b.name;
        this.clock = b.clock;
        this.locks = b.locks.build();
        this.tiers = b.tiers.build();
        EnumSet<Capability> caps = EnumSet.of(Capability.CONDITIONAL_PUT);
        if (!locks.isEmpty()) {
            caps.add(Capability.OBJECT_LOCK);
        }
        if (!tiers.isEmpty()) {
            caps.add(Capability.STORAGE_TIERS);
        }
        this.capabilities = Collections.unmodifiableSet(caps);
    }

    /** An empty store named {@code memory:<name>}, without lock or tier rules. */
    public static InMemoryBlobStore create(String name) {
        return builder(name).build();
    }

    /** A builder of a store named {@code memory:<name>}. */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** Builds an {@link InMemoryBlobStore}; a prefix may be given one lock rule and one tier. Not thread-safe. */
    public static final class Builder {
        private final String name;
        private Clock clock = Clock.systemUTC();
        private final KeyPrefixRules.Builder<Duration> locks = KeyPrefixRules.builder("Object Lock");
        private final KeyPrefixRules.Builder<String> tiers = KeyPrefixRules.builder("tier");

        private Builder(String name) {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("store name must not be blank");
            }
            this.name = name;
        }

        /** Clock for modification times and retention (default the system UTC clock). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** Keeps objects under {@code keyPrefix} immutable for {@code retention} (positive) after each write. */
        public Builder objectLock(String keyPrefix, Duration retention) {
            if (retention.isNegative() || retention.isZero()) {
                throw new IllegalArgumentException("retention must be positive, was " + retention);
            }
            locks.add(keyPrefix, retention);
            return this;
        }

        /** Records objects under {@code keyPrefix} as written to {@code tier} (a name, e.g. "cold"). */
        public Builder tier(String keyPrefix, String tier) {
            tiers.add(keyPrefix, tier);
            return this;
        }

        public InMemoryBlobStore build() {
            return new InMemoryBlobStore(this);
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Set<Capability> capabilities() {
        return capabilities;
    }

    /** The tier {@code key} was written to, if a tier rule applied. */
    public Optional<String> tierOf(BlobKey key) throws NoSuchFileException {
        return Optional.ofNullable(object(key).tier());
    }

    @Override
    public void put(BlobKey key, Path source) throws IOException {
        Objects.requireNonNull(key, "key");
        SourceFiles.size(source, key);
        store(key, Files.readAllBytes(source), false);
    }

    @Override
    public void put(BlobKey key, byte[] data, int offset, int length) throws IOException {
        Objects.requireNonNull(key, "key");
        Objects.checkFromIndexSize(offset, length, data.length);
        store(key, Arrays.copyOfRange(data, offset, offset + length), false);
    }

    @Override
    public void put(BlobKey key, InputStream data, long length) throws IOException {
        Objects.requireNonNull(key, "key");
        if (length < 0 || length > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("length " + length + " for " + key + " is negative or too large to hold in memory");
        }
        byte[] bytes = new byte[(int) length];
        SourceFiles.readFully(data, bytes, 0, bytes.length, name + ": " + key);
        store(key, bytes, false);
    }

    @Override
    public void putIfAbsent(BlobKey key, byte[] data) throws IOException {
        Objects.requireNonNull(key, "key");
        store(key, data.clone(), true);
    }

    private void store(BlobKey key, byte[] data, boolean ifAbsent) throws IOException {
        Instant now = clock.instant();
        Instant until = locks.forKey(key).map(now::plus).orElse(null);
        StoredObject created = new StoredObject(data, now, until, tiers.forKey(key).orElse(null));
        if (ifAbsent) {
            if (objects.putIfAbsent(key.value(), created) != null) {
                throw new FileAlreadyExistsException(key.value(), null, name + ": object already exists");
            }
            return;
        }
        IOException[] refused = new IOException[1];
        objects.compute(key.value(), (k, old) -> {
            if (old != null && locked(old, now)) {
                refused[0] = lockedFailure(key, old, "replaced");
                return old;
            }
            return created;
        });
        if (refused[0] != null) {
            throw refused[0];
        }
    }

    @Override
    public InputStream get(BlobKey key) throws IOException {
        return new ByteArrayInputStream(object(key).data());
    }

    @Override
    public InputStream get(BlobKey key, long offset, long length) throws IOException {
        Ranges.check(key, offset, length);
        byte[] data = object(key).data();
        if (offset > data.length) {
            throw Ranges.beyondEnd(name, key, offset, data.length);
        }
        int from = (int) offset;
        return new ByteArrayInputStream(data, from, (int) Math.min(length, data.length - from));
    }

    @Override
    public BlobInfo stat(BlobKey key) throws IOException {
        StoredObject o = object(key);
        return new BlobInfo(key, o.data().length, o.modified());
    }

    @Override
    public Stream<BlobInfo> list(String prefix) {
        BlobKey.checkPrefix(prefix);
        ConcurrentNavigableMap<String, StoredObject> range = prefix.isEmpty() ? objects
                : objects.subMap(prefix + "/", true, prefix + "0", false); // '0' follows '/'
        return range.entrySet().stream()
                .map(e -> new BlobInfo(BlobKey.of(e.getKey()), e.getValue().data().length, e.getValue().modified()));
    }

    @Override
    public void delete(BlobKey key) throws IOException {
        Objects.requireNonNull(key, "key");
        Instant now = clock.instant();
        IOException[] refused = new IOException[1];
        objects.computeIfPresent(key.value(), (k, old) -> {
            if (locked(old, now)) {
                refused[0] = lockedFailure(key, old, "deleted");
                return old;
            }
            return null;
        });
        if (refused[0] != null) {
            throw refused[0];
        }
    }

    /** Drops every object. */
    @Override
    public void close() {
        objects.clear();
    }

    @Override
    public String toString() {
        return name;
    }

    private StoredObject object(BlobKey key) throws NoSuchFileException {
        Objects.requireNonNull(key, "key");
        StoredObject o = objects.get(key.value());
        if (o == null) {
            throw new NoSuchFileException(key.value(), null, name + ": no such object");
        }
        return o;
    }

    private static boolean locked(StoredObject o, Instant now) {
        return o.retainUntil() != null && now.isBefore(o.retainUntil());
    }

    private PermanentBlobStoreException lockedFailure(BlobKey key, StoredObject o, String what) {
        return new PermanentBlobStoreException(name, key, "the object is locked until " + o.retainUntil()
                + " and cannot be " + what, null);
    }
}
