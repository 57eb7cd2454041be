package io.dr4j.backup;

import io.dr4j.storage.BlobStore;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.ExecutorService;

/**
 * What an operation on an open repository needs: the (retrying) store, keys, chunker, settings
 * and the repository's executors. The engine sees the store only through the {@link BlobStore}
 * SPI: a store that holds several copies reads around a damaged one inside
 * {@link BlobStore#readVerified}, which every pack read goes through.
 *
 * @param store the store, wrapped with retries
 * @param crypto the repository's keys
 * @param chunker the keyed chunker
 * @param config the repository's config
 * @param options run-time settings
 * @param cpu executor for hashing, sealing and opening chunks
 * @param io executor for store requests
 */
record Context(BlobStore store, Crypto crypto, FastCdc chunker, RepositoryConfig config,
        RepositoryOptions options, ExecutorService cpu, ExecutorService io) {

    /** Maximum size of a manifest once decompressed (a bound against decompression bombs): 1 GiB. */
    public static final int MAX_MANIFEST_SIZE = 1 << 30;

    /** A description of {@code key} in this store for messages. */
    public String where(Object key) {
        return store.name() + ": " + key;
    }

    /** The largest chunk of this repository. */
    int maxChunk() {
        return config.chunker().maxSize();
    }

    /** Size of a pack buffer: the target plus room for the largest sealed chunk, the header and trailer. */
    int packBufferSize() {
        int blobs = config.packSize() / config.chunker().minSize() + 2;
        long size = (long) config.packSize() + Crypto.maxSealedLength(maxChunk())
                + Crypto.OVERHEAD + 4 + (long) blobs * PackFormat.RECORD + PackFormat.TRAILER;
        return (int) Math.min(Integer.MAX_VALUE - 16, size);
    }

    /** A plaintext buffer for one chunk, with room for what the cipher writes beyond it. */
    int chunkBufferSize() {
        return Crypto.maxSealedLength(maxChunk()) + 64;
    }

    /** The local cache folder of one kind for this repository, if caching is on. */
    Optional<Path> cache(String kind) {
        return options.cacheDirectory().map(d -> d.resolve(config.id()).resolve(kind));
    }
}
