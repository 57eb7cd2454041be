package io.dr4j.storage.transfer;

import io.dr4j.storage.BlobKey;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;

/**
 * Reads a range of an object straight into a caller's buffer ({@code BlobStore.read(key, offset,
 * dst)}): the first {@code rangeSize} bytes on the calling thread, which learns the object's
 * version (ETag), then the rest as parallel ranged requests pinned to that version, each writing
 * into its own slice of the buffer. No intermediate copy of the range is made here; whatever the
 * SDK copies out of its network buffers lands in the caller's buffer.
 *
 * <p>Before it returns or throws, every request it started has stopped writing into the buffer,
 * so the caller may reuse the buffer at once. Stateless and thread-safe; each call is independent.
 */
public final class ParallelRangeReads {

    /** Reads exactly {@code slice.remaining()} bytes at {@code offset}; returns the object's version tag, or null. */
    @FunctionalInterface
    public interface FirstRange {
        String read(long offset, ByteBuffer slice) throws IOException;
    }

    /** Reads exactly {@code slice.remaining()} bytes at {@code offset} of version {@code version} (null: any). */
    @FunctionalInterface
    public interface PinnedRange {
        void read(long offset, ByteBuffer slice, String version) throws IOException;
    }

    private ParallelRangeReads() {
    }

    /**
     * Fills {@code dst} from its position to its limit with bytes {@code [offset, ...)}, and moves
     * its position to its limit.
     *
     * @throws IOException the first failure of any range (the backend's, e.g. an EOFException if
     *     the object is shorter); the content of {@code dst} is then unspecified
     */
    public static void read(long offset, ByteBuffer dst, int rangeSize, int window, ExecutorService executor,
            FirstRange first, PinnedRange rest, String store, BlobKey key) throws IOException {
        int start = dst.position();
        int total = dst.remaining();
        int firstLength = Math.min(total, rangeSize);
        String version = first.read(offset, dst.slice(start, firstLength));
        ArrayDeque<TrackedTask<Void>> inFlight = new ArrayDeque<>();
        try {
            for (int done = firstLength; done < total; ) {
                if (inFlight.size() >= Math.max(1, window)) {
                    await(inFlight.removeFirst(), store, key);
                }
                int at = done;
                int n = Math.min(rangeSize, total - done);
                TrackedTask<Void> task = new TrackedTask<>(() -> {
                    rest.read(offset + at, dst.slice(start + at, n), version);
                    return null;
                });
                try {
                    executor.execute(task);
                } catch (RejectedExecutionException e) {
                    throw TransferFailures.closedDuringRead(store, key, e);
                }
                inFlight.addLast(task);
                done += n;
            }
            while (!inFlight.isEmpty()) {
                await(inFlight.removeFirst(), store, key);
            }
        } finally {
            for (TrackedTask<Void> task : inFlight) {
                task.cancelAndAwait();
            }
        }
        dst.position(start + total);
    }

    private static void await(TrackedTask<Void> task, String store, BlobKey key) throws IOException {
        try {
            task.get();
        } catch (InterruptedException e) {
            task.cancelAndAwait();
            throw TransferFailures.interrupted(store, "ranged read", key, e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof Error error) {
                throw error;
            }
            throw new IOException(store + ": " + key + ": ranged read failed: " + cause, cause);
        }
    }
}
