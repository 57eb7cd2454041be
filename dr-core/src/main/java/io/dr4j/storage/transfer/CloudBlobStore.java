package io.dr4j.storage.transfer;

import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStore;
import io.dr4j.storage.Capability;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * The SPI plumbing that every object-store backend shares, so that each cloud module keeps only
 * what speaks its SDK: the name and declared capabilities, the argument checks, and the choice
 * between one request (objects up to {@link #singlePutThreshold()}) and a parallel upload in
 * parts, for byte arrays (sent in place: the range is never copied) and streams (read into one
 * buffer below the threshold, into pooled part buffers above it). A backend implements the
 * single put, the two part uploads, the reads, listing and deletion.
 *
 * <p>Subclasses are thread-safe, as every {@link BlobStore} is.
 */
public abstract class CloudBlobStore implements BlobStore {

    private final String name;
    private final Set<Capability> capabilities;
    private final long singlePutThreshold;

    /**
     * {@code name} must hold no secret; {@code capabilities} is copied; objects up to
     * {@code singlePutThreshold} bytes are written with one request.
     */
    protected CloudBlobStore(String name, Set<Capability> capabilities, long singlePutThreshold) {
        this.name = Objects.requireNonNull(name, "name");
        this.singlePutThreshold = singlePutThreshold;
        this.capabilities = capabilities.isEmpty() ? Set.of()
                : Collections.unmodifiableSet(EnumSet.copyOf(capabilities)); // in declaration order
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final Set<Capability> capabilities() {
        return capabilities;
    }

    /** Objects up to this many bytes are written with one request. */
    protected final long singlePutThreshold() {
        return singlePutThreshold;
    }

    /** Writes {@code data[offset, offset + length)} in one request; {@code conditional}: only if absent. */
    protected abstract void putSingle(BlobKey key, byte[] data, int offset, int length, boolean conditional)
            throws IOException;

    /** Writes {@code data[offset, offset + length)} (above the threshold) in parts, in place. */
    protected abstract void putParts(BlobKey key, byte[] data, int offset, int length, boolean conditional)
            throws IOException;

    /** Writes exactly {@code length} bytes (above the threshold) of {@code data} in parts. */
    protected abstract void putParts(BlobKey key, InputStream data, long length) throws IOException;

    /** Reads {@code [offset, offset + dst.remaining())} into {@code dst}, which has bytes remaining. */
    protected abstract void readInto(BlobKey key, long offset, ByteBuffer dst) throws IOException;

    /**
     * Opens {@code [offset, offset + length)}, {@code length > 0} (past the end it ends early);
     * {@code whole} when the caller asked for the entire object. The arguments are checked.
     */
    protected abstract InputStream openRange(BlobKey key, long offset, long length, boolean whole) throws IOException;

    /** Fails if the store is closed; by default it never is. */
    protected void checkOpen() throws IOException {
    }

    @Override
    public final void put(BlobKey key, byte[] data) throws IOException {
        put(key, data, 0, data.length, false);
    }

    /** Sends the range in place: neither a single put nor the parts copy it. */
    @Override
    public final void put(BlobKey key, byte[] data, int offset, int length) throws IOException {
        put(key, data, offset, length, false);
    }

    /** {@link #put(BlobKey, byte[])} with {@code If-None-Match: *}; a backend whose server ignores it overrides this. */
    @Override
    public void putIfAbsent(BlobKey key, byte[] data) throws IOException {
        put(key, data, 0, data.length, true);
    }

    /** The single put or the part upload of an array range. */
    protected final void put(BlobKey key, byte[] data, int offset, int length, boolean conditional) throws IOException {
        Objects.requireNonNull(key, "key");
        Objects.checkFromIndexSize(offset, length, data.length);
        checkOpen();
        if (length <= singlePutThreshold()) {
            putSingle(key, data, offset, length, conditional);
        } else {
            putParts(key, data, offset, length, conditional);
        }
    }

    @Override
    public final void put(BlobKey key, InputStream data, long length) throws IOException {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(data, "data");
        if (length < 0) {
            throw new IllegalArgumentException("negative length " + length + " for " + key);
        }
        checkOpen();
        if (length <= singlePutThreshold()) {
            byte[] body = new byte[(int) length];
            SourceFiles.readFully(data, body, 0, body.length, name + ": " + key);
            putSingle(key, body, 0, body.length, false);
        } else {
            putParts(key, data, length);
        }
    }

    @Override
    public final InputStream get(BlobKey key) throws IOException {
        Objects.requireNonNull(key, "key");
        checkOpen();
        return openRange(key, 0, Long.MAX_VALUE, true);
    }

    /**
     * Reads the whole object; a read that raced a writer (the bytes and the checksum of two
     * versions, {@link VerifyingInputStream#replacedWhileRead}) is repeated once, so a reader
     * sees one whole version, never a mix reported as corruption.
     */
    @Override
    public byte[] getBytes(BlobKey key) throws IOException {
        return onceMoreIfReplaced(() -> BlobStore.super.getBytes(key));
    }

    /** As {@link #getBytes}: a read that raced a writer is repeated once before the caller's check sees anything. */
    @Override
    public byte[] getBytesVerified(BlobKey key, long maxBytes, java.util.function.Predicate<byte[]> authentic) throws IOException {
        return onceMoreIfReplaced(() -> BlobStore.super.getBytesVerified(key, maxBytes, authentic));
    }

    private interface WholeRead {
        byte[] read() throws IOException;
    }

    private static byte[] onceMoreIfReplaced(WholeRead read) throws IOException {
        try {
            return read.read();
        } catch (IOException e) {
            if (!VerifyingInputStream.replacedWhileRead(e)) {
                throw e;
            }
            return read.read();
        }
    }

    /** A read of nothing asks only for the size (an offset past the end fails); others open the range. */
    @Override
    public final InputStream get(BlobKey key, long offset, long length) throws IOException {
        Ranges.check(key, offset, length);
        checkOpen();
        if (length == 0) {
            long size = stat(key).size();
            if (offset > size) {
                throw Ranges.beyondEnd(name, key, offset, size);
            }
            return InputStream.nullInputStream();
        }
        return openRange(key, offset, length, offset == 0 && length == Long.MAX_VALUE);
    }

    /** Parallel ranged requests, each landing straight in its slice of {@code dst}. */
    @Override
    public final void read(BlobKey key, long offset, ByteBuffer dst) throws IOException {
        Ranges.check(key, offset, 0);
        checkOpen();
        if (dst.hasRemaining()) {
            readInto(key, offset, dst);
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
