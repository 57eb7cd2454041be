package io.dr4j.backup.internal;

import io.dr4j.backup.RepositoryOptions;
import io.dr4j.storage.BlobStore;
import java.util.concurrent.ExecutorService;

/**
 * What an operation on an open repository needs: the (retrying) store, keys, chunker, settings
 * and the repository's executors.
 *
 * @param store the store, wrapped with retries
 * @param crypto the repository's keys
 * @param chunker the keyed chunker
 * @param config the repository's config
 * @param options run-time settings
 * @param cpu executor for hashing, sealing and opening chunks
 * @param io executor for store requests
 */
public record Context(BlobStore store, Crypto crypto, FastCdc chunker, RepositoryConfig config,
        RepositoryOptions options, ExecutorService cpu, ExecutorService io) {

    /** Maximum size of a manifest once decompressed (a bound against decompression bombs): 1 GiB. */
    public static final int MAX_MANIFEST_SIZE = 1 << 30;

    /** A description of {@code key} in this store for messages. */
    public String where(Object key) {
        return store.name() + ": " + key;
    }
}
