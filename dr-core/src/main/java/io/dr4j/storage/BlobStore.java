package io.dr4j.storage;

import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
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
 *   <li><b>Verified reads.</b> {@link #readVerified} (a range) and {@link #getBytesVerified} (a
 *       whole object, bounded by the caller's ceiling) take the caller's authenticity check and
 *       return only bytes it accepted. A store with one copy reads once; a store with several
 *       ({@code ReplicatedBlobStore}) reads around a copy the check rejects and repairs it. "Not
 *       found" stays {@link NoSuchFileException}; "found, but no copy passed" is a
 *       {@link RejectedBlobException} naming the key and why each copy was refused.</li>
 *   <li>Implementations are <b>thread-safe</b>; {@link #close()} releases what the store owns
 *       (never a client the application passed in). A verified read calls the caller's check on
 *       the calling thread, once per copy it reads, never concurrently within one call.</li>
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
        put(key, data, 0, data.length);
    }

    /**
     * Stores {@code data[offset, offset + length)} under {@code key}, replacing any object there;
     * atomic as {@link #put(BlobKey, Path)}. For callers that fill a reusable buffer (the backup
     * engine's pack buffers): the store must not keep a reference to {@code data} after returning.
     *
     * @throws IndexOutOfBoundsException if the range is outside {@code data}
     */
    default void put(BlobKey key, byte[] data, int offset, int length) throws IOException {
        java.util.Objects.checkFromIndexSize(offset, length, data.length);
        put(key, new ByteArrayInputStream(data, offset, length), length);
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
     * Reads bytes {@code [offset, offset + dst.remaining())} of the object straight into
     * {@code dst}, advancing its position to its limit: no intermediate copy of the range.
     * Backends override this where their client can fill a caller's buffer; the default reads
     * {@link #get(BlobKey, long, long)} into the buffer's array.
     *
     * @throws EOFException if the object ends before the range does; {@code dst}'s content is then unspecified
     * @throws NoSuchFileException if there is no object under {@code key}
     * @throws IllegalArgumentException if {@code offset} is negative
     */
    default void read(BlobKey key, long offset, ByteBuffer dst) throws IOException {
        int n = dst.remaining();
        if (n == 0) {
            return;
        }
        try (InputStream in = get(key, offset, n)) {
            int got = 0;
            if (dst.hasArray()) {
                got = in.readNBytes(dst.array(), dst.arrayOffset() + dst.position(), n);
                dst.position(dst.position() + got);
            } else {
                byte[] slice = new byte[Math.min(n, 64 << 10)];
                for (int r; got < n && (r = in.read(slice, 0, Math.min(slice.length, n - got))) > 0; got += r) {
                    dst.put(slice, 0, r);
                }
            }
            if (got < n) {
                throw new EOFException(name() + ": " + key + " ends before byte " + (offset + n) + " (got " + got
                        + " of the " + n + " bytes asked for at offset " + offset + ")");
            }
        }
    }

    /**
     * Reads a range as {@link #read(BlobKey, long, ByteBuffer)} and hands the bytes read (a
     * read-only view of {@code dst} from its old position to its new one) to {@code authentic},
     * the caller's own check (the backup engine authenticates AES-GCM tags). This is the hook a
     * store holding several copies uses to read around a damaged one: {@code ReplicatedBlobStore}
     * tries the next replica when a copy is rejected and repairs the bad copy. A store with one
     * copy reads once. Callers see only this SPI, never which kind of store they have.
     *
     * @throws RejectedBlobException if no copy passes {@code authentic}; {@code dst} then holds the last copy read
     * @throws NoSuchFileException if there is no object under {@code key}
     * @throws EOFException if the object ends before the range does
     */
    default void readVerified(BlobKey key, long offset, ByteBuffer dst, Predicate<ByteBuffer> authentic) throws IOException {
        int start = dst.position();
        read(key, offset, dst);
        ByteBuffer view = dst.asReadOnlyBuffer();
        view.position(start).limit(dst.position());
        if (!authentic.test(view)) {
            throw new RejectedBlobException(name(), key, "bytes [" + offset + ", " + (offset + dst.position() - start)
                    + ") failed the caller's verification (a damaged or tampered copy)", false);
        }
    }

    /**
     * Reads the whole object, if it holds at most {@code maxBytes} bytes, and returns it once
     * {@code authentic}, the caller's own check, accepts it (the backup engine opens a sealed
     * manifest or index file, or parses the config). The whole-object twin of
     * {@link #readVerified}: a store holding several copies tries the next one when a copy is
     * rejected or larger than {@code maxBytes}, and repairs the copy it passed over; a store with
     * one copy reads once. At most {@code maxBytes + 1} bytes of any copy are read, whatever size
     * the store reports, so a hostile object costs bounded memory.
     *
     * <p>The check must accept every good version of the object: a store repairs the copies that
     * fail it from the one that passes, so for an object that is rewritten (the config), a check
     * that an older version passes and the current one fails (a removed key slot) would roll the
     * current copy back. For an immutable object (sealed under one key) authenticity is such a check.
     *
     * @param maxBytes the most bytes the caller accepts; above {@code Integer.MAX_VALUE - 16} (the
     *     largest array) it reads as that
     * @throws NoSuchFileException if there is no object under {@code key}
     * @throws RejectedBlobException if no copy passes: {@link RejectedBlobException#tooLarge()}
     *     when every copy holds more than {@code maxBytes}, else the check rejected them
     * @throws IllegalArgumentException if {@code maxBytes} is negative
     */
    default byte[] getBytesVerified(BlobKey key, long maxBytes, Predicate<byte[]> authentic) throws IOException {
        java.util.Objects.requireNonNull(authentic, "authentic");
        byte[] bytes = readAtMost(this, key, maxBytes);
        if (!authentic.test(bytes)) {
            throw new RejectedBlobException(name(), key, "its " + bytes.length
                    + " bytes failed the caller's verification (a damaged or tampered copy)", false);
        }
        return bytes;
    }

    /** Reads the object with {@link #get(BlobKey)}, at most {@code maxBytes + 1} bytes of it: a longer one is too large. */
    private static byte[] readAtMost(BlobStore store, BlobKey key, long maxBytes) throws IOException {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("negative maxBytes " + maxBytes + " for " + key);
        }
        int cap = (int) Math.min(Integer.MAX_VALUE - 16, maxBytes);
        try (InputStream in = store.get(key)) {
            byte[] bytes = in.readNBytes(cap);
            if (in.read() >= 0) {
                throw new RejectedBlobException(store.name(), key, "holds more than the " + cap
                        + " bytes the reader accepts (not read further)", true);
            }
            return bytes;
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

    /**
     * Removes what interrupted uploads left inside the store (never a complete object) that was
     * started more than {@code olderThan} ago, and returns how many it removed. An upload younger
     * than that may belong to a put still running and is left alone, so callers pass a safe age
     * (prune passes its grace period). Partial failure leaves the rest for the next call.
     *
     * <p>The default does nothing and returns 0: right for stores whose interrupted uploads leave
     * nothing behind or clean up by themselves. {@code LocalBlobStore} removes its day-old
     * temporaries when opened; S3 aborts incomplete multipart uploads (which S3 keeps, and bills,
     * until aborted); Azure discards uncommitted blocks by itself after 7 days, so it needs
     * nothing here; a wrapper passes the call to the stores it wraps.
     */
    default int cleanupIncompleteUploads(java.time.Duration olderThan) throws IOException {
        java.util.Objects.requireNonNull(olderThan, "olderThan");
        return 0;
    }
}
