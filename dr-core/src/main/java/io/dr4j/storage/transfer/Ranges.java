package io.dr4j.storage.transfer;

import io.dr4j.storage.BlobKey;
import io.dr4j.storage.PermanentBlobStoreException;
import java.io.EOFException;
import java.util.Objects;

/**
 * The argument checks and messages of ranged reads, one wording for every backend. Stateless and
 * thread-safe.
 */
public final class Ranges {

    private Ranges() {
    }

    /**
     * Checks the arguments of {@code get(key, offset, length)}.
     *
     * @throws IllegalArgumentException if {@code offset} or {@code length} is negative
     */
    public static void check(BlobKey key, long offset, long length) {
        Objects.requireNonNull(key, "key");
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("negative offset or length (" + offset + ", " + length + ") for " + key);
        }
    }

    /** The failure of a read that starts beyond the end of an object of {@code size} bytes. */
    public static EOFException beyondEnd(String store, BlobKey key, long offset, long size) {
        return new EOFException(store + ": " + key + ": offset " + offset + " is beyond the end of the object ("
                + size + " bytes)");
    }

    /** The failure of a read of {@code [offset, offset + length)} from an object that ends before it. */
    public static EOFException endsBefore(String store, BlobKey key, long offset, long length, long got) {
        return new EOFException(store + ": " + key + " ends before byte " + (offset + length) + " (got " + got
                + " of the " + length + " bytes asked for at offset " + offset + ")");
    }

    /**
     * The total size from a {@code Content-Range} header ({@code bytes 0-99/1234}).
     *
     * @throws PermanentBlobStoreException if the header is missing or has no total
     */
    public static long totalOf(String contentRange, String store, BlobKey key) throws PermanentBlobStoreException {
        int slash = contentRange == null ? -1 : contentRange.lastIndexOf('/');
        if (slash < 0 || contentRange.endsWith("*")) {
            throw new PermanentBlobStoreException(store, key, "get: the server sent no object size (Content-Range '"
                    + contentRange + "')", null);
        }
        try {
            return Long.parseLong(contentRange.substring(slash + 1).trim());
        } catch (NumberFormatException e) {
            throw new PermanentBlobStoreException(store, key, "get: unparseable Content-Range '" + contentRange + "'", e);
        }
    }
}
