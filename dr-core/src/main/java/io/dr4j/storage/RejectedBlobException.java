package io.dr4j.storage;

/**
 * No copy of an object passed what its reader asked of it: the caller's own check
 * ({@link BlobStore#readVerified}, {@link BlobStore#getBytesVerified}) rejected every copy read,
 * or every copy was larger than the reader's ceiling ({@link #tooLarge()}). Permanent: reading the
 * same copies again yields the same bytes. Distinct from "not found"
 * ({@link java.nio.file.NoSuchFileException}): the object exists, but nothing a reader can use
 * came back. The message names the store, the key and, per copy, why it was rejected.
 */
public final class RejectedBlobException extends PermanentBlobStoreException {

    private static final long serialVersionUID = 1L;

    private final boolean tooLarge;

    /**
     * @param store the store's name
     * @param key the object's key
     * @param message why each copy was rejected, without secrets
     * @param tooLarge whether every copy was refused for its size, before the check saw it
     */
    public RejectedBlobException(String store, BlobKey key, String message, boolean tooLarge) {
        super(store, key, message, null);
        this.tooLarge = tooLarge;
    }

    /** Whether every copy was larger than the reader's ceiling (so the caller's check never saw one). */
    public boolean tooLarge() {
        return tooLarge;
    }
}
