package io.dr4j.storage.transfer;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import java.util.zip.CRC32C;

/**
 * A bounded parallel upload of an object in parts: S3's multipart upload and Azure's staged
 * blocks are the same pipeline. The calling thread prepares part {@code i + 1} ({@link Parts}:
 * reads the source into a pooled buffer, or hashes a file region) while workers send earlier
 * parts ({@link Sender}); at most {@code concurrency} parts are in flight, so a put from a stream
 * holds at most {@code concurrency + 1} part buffers. A failed part stops the upload before more
 * of the source is read.
 *
 * <p>When anything fails, or the caller is interrupted, every part in flight is cancelled and
 * <em>waited for</em> before {@link #run} throws, so that the backend can abort (S3) or forget
 * (Azure) the upload knowing that no part lands afterwards.
 *
 * <p>Stateless; each call is independent and confined to its calling thread, apart from the
 * workers it starts.
 */
public final class PartUpload {

    /** Produces the parts of one upload on the calling thread, in order. */
    public interface Parts<P> {
        /** Prepares part {@code index}: {@code length} bytes at {@code offset} of the object. */
        P next(int index, long offset, int length) throws IOException;

        /** Called (on a worker thread) once part {@code part} was sent or abandoned; buffers go back to the pool. */
        default void release(P part) {
        }
    }

    /** Sends one part (on a worker thread) and returns what the commit needs (an ETag, a block id). */
    @FunctionalInterface
    public interface Sender<P, R> {
        R send(int index, P part) throws Exception;
    }

    /** Bytes {@code [offset, offset + length)} of {@code array}: one part held in memory. */
    public record Part(byte[] array, int offset, int length) {
        public Part {
            Objects.checkFromIndexSize(offset, length, array.length);
        }
    }

    private PartUpload() {
    }

    /**
     * Uploads {@code length} bytes in parts of {@code partSize} (the last may be shorter) and
     * returns the senders' results in part order.
     *
     * @param mapFailure turns a part's failure (the sender's exception, or an
     *     {@link InterruptedException} of the caller) into the store's {@link IOException}
     * @throws IOException the first failure, mapped; no part is in flight any more
     */
    public static <P, R> List<R> run(long length, long partSize, int concurrency, ExecutorService executor, Parts<P> parts,
            Sender<P, R> sender, Function<Throwable, IOException> mapFailure) throws IOException {
        int count = (int) ((length + partSize - 1) / partSize);
        Object[] results = new Object[count];
        // parts report here as they finish, in any order: a failed part is seen at once, not after
        // the slower parts sent before it
        BlockingQueue<TrackedTask<R>> finished = new LinkedBlockingQueue<>();
        Map<TrackedTask<R>, Integer> indexOf = new IdentityHashMap<>();
        int inFlight = 0;
        try {
            for (int i = 0; i < count; i++) {
                for (; inFlight >= concurrency; inFlight--) {
                    collect(finished.take(), indexOf, results);
                }
                for (TrackedTask<R> done; (done = finished.poll()) != null; inFlight--) {
                    collect(done, indexOf, results); // throws the failure of a part that already finished
                }
                long offset = i * partSize;
                int n = (int) Math.min(partSize, length - offset);
                P part = parts.next(i, offset, n);
                int index = i;
                TrackedTask<R> task = new TrackedTask<>(() -> {
                    try {
                        return sender.send(index, part);
                    } finally {
                        parts.release(part);
                    }
                }, finished::offer);
                indexOf.put(task, i);
                executor.execute(task);
                inFlight++;
            }
            for (; inFlight > 0; inFlight--) {
                collect(finished.take(), indexOf, results);
            }
            @SuppressWarnings("unchecked")
            List<R> ordered = (List<R>) Arrays.asList(results);
            return ordered;
        } catch (ExecutionException e) {
            throw mapFailure.apply(e.getCause() == null ? e : e.getCause());
        } catch (InterruptedException | RejectedExecutionException e) {
            throw mapFailure.apply(e);
        } finally {
            for (TrackedTask<R> task : indexOf.keySet()) {
                task.cancelAndAwait(); // returns at once for a part that finished
            }
        }
    }

    private static <R> void collect(TrackedTask<R> task, Map<TrackedTask<R>, Integer> indexOf, Object[] results)
            throws ExecutionException, InterruptedException {
        results[indexOf.get(task)] = task.get();
    }

    /**
     * Parts read from {@code in} into pooled buffers (at most {@code concurrency + 1} of them),
     * each also fed to {@code crc} if it is not null. {@code what} names the upload in the
     * failure of a source that ends early.
     */
    public static Parts<Part> fromStream(InputStream in, CRC32C crc, String what) {
        ConcurrentLinkedQueue<byte[]> pool = new ConcurrentLinkedQueue<>();
        return new Parts<>() {
            @Override
            public Part next(int index, long offset, int length) throws IOException {
                byte[] buffer = pool.poll();
                if (buffer == null || buffer.length < length) {
                    buffer = new byte[length]; // the first part is the largest
                }
                SourceFiles.readFully(in, buffer, 0, length, what);
                if (crc != null) {
                    crc.update(buffer, 0, length);
                }
                return new Part(buffer, 0, length);
            }

            @Override
            public void release(Part part) {
                pool.offer(part.array());
            }
        };
    }

    /** Parts that are slices of {@code data} starting at {@code start}: no copy; each fed to {@code crc} if not null. */
    public static Parts<Part> fromArray(byte[] data, int start, CRC32C crc) {
        return (index, offset, length) -> {
            int at = Math.addExact(start, (int) offset);
            if (crc != null) {
                crc.update(data, at, length);
            }
            return new Part(data, at, length);
        };
    }
}
