package io.dr4j.backup.internal;

import io.dr4j.backup.CorruptObjectException;
import io.dr4j.backup.RepositoryOptions;
import io.dr4j.replication.ReplicatedBlobStore;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStore;
import io.dr4j.storage.PermanentBlobStoreException;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What an operation on an open repository needs: the (retrying) store, keys, chunker, settings
 * and the repository's executors.
 *
 * @param store the store, wrapped with retries
 * @param replicated the store itself when it is a {@link ReplicatedBlobStore}: chunks are then
 *     read with {@link ReplicatedBlobStore#getBytesVerified}, so a replica holding a damaged copy
 *     is skipped (and repaired) instead of failing the restore
 * @param crypto the repository's keys
 * @param chunker the keyed chunker
 * @param config the repository's config
 * @param options run-time settings
 * @param cpu executor for hashing, sealing and opening chunks
 * @param io executor for store requests
 */
public record Context(BlobStore store, Optional<ReplicatedBlobStore> replicated, Crypto crypto, FastCdc chunker, RepositoryConfig config,
        RepositoryOptions options, ExecutorService cpu, ExecutorService io) {

    /** Maximum size of a manifest once decompressed (a bound against decompression bombs): 1 GiB. */
    public static final int MAX_MANIFEST_SIZE = 1 << 30;

    /**
     * Reads, authenticates and checks one chunk against its id.
     *
     * @throws CorruptObjectException if the chunk fails authentication (on every replica, for a replicated store)
     * @throws java.nio.file.NoSuchFileException if it is missing
     */
    public byte[] readChunk(ChunkId id) throws IOException {
        BlobKey key = id.key();
        String where = where(key);
        int max = config.chunker().maxSize();
        if (replicated.isEmpty()) {
            return crypto.openChunk(id, store.getBytes(key), max, where);
        }
        AtomicReference<byte[]> plain = new AtomicReference<>();
        try {
            replicated.get().getBytesVerified(key, sealed -> {
                try {
                    plain.compareAndSet(null, crypto.openChunk(id, sealed, max, where));
                    return true;
                } catch (CorruptObjectException e) {
                    return false;
                }
            });
        } catch (PermanentBlobStoreException e) {
            if (plain.get() == null) {
                throw new CorruptObjectException(where + ": no replica holds an authentic copy (" + e.getMessage() + ")", e);
            }
        }
        return plain.get();
    }

    /** A description of {@code key} in this store for messages. */
    public String where(Object key) {
        return store.name() + ": " + key;
    }
}
