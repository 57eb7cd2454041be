package io.dr4j.backup.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dr4j.backup.RepositoryLockedException;
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
import java.util.stream.Stream;

/**
 * A lock object under {@code locks/} (FORMAT.md §Locks). Backups take shared locks, prune an
 * exclusive one. Taking a lock writes it first and then looks for conflicting fresh locks, so of
 * two racing processes at least one sees the other and backs off; a holder refreshes its lock
 * (rewrites it with a new time) so that a long operation is never taken for a dead one. A lock
 * not refreshed for {@code staleAfter} is ignored and removed by the next prune.
 *
 * <p>Thread-safe.
 */
public final class RepositoryLock implements AutoCloseable {

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
            for (Holder other : holders(store, clock, staleAfter)) {
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

    /** A lock found in the store. */
    public record Holder(BlobKey key, Mode mode, String host, long pid, String purpose, Instant created,
            Instant refreshed, boolean stale) {
    }

    /** Reads every lock in the store; unreadable lock objects are reported as stale exclusive locks of unknown origin. */
    public static List<Holder> holders(BlobStore store, Clock clock, Duration staleAfter) throws IOException {
        List<BlobInfo> infos;
        try (Stream<BlobInfo> listing = store.list("locks")) {
            infos = listing.toList();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        List<Holder> result = new ArrayList<>();
        Instant now = clock.instant();
        for (BlobInfo info : infos) {
            try {
                JsonNode node = JSON.readTree(store.getBytes(info.key()));
                Instant refreshed = Instant.parse(node.get("refreshed").asText());
                result.add(new Holder(info.key(), Mode.valueOf(node.get("mode").asText().toUpperCase()),
                        node.get("host").asText(), node.get("pid").asLong(), node.path("purpose").asText("?"),
                        Instant.parse(node.get("created").asText()), refreshed,
                        refreshed.plus(staleAfter).isBefore(now)));
            } catch (NoSuchFileException e) {
                // released while we listed
            } catch (IOException | RuntimeException e) {
                if (e instanceof IOException && !(e instanceof com.fasterxml.jackson.core.JsonProcessingException)) {
                    throw (IOException) e;
                }
                boolean stale = info.lastModified().plus(staleAfter).isBefore(now);
                result.add(new Holder(info.key(), Mode.EXCLUSIVE, "unknown (unreadable lock)", -1, "?",
                        info.lastModified(), info.lastModified(), stale));
            }
        }
        return result;
    }

    /** Deletes stale locks; returns how many. */
    public static int removeStale(BlobStore store, Clock clock, Duration staleAfter) throws IOException {
        int removed = 0;
        for (Holder holder : holders(store, clock, staleAfter)) {
            if (holder.stale()) {
                store.delete(holder.key());
                removed++;
            }
        }
        return removed;
    }
}
