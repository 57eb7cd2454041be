package io.dr4j.aws;

import io.dr4j.storage.BlobKey;
import io.dr4j.storage.PermanentBlobStoreException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.CRC32C;

/**
 * Passes a whole object's bytes through and, at their end, compares their CRC-32C with the one
 * dr4j stored in the object's metadata when it wrote it: a mismatch fails the read at the end of
 * the stream (before the caller sees end-of-stream) instead of returning wrong bytes as complete.
 * A stream closed before its end is not checked. Not thread-safe.
 */
final class CrcCheckingInputStream extends FilterInputStream {

    private final String store;
    private final BlobKey key;
    private final String expected;
    private final long length;
    private final CRC32C crc = new CRC32C();
    private long seen;
    private boolean checked;

    CrcCheckingInputStream(InputStream in, String store, BlobKey key, String expected, long length) {
        super(in);
        this.store = store;
        this.key = key;
        this.expected = expected;
        this.length = length;
    }

    @Override
    public int read() throws IOException {
        int b = in.read();
        if (b < 0) {
            check();
        } else {
            crc.update(b);
            seen++;
            if (seen == length) {
                check();
            }
        }
        return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int count) throws IOException {
        int n = in.read(buffer, offset, count);
        if (n < 0) {
            check();
        } else if (n > 0) {
            crc.update(buffer, offset, n);
            seen += n;
            if (seen == length) {
                check();
            }
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        // skipped bytes must still be hashed
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

    private void check() throws IOException {
        if (checked) {
            return;
        }
        checked = true;
        String actual = S3BlobStore.crcHex(crc);
        if (!actual.equalsIgnoreCase(expected)) {
            throw new PermanentBlobStoreException(store, key, "GetObject: CRC-32C mismatch: the object read back ("
                    + actual + ") differs from what was written (" + expected + "); the stored object is corrupt", null);
        }
    }
}
