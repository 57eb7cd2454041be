package io.dr4j.storage;

/** A store failure that may go away if the operation is retried (throttling, 5xx, reset, timeout). */
public final class TransientBlobStoreException extends BlobStoreException {

    /**
     * @param store the store's name
     * @param key the key of the operation, or null
     * @param message what failed and why, without secrets
     * @param cause the underlying failure, or null
     */
    public TransientBlobStoreException(String store, BlobKey key, String message, Throwable cause) {
        super(store, key, message, cause);
    }

    @Override
    public boolean isTransient() {
        return true;
    }
}
