package io.dr4j.backup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A lock object under {@code locks/} (FORMAT.md §Locks). Backups take shared locks, prune an
 * exclusive one. Taking a lock writes it first and then looks for conflicting fresh locks, so of
 * two racing processes at least one sees the other and backs off; a holder refreshes its lock
 * (rewrites it) so that a long operation is never taken for a dead one. A lock not rewritten
 * for {@code staleAfter} is ignored and removed by the next prune or {@code unlock}.
 *
 * <p>Staleness is judged by the store's clock alone, never by comparing a time one host wrote
 * with another host's clock: a lock's age is its modification time as the store reports it
 * (the listing's {@link BlobInfo#lastModified()}, set by the store when the object was last
 * written) against the store's own notion of now, which is the modification time of an object
 * the judging process has just written (its own new lock when acquiring, a probe object
 * otherwise). Clock skew between hosts therefore does not matter; what remains is that a holder
 * paused for longer than {@code staleAfter} (a stopped VM) loses its protection, which is why
 * the refresh period is a third of it. The {@code created} and {@code refreshed} fields inside
 * a lock are the holder's clock and informational only.
 *
 * <p>Thread-safe.
 */
final class RepositoryLock implements AutoCloseable {

    /** Shared (backup) or exclusive (prune). */
    public enum Mode { SHARED, EXCLUSIVE }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final BlobStore store;
    private final BlobKey key;
    private final Mode mode;
    private final String host;
    private final Clock clock;
    private final Instant created;
    private volatile boolean released;

    private RepositoryLock(BlobStore store, BlobKey key, Mode mode, String host, Clock clock) {
        this.store = store;
        this.key = key;
        this.mode = mode;
        this.host = host;
        this.clock = clock;
        this.created = clock.instant();
    }

    /**
     * Takes a lock.
     *
     * @throws RepositoryLockedException if a conflicting fresh lock exists (its holder is named)
     */
    public static RepositoryLock acquire(BlobStore store, Mode mode, String host, Clock clock, Duration staleAfter,
            String purpose) throws IOException {
        BlobKey key = BlobKey.of("locks/" + HexFormat.of().formatHex(Crypto.randomBytes(16)));
        RepositoryLock lock = new RepositoryLock(store, key, mode, host, clock);
        lock.write(purpose);
        try {
            for (Holder other : holders(store, staleAfter, Optional.of(key))) {
                if (other.key.equals(key) || other.stale) {
                    continue;
                }
                if (mode == Mode.EXCLUSIVE || other.mode == Mode.EXCLUSIVE) {
                    throw new RepositoryLockedException("repository in " + store.name() + " is locked: "
                            + other.mode.name().toLowerCase() + " lock by " + other.host + " (pid " + other.pid
                            + ") for " + other.purpose + " since " + other.created + "; " + mode.name().toLowerCase()
                            + " lock for " + purpose + " refused");
                }
            }
        } catch (RuntimeException | IOException e) {
            lock.close();
            throw e;
        }
        return lock;
    }

    /** Rewrites the lock with the current time, so it does not go stale while the operation runs. */
    public void refresh(String purpose) throws IOException {
        if (!released) {
            write(purpose);
        }
    }

    private void write(String purpose) throws IOException {
        ObjectNode node = JSON.createObjectNode();
        node.put("mode", mode.name().toLowerCase());
        node.put("host", host);
        node.put("pid", ProcessHandle.current().pid());
        node.put("purpose", purpose);
        node.put("created", created.toString());
        node.put("refreshed", clock.instant().toString());
        store.put(key, JSON.writeValueAsBytes(node));
    }

    /** Removes the lock; idempotent. */
    @Override
    public void close() throws IOException {
        if (!released) {
            released = true;
            store.delete(key);
        }
    }

    /**
     * A lock found in the store.
     *
     * @param created when the holder says it took the lock (its clock; informational)
     * @param refreshed when the holder says it last refreshed it (its clock; informational)
     * @param lastWritten when the store says the lock object was last written (the store's clock)
     * @param stale whether the store's clock says it was not rewritten for {@code staleAfter}
     */
    public record Holder(BlobKey key, Mode mode, String host, long pid, String purpose, Instant created,
            Instant refreshed, Instant lastWritten, boolean stale) {
    }

    /** The store's time of {@code key}, just written: from the listing, or by {@code stat} where the listing lags. */
    private static Instant storeTimeOf(BlobStore store, BlobKey key, List<BlobInfo> listing) throws IOException {
        for (BlobInfo info : listing) {
            if (info.key().equals(key)) {
                return info.lastModified();
            }
        }
        return store.stat(key).lastModified();
    }

    /**
     * The store's notion of now: the modification time of a probe object written for the purpose
     * (under {@code clock-probe/}, which readers ignore) and deleted again.
     */
    public static Instant storeNow(BlobStore store) throws IOException {
        BlobKey probe = BlobKey.of(PROBE_PREFIX + HexFormat.of().formatHex(Crypto.randomBytes(16)));
        store.put(probe, new byte[0]);
        try {
            return store.stat(probe).lastModified();
        } finally {
            store.delete(probe);
        }
    }

    /** Where {@link #storeNow} writes its probes. */
    static final String PROBE_PREFIX = "clock-probe/";

    /**
     * Reads every lock in the store, judging staleness by the store's clock (a probe object is
     * written and removed to learn it); unreadable lock objects are reported as exclusive locks
     * of unknown origin.
     */
    public static List<Holder> holders(BlobStore store, Duration staleAfter) throws IOException {
        return holders(store, staleAfter, Optional.empty());
    }

    /** {@code reference}: a lock object just written by the caller, whose store time is "now"; empty to write a probe. */
    private static List<Holder> holders(BlobStore store, Duration staleAfter, Optional<BlobKey> reference) throws IOException {
        List<BlobInfo> infos;
        try (Stream<BlobInfo> listing = store.list("locks")) {
            infos = listing.toList();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        Instant now = reference.isPresent() ? storeTimeOf(store, reference.get(), infos) : storeNow(store);
        List<Holder> result = new ArrayList<>();
        for (BlobInfo info : infos) {
            if (info.key().name().length() != 32 || !info.key().name().matches("[0-9a-f]{32}")) {
                continue; // not a lock (FORMAT.md §Locks: readers ignore other names)
            }
            boolean stale = info.lastModified().plus(staleAfter).isBefore(now);
            try {
                JsonNode node = JSON.readTree(store.getBytes(info.key()));
                Instant refreshed = Instant.parse(node.get("refreshed").asText());
                result.add(new Holder(info.key(), Mode.valueOf(node.get("mode").asText().toUpperCase()),
                        node.get("host").asText(), node.get("pid").asLong(), node.path("purpose").asText("?"),
                        Instant.parse(node.get("created").asText()), refreshed, info.lastModified(), stale));
            } catch (NoSuchFileException e) {
                // released while we listed
            } catch (IOException | RuntimeException e) {
                if (e instanceof IOException && !(e instanceof com.fasterxml.jackson.core.JsonProcessingException)) {
                    throw (IOException) e;
                }
                result.add(new Holder(info.key(), Mode.EXCLUSIVE, "unknown (unreadable lock)", -1, "?",
                        info.lastModified(), info.lastModified(), info.lastModified(), stale));
            }
        }
        return result;
    }

    /** Deletes stale locks; returns how many. */
    public static int removeStale(BlobStore store, Duration staleAfter) throws IOException {
        return remove(store, staleAfter, false).size();
    }

    /** Deletes stale locks, or with {@code all} every lock (live holders lose their protection); returns those deleted. */
    public static List<Holder> remove(BlobStore store, Duration staleAfter, boolean all) throws IOException {
        List<Holder> removed = new ArrayList<>();
        for (Holder holder : holders(store, staleAfter)) {
            if (all || holder.stale()) {
                try {
                    store.delete(holder.key());
                } catch (NoSuchFileException e) {
                    continue; // released meanwhile
                }
                removed.add(holder);
            }
        }
        return removed;
    }
}
