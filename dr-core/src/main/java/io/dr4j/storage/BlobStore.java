package io.dr4j.storage;

import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A flat namespace of immutable-once-written objects named by {@link BlobKey}: the one storage
 * interface everything in dr4j above it uses. Backends: {@link LocalBlobStore} (embedded),
 * {@code S3BlobStore} (dr-aws), {@code AzureBlobStore} (dr-azure); decorators such as
 * {@code ReplicatedBlobStore} implement it too.
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li><b>Atomic puts.</b> A reader sees either the previous object or the whole new one, never
 *       a partial object; a failed or interrupted put leaves the key as it was. Of concurrent puts
 *       to one key the last to complete wins.</li>
 *   <li><b>Missing objects.</b> {@code get} and {@code stat} throw {@link NoSuchFileException}
 *       whose message names the store and key; {@code delete} of a missing key succeeds.</li>
 *   <li><b>Failures</b> other than "missing" and "exists" are {@link BlobStoreException}s, either
 *       {@link TransientBlobStoreException transient} or {@link PermanentBlobStoreException
 *       permanent}. Backends do not retry on their own beyond what their SDK already does;
 *       {@link RetryingBlobStore} adds retries in one place.</li>
 *   <li><b>Listing</b> is lazy and paged, in no particular order, and weakly consistent: objects
 *       put or deleted during the listing may or may not appear.</li>
 *   <li>Implementations are <b>thread-safe</b>; {@link #close()} releases what the store owns
 *       (never a client the application passed in).</li>
 * </ul>
 * Invalid keys are rejected by {@link BlobKey#of} with an {@link IllegalArgumentException}.
 */
public interface BlobStore extends Closeable {

    /** A human-readable name for messages and metrics, e.g. {@code local:/data/repo} or {@code s3://bucket/prefix}. Never holds a secret. */
    String name();

    /** The optional features this store provides; see {@link Capability}. */
    Set<Capability> capabilities();

    /** Whether {@link #putIfAbsent} is atomic on this store ({@link Capability#CONDITIONAL_PUT}). */
    default boolean supportsConditionalPut() {
        return capabilities().contains(Capability.CONDITIONAL_PUT);
    }

    /**
     * Stores the contents of the file {@code source} under {@code key}, replacing any object
     * there. The file must not change during the call.
     *
     * @throws NoSuchFileException if {@code source} does not exist
     * @throws IOException on a store failure; the key is left as it was
     */
    void put(BlobKey key, Path source) throws IOException;

    /** Stores {@code data} under {@code key}, replacing any object there; atomic as {@link #put(BlobKey, Path)}. */
    default void put(BlobKey key, byte[] data) throws IOException {
        put(key, new ByteArrayInputStream(data), data.length);
    }

    /**
     * Stores exactly {@code length} bytes read from {@code data} under {@code key}, replacing any
     * object there. Bytes after {@code length} are not read; the stream is not closed.
     *
     * @throws java.io.EOFException if the stream ends before {@code length} bytes; nothing is stored
     * @throws IOException on a store or stream failure; the key is left as it was
     */
    void put(BlobKey key, InputStream data, long length) throws IOException;

    /**
     * Stores {@code data} under {@code key} only if no object is there. Atomic where
     * {@link #supportsConditionalPut()} is true; otherwise a check followed by a put, which
     * concurrent writers can both pass.
     *
     * @throws FileAlreadyExistsException if an object exists under {@code key}; it is left unchanged
     */
    void putIfAbsent(BlobKey key, byte[] data) throws IOException;

    /**
     * Opens the whole object for reading. The caller closes the stream.
     *
     * @throws NoSuchFileException if there is no object under {@code key}
     */
    InputStream get(BlobKey key) throws IOException;

    /**
     * Opens bytes {@code [offset, min(offset + length, size))} of the object. Reading at
     * {@code offset == size}, or with {@code length == 0}, yields an empty stream.
     *
     * @throws IllegalArgumentException if {@code offset} or {@code length} is negative
     * @throws java.io.EOFException if {@code offset} is beyond the end of the object
     * @throws NoSuchFileException if there is no object under {@code key}
     */
    InputStream get(BlobKey key, long offset, long length) throws IOException;

    /** Reads the whole object into memory; for small objects (chunks, manifests). */
    default byte[] getBytes(BlobKey key) throws IOException {
        try (InputStream in = get(key)) {
            return in.readAllBytes();
        }
    }

    /**
     * Returns the object's size and modification time.
     *
     * @throws NoSuchFileException if there is no object under {@code key}
     */
    BlobInfo stat(BlobKey key) throws IOException;

    /** Returns the object's info, or empty if there is none. */
    default Optional<BlobInfo> find(BlobKey key) throws IOException {
        try {
            return Optional.of(stat(key));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /**
     * Lists the objects under {@code prefix}: all of them for {@code ""}, otherwise those whose
     * key starts with {@code prefix + "/"} (so {@code a/b} does not list {@code a/bc/x}). Pages
     * are fetched as the stream is consumed; a failure while paging surfaces as an
     * {@link java.io.UncheckedIOException} wrapping the store's {@code IOException}. The caller
     * closes the stream. Order is unspecified.
     *
     * @throws IllegalArgumentException if {@code prefix} is neither empty nor a valid key
     */
    Stream<BlobInfo> list(String prefix) throws IOException;

    /** Deletes the object under {@code key}; succeeds if there is none. */
    void delete(BlobKey key) throws IOException;
}
