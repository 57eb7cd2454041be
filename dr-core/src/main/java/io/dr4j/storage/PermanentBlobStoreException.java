package io.dr4j.storage;

/**
 * A store failure that retrying will not fix (access denied, missing bucket, bad configuration),
 * or, as {@link RejectedBlobException}, an object no copy of which a reader accepts.
 */
public sealed class PermanentBlobStoreException extends BlobStoreException permits RejectedBlobException {

    /**
     * @param store the store's name
     * @param key the key of the operation, or null
     * @param message what failed and why, without secrets
     * @param cause the underlying failure, or null
     */
    public PermanentBlobStoreException(String store, BlobKey key, String message, Throwable cause) {
        super(store, key, message, cause);
    }

    @Override
    public boolean isTransient() {
        return false;
    }
}
