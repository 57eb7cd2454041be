package io.dr4j.backup;

import java.time.Instant;
import java.util.Objects;

/**
 * A lock object found in (and, from {@link Repository#unlock}, removed from) a repository.
 *
 * @param key the lock's key in the store ({@code locks/<32 hex>})
 * @param mode {@code shared} (a backup) or {@code exclusive} (a prune, or an unreadable lock)
 * @param host the holder's host name
 * @param pid the holder's process id, -1 if unknown
 * @param purpose what the holder was doing
 * @param created when the holder says it took the lock (by its own clock)
 * @param lastWritten when the store says the lock was last written (by the store's clock)
 * @param stale whether it was not rewritten for the stale period, by the store's clock
 */
public record LockInfo(String key, String mode, String host, long pid, String purpose, Instant created, Instant lastWritten,
        boolean stale) {
    public LockInfo {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(created, "created");
        Objects.requireNonNull(lastWritten, "lastWritten");
    }
}
