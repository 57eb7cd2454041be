package io.dr4j.storage;

import java.io.IOException;
import java.util.Optional;

/**
 * A failure of a {@link BlobStore} other than "not found" ({@link java.nio.file.NoSuchFileException})
 * and "already exists" ({@link java.nio.file.FileAlreadyExistsException}). It is either
 * {@link TransientBlobStoreException transient} (worth retrying: throttling, 5xx, connection
 * reset, timeout) or {@link PermanentBlobStoreException permanent} (access denied, missing
 * bucket, invalid configuration).
 *
 * <p>The message names the store and, where there is one, the key; it never holds a secret.
 */
public abstract sealed class BlobStoreException extends IOException
        permits TransientBlobStoreException, PermanentBlobStoreException {

    private final String store;
    private final BlobKey key;

    BlobStoreException(String store, BlobKey key, String message, Throwable cause) {
        super(store + (key == null ? "" : ": " + key) + ": " + message, cause);
        this.store = store;
        this.key = key;
    }

    /** The name of the store that failed ({@link BlobStore#name()}). */
    public String store() {
        return store;
    }

    /** The key of the failed operation, if it had one. */
    public Optional<BlobKey> key() {
        return Optional.ofNullable(key);
    }

    /** Whether retrying the same operation may succeed. */
    public abstract boolean isTransient();

    /**
     * Returns whether {@code failure}, or the first {@code BlobStoreException} among its causes,
     * is transient. Interruption and anything else are not.
     */
    public static boolean isTransient(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof BlobStoreException) {
                return ((BlobStoreException) t).isTransient();
            }
        }
        return false;
    }
}
