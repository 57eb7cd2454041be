package io.dr4j.backup;

import java.util.ArrayDeque;
import java.util.function.BooleanSupplier;

/**
 * A fixed number of reusable byte arrays of one size: the engine's memory budget made concrete.
 * Buffers are allocated lazily, up to {@code count}, and then only reused, so a backup or restore
 * allocates its chunk- and pack-sized arrays once, whatever the checkpoint's size, and the JVM's
 * heap does not grow with the data's throughput. {@link #take} blocks while all are in use, which
 * is the back-pressure of the pipeline. Thread-safe.
 */
final class BufferPool {

    private final int size;
    private final int count;
    private final ArrayDeque<byte[]> free = new ArrayDeque<>();
    private int allocated;

    BufferPool(int size, int count) {
        if (size < 1 || count < 1) {
            throw new IllegalArgumentException("buffer pool needs a positive size and count, got " + size + " x " + count);
        }
        this.size = size;
        this.count = count;
    }

    int bufferSize() {
        return size;
    }

    int capacity() {
        return count;
    }

    /**
     * Takes a buffer, waiting while all are in use; checks {@code stop} every 100 ms.
     *
     * @throws OperationCancelledException if interrupted or {@code stop} becomes true
     */
    byte[] take(BooleanSupplier stop) {
        synchronized (this) {
            while (true) {
                byte[] b = free.pollFirst();
                if (b != null) {
                    return b;
                }
                if (allocated < count) {
                    allocated++;
                    break;
                }
                if (stop.getAsBoolean()) {
                    throw new OperationCancelledException("stopped while waiting for a buffer");
                }
                try {
                    wait(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new OperationCancelledException("interrupted while waiting for a buffer");
                }
            }
        }
        try {
            return new byte[size];
        } catch (OutOfMemoryError e) {
            synchronized (this) {
                allocated--;
            }
            throw e;
        }
    }

    /** Returns a buffer taken from this pool. */
    synchronized void give(byte[] buffer) {
        if (buffer.length != size) {
            throw new IllegalArgumentException("buffer of " + buffer.length + " bytes does not belong to this pool of " + size);
        }
        free.addFirst(buffer);
        notify();
    }
}
