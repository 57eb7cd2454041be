package io.dr4j.azure;

import com.azure.storage.blob.BlobClient;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.PermanentBlobStoreException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.zip.CRC32C;

/**
 * Reads {@code [start, end)} of one blob as consecutive ranges fetched up to {@code concurrency}
 * ahead of the reader on the store's transfer pool, each pinned to the ETag of the first range so
 * that a replaced object fails the read rather than mixing versions. When the whole object is read
 * and the blob carries dr4j's CRC-32C, the CRC is checked before end-of-stream is reported.
 * Not thread-safe, like any InputStream.
 */
final class RangeReadStream extends InputStream {

    private final AzureBlobStore store;
    private final BlobClient blob;
    private final BlobKey key;
    private final long end;
    private final long partSize;
    private final boolean checkMd5;
    private final String etag;
    private final String expectedCrc;
    private final CRC32C crc;
    private final ArrayDeque<Future<AzureBlobStore.Range>> ahead = new ArrayDeque<>();
    private final int concurrency;

    private byte[] current;
    private int position;
    private int limit;
    private long nextToSchedule;
    private boolean verified;
    private boolean closed;

    RangeReadStream(AzureBlobStore store, BlobClient blob, BlobKey key, AzureBlobStore.Range first, long next,
            long end, long partSize, boolean checkMd5, String etag, String expectedCrc) throws IOException {
        this.store = store;
        this.blob = blob;
        this.key = key;
        this.end = end;
        this.partSize = partSize;
        this.checkMd5 = checkMd5;
        this.etag = etag;
        this.expectedCrc = expectedCrc;
        this.crc = expectedCrc == null ? null : new CRC32C();
        this.concurrency = Math.max(1, store.concurrencyForReads());
        this.current = first.bytes;
        this.position = 0;
        this.limit = first.bytes.length;
        this.nextToSchedule = next;
        if (crc != null) {
            crc.update(current, 0, limit);
        }
        if (nextToSchedule >= end) {
            verify();
        } else {
            scheduleAhead();
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        if (closed) {
            throw new IOException(store.name() + ": " + key + ": stream closed");
        }
        if (len == 0) {
            return 0;
        }
        while (position >= limit) {
            if (!advance()) {
                return -1;
            }
        }
        int n = Math.min(len, limit - position);
        System.arraycopy(current, position, b, off, n);
        position += n;
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        // Skipping must still feed the CRC, so it reads.
        return super.skip(n);
    }

    @Override
    public int available() {
        return closed ? 0 : limit - position;
    }

    /** Moves to the next range; false at the end of the requested bytes. */
    private boolean advance() throws IOException {
        if (ahead.isEmpty()) {
            verify();
            return false;
        }
        Future<AzureBlobStore.Range> next = ahead.removeFirst();
        AzureBlobStore.Range range;
        try {
            range = next.get();
        } catch (ExecutionException e) {
            cancelAhead();
            throw store.mapReadFailure(key, e.getCause());
        } catch (InterruptedException e) {
            cancelAhead();
            Thread.currentThread().interrupt();
            InterruptedIOException io = new InterruptedIOException(store.name() + ": read of " + key + " interrupted");
            io.initCause(e);
            throw io;
        }
        current = range.bytes;
        position = 0;
        limit = current.length;
        if (crc != null) {
            crc.update(current, 0, limit);
        }
        scheduleAhead();
        return true;
    }

    private void scheduleAhead() throws IOException {
        while (ahead.size() < concurrency && nextToSchedule < end) {
            long count = Math.min(partSize, end - nextToSchedule);
            try {
                ahead.addLast(store.fetchAsync(blob, key, nextToSchedule, count, etag, checkMd5));
            } catch (RejectedExecutionException e) {
                cancelAhead();
                throw new PermanentBlobStoreException(store.name(), key, "get: the store was closed during the read", e);
            }
            nextToSchedule += count;
        }
    }

    private void verify() throws IOException {
        if (verified || crc == null) {
            return;
        }
        verified = true;
        String actual = AzureBlobStore.crcHex(crc);
        if (!actual.equalsIgnoreCase(expectedCrc)) {
            throw new PermanentBlobStoreException(store.name(), key, "get: CRC-32C mismatch: the object read back ("
                    + actual + ") differs from what was written (" + expectedCrc + "); the stored object is corrupt", null);
        }
    }

    private void cancelAhead() {
        for (Future<AzureBlobStore.Range> f : ahead) {
            f.cancel(true);
        }
        ahead.clear();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            cancelAhead();
            current = null;
        }
    }
}
