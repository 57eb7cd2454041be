package io.dr4j.storage.transfer;

import io.dr4j.storage.BlobKey;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;

/**
 * Reads bytes {@code [start, end)} of one object as one sequential stream while up to
 * {@code window} later ranges of {@code rangeSize} bytes are fetched in parallel on the store's
 * transfer executor. The first range is the already-open response {@code head}, streamed as it
 * arrives; each later range is fetched whole by the backend's {@link RangeFetcher}, so memory is
 * bounded by {@code window × rangeSize}.
 *
 * <p>The fetcher pins every range to the version of the first response (S3 and Azure send the
 * ETag in {@code If-Match}), so an object replaced during the read fails the read instead of
 * mixing two versions. Failures come out as the fetcher's {@link IOException}s; a read after the
 * store closed its executor fails with a {@link io.dr4j.storage.PermanentBlobStoreException}.
 * Not thread-safe, like any stream; {@link #close()} cancels the prefetches.
 */
public final class ReadAheadInputStream extends InputStream {

    /** Fetches exactly {@code length} bytes at {@code offset} of the version being read, mapping its SDK's failures. */
    @FunctionalInterface
    public interface RangeFetcher {
        byte[] fetch(long offset, int length) throws IOException;
    }

    private final RangeFetcher fetcher;
    private final ExecutorService executor;
    private final int rangeSize;
    private final int window;
    private final long end;
    private final String store;
    private final BlobKey key;
    private final ArrayDeque<Future<byte[]>> pending = new ArrayDeque<>();

    private InputStream current;
    private long nextToSchedule;
    private boolean closed;

    /**
     * @param head the open body of the first range, which ends at {@code headEnd}
     * @param end the end (exclusive) of the bytes to read
     */
    public ReadAheadInputStream(InputStream head, long headEnd, long end, int rangeSize, int window, RangeFetcher fetcher,
            ExecutorService executor, String store, BlobKey key) throws IOException {
        this.current = Objects.requireNonNull(head, "head");
        this.nextToSchedule = headEnd;
        this.end = end;
        this.rangeSize = rangeSize;
        this.window = Math.max(1, window);
        this.fetcher = Objects.requireNonNull(fetcher, "fetcher");
        this.executor = Objects.requireNonNull(executor, "executor");
        this.store = store;
        this.key = key;
        schedule();
    }

    private void schedule() throws IOException {
        while (pending.size() < window && nextToSchedule < end) {
            long offset = nextToSchedule;
            int length = (int) Math.min(rangeSize, end - offset);
            try {
                pending.add(executor.submit(() -> fetcher.fetch(offset, length)));
            } catch (RejectedExecutionException e) {
                cancelPending();
                throw TransferFailures.closedDuringRead(store, key, e);
            }
            nextToSchedule += length;
        }
    }

    /** Moves to the next range; returns false at the end of the requested bytes. */
    private boolean advance() throws IOException {
        current.close();
        Future<byte[]> next = pending.poll();
        if (next == null) {
            current = InputStream.nullInputStream();
            return false;
        }
        try {
            current = new ByteArrayInputStream(next.get());
        } catch (InterruptedException e) {
            cancelPending();
            throw TransferFailures.interrupted(store, "ranged read", key, e);
        } catch (ExecutionException e) {
            cancelPending();
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new IOException(store + ": " + key + ": ranged read failed: " + cause, cause);
        } catch (CancellationException e) {
            throw new IOException(store + ": " + key + ": ranged read cancelled", e);
        }
        schedule();
        return true;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (closed) {
            throw new IOException(store + ": " + key + ": stream closed");
        }
        if (len == 0) {
            return 0;
        }
        while (true) {
            int n = current.read(b, off, len);
            if (n >= 0) {
                return n;
            }
            if (!advance()) {
                return -1;
            }
        }
    }

    @Override
    public int available() throws IOException {
        return closed ? 0 : current.available();
    }

    private void cancelPending() {
        for (Future<byte[]> f : pending) {
            f.cancel(true);
        }
        pending.clear();
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        cancelPending();
        current.close();
    }
}
