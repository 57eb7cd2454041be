package io.dr4j.storage.transfer;

import io.dr4j.storage.BlobKey;
import io.dr4j.storage.TransientBlobStoreException;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * Passes an object's bytes through and fails instead of reporting a wrong object as complete:
 * with more bytes than expected, with fewer (an {@link EOFException} at the end), and, where the
 * CRC-32C stored at write time is known, with other bytes (a
 * {@link io.dr4j.storage.PermanentBlobStoreException} when the last byte arrives, before the
 * caller sees end-of-stream). A mismatch where the store says the object was replaced since the
 * read began ({@link ChangeCheck}: its ETag moved on) is a race with a writer, not damage: it is
 * reported as a {@link TransientBlobStoreException} ({@link #replacedWhileRead}), which
 * {@link CloudBlobStore#getBytes} answers with one more read. Skipped bytes are read, so they are counted and hashed. A stream
 * closed before its end is not checked. Used by the cloud stores for whole-object reads and by
 * the replicated store for members' streams. Not thread-safe, like any stream.
 */
public final class VerifyingInputStream extends FilterInputStream {

    private final long expected;
    private final String store;
    private final BlobKey key;
    private final String what;
    private final String operation;
    private final CRC32C crc;
    private final String expectedCrc;
    private final ChangeCheck changed;
    private long seen;
    private boolean checked;

    private VerifyingInputStream(InputStream in, long expected, String store, BlobKey key, String what, String operation,
            String expectedCrc, ChangeCheck changed) {
        super(Objects.requireNonNull(in, "in"));
        this.changed = changed;
        this.operation = operation;
        this.expected = expected;
        this.store = store;
        this.key = key;
        this.what = what;
        this.expectedCrc = expectedCrc;
        this.crc = expectedCrc == null ? null : new CRC32C();
    }

    /** Checks that {@code in} delivers exactly {@code expected} bytes; {@code what} names the source in messages. */
    public static InputStream exactLength(InputStream in, long expected, String what) {
        return new VerifyingInputStream(in, expected, null, null, what, null, null, null);
    }

    /**
     * Checks that {@code in} delivers exactly {@code expected} bytes whose CRC-32C is
     * {@code expectedCrcHex} ({@link Crc32c#hex}); a mismatch names the store, the key and both values.
     */
    public static InputStream crc32c(InputStream in, long expected, String expectedCrcHex, String store, BlobKey key,
            String operation) {
        return crc32c(in, expected, expectedCrcHex, store, key, operation, null);
    }

    /**
     * As {@link #crc32c(InputStream, long, String, String, BlobKey, String)}; on a mismatch,
     * {@code changed} (if not null) is asked whether the object was replaced since the read
     * began, and if so the failure is {@link #replacedWhileRead transient} rather than corruption.
     */
    public static InputStream crc32c(InputStream in, long expected, String expectedCrcHex, String store, BlobKey key,
            String operation, ChangeCheck changed) {
        Objects.requireNonNull(expectedCrcHex, "expectedCrcHex");
        return new VerifyingInputStream(in, expected, store, key, store + ": " + key + ": " + operation, operation,
                expectedCrcHex, changed);
    }

    /** Asks the store whether the object a read began on has been replaced since (e.g. its ETag is no longer the response's). */
    @FunctionalInterface
    public interface ChangeCheck {
        /** True if the object now is another version than the one being read (or is gone). */
        boolean changed() throws IOException;
    }

    /** Whether {@code failure} is a whole-object read that lost a race with a writer (worth one more read). */
    public static boolean replacedWhileRead(Throwable failure) {
        return failure instanceof TransientBlobStoreException && failure.getCause() instanceof Replaced;
    }

    /** A failure of a read that found the object replaced under it, which {@link #replacedWhileRead} recognizes. */
    public static TransientBlobStoreException replaced(String store, BlobKey key, String message) {
        return new TransientBlobStoreException(store, key, message, new Replaced(message));
    }

    /** The cause that marks a {@link TransientBlobStoreException} as a read that raced a writer. */
    private static final class Replaced extends IOException {
        Replaced(String message) {
            super(message);
        }
    }

    @Override
    public int read() throws IOException {
        int b = in.read();
        if (b < 0) {
            atEnd();
        } else {
            if (crc != null) {
                crc.update(b);
            }
            counted(1);
        }
        return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int count) throws IOException {
        int n = in.read(buffer, offset, count);
        if (n < 0) {
            atEnd();
        } else if (n > 0) {
            if (crc != null) {
                crc.update(buffer, offset, n);
            }
            counted(n);
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        long skipped = 0;
        byte[] scratch = new byte[(int) Math.min(8192, Math.max(1, n))];
        while (skipped < n) {
            int r = read(scratch, 0, (int) Math.min(scratch.length, n - skipped));
            if (r < 0) {
                break;
            }
            skipped += r;
        }
        return skipped;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    private void counted(long n) throws IOException {
        seen += n;
        if (seen > expected) {
            throw new IOException(what + ": returned more than the " + expected + " bytes expected");
        }
        if (seen == expected) {
            checkCrc();
        }
    }

    private void atEnd() throws IOException {
        if (seen != expected) {
            throw new EOFException(what + ": returned " + seen + " of the " + expected + " bytes expected");
        }
        checkCrc();
    }

    private void checkCrc() throws IOException {
        if (crc == null || checked) {
            return;
        }
        checked = true;
        String actual = Crc32c.hex(crc);
        if (!actual.equalsIgnoreCase(expectedCrc)) {
            if (changed != null && changed.changed()) {
                String message = operation + ": the object was replaced while it was read (its bytes, CRC-32C " + actual
                        + ", and the CRC-32C " + expectedCrc + " of the version the read began on belong to different"
                        + " versions); read it again";
                throw replaced(store, key, message);
            }
            throw Crc32c.mismatch(store, key, operation, actual, expectedCrc);
        }
    }
}
