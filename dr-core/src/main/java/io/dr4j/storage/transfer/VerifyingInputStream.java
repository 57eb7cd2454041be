package io.dr4j.storage.transfer;

import io.dr4j.storage.BlobKey;
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
 * caller sees end-of-stream). Skipped bytes are read, so they are counted and hashed. A stream
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
    private long seen;
    private boolean checked;

    private VerifyingInputStream(InputStream in, long expected, String store, BlobKey key, String what, String operation,
            String expectedCrc) {
        super(Objects.requireNonNull(in, "in"));
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
        return new VerifyingInputStream(in, expected, null, null, what, null, null);
    }

    /**
     * Checks that {@code in} delivers exactly {@code expected} bytes whose CRC-32C is
     * {@code expectedCrcHex} ({@link Crc32c#hex}); a mismatch names the store, the key and both values.
     */
    public static InputStream crc32c(InputStream in, long expected, String expectedCrcHex, String store, BlobKey key,
            String operation) {
        Objects.requireNonNull(expectedCrcHex, "expectedCrcHex");
        return new VerifyingInputStream(in, expected, store, key, store + ": " + key + ": " + operation, operation,
                expectedCrcHex);
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
            throw Crc32c.mismatch(store, key, operation, actual, expectedCrc);
        }
    }
}
