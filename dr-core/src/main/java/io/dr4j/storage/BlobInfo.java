package io.dr4j.storage;

import java.time.Instant;
import java.util.Objects;

/**
 * What a store knows about one object: its key, size in bytes and last-modified time.
 *
 * @param key the object's key
 * @param size size in bytes, never negative
 * @param lastModified when the object was last written, as reported by the store
 */
public record BlobInfo(BlobKey key, long size, Instant lastModified) {
    public BlobInfo {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(lastModified, "lastModified");
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size + " for " + key);
        }
    }
}
