package io.dr4j.aws;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Reads {@code [start, end)} of an object as one sequential stream while fetching up to
 * {@code window} later ranges of {@code partSize} bytes in parallel: the first range is the
 * already-open response {@code head}, streamed as it arrives; each later range is fetched whole
 * into memory by a worker, so memory is bounded by {@code window × partSize}.
 *
 * <p>Every range is fetched with the ETag of the first response (see {@link RangeFetcher}), so
 * a replaced object fails the read instead of mixing two versions. Not thread-safe, like any
 * stream; {@link #close()} cancels the prefetches.
 */
final class ParallelRangeInputStream extends InputStream {

    /** Fetches exactly {@code length} bytes at {@code offset} of the version being read. */
    @FunctionalInterface
    interface RangeFetcher {
        byte[] fetch(long offset, int length) throws IOException;
    }

    private final RangeFetcher fetcher;
    private final ExecutorService executor;
    private final int partSize;
    private final int window;
    private final long end;
    private final ArrayDeque<Future<byte[]>> pending = new ArrayDeque<>();

    private InputStream current;
    private long nextToSchedule;
    private boolean closed;

    ParallelRangeInputStream(InputStream head, long headEnd, long end, int partSize, int window,
            RangeFetcher fetcher, ExecutorService executor) {
        this.current = Objects.requireNonNull(head, "head");
        this.nextToSchedule = headEnd;
        this.end = end;
        this.partSize = partSize;
        this.window = Math.max(1, window);
        this.fetcher = fetcher;
        this.executor = executor;
        schedule();
    }

    private void schedule() {
        while (pending.size() < window && nextToSchedule < end) {
            long offset = nextToSchedule;
            int length = (int) Math.min(partSize, end - offset);
            pending.add(executor.submit(() -> fetcher.fetch(offset, length)));
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
        schedule();
        try {
            current = new java.io.ByteArrayInputStream(next.get());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for a ranged read");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new IOException("ranged read failed: " + cause, cause);
        } catch (CancellationException e) {
            throw new IOException("ranged read cancelled", e);
        }
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
            throw new IOException("stream closed");
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
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        for (Future<byte[]> f : pending) {
            f.cancel(true);
        }
        pending.clear();
        current.close();
    }
}
