package io.dr4j.backup.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.function.BooleanSupplier;

/**
 * Streams a channel through {@link FastCdc}: reads into a buffer of twice the maximum chunk size
 * and hands each chunk to a sink as a slice of that buffer, valid only during the call. The one
 * place that turns a file into chunks, for backup, delta-restore indexing and benchmarks. Not
 * thread-safe (one buffer); one instance per reading thread.
 */
public final class FileChunker {

    /** Receives chunks in order. */
    @FunctionalInterface
    public interface Sink {
        /**
         * @param buffer holds the chunk at {@code [offset, offset + length)}; reused after the call returns
         * @param position the chunk's offset in the stream
         */
        void chunk(byte[] buffer, int offset, int length, long position) throws IOException;
    }

    private static final int READ_SIZE = 1 << 20;

    private final FastCdc cdc;
    private final byte[] buffer;
    /**
     * Reads go through this fixed direct buffer: a read into a heap buffer makes the JDK take a
     * temporary direct buffer of the requested size, and sizes that vary from read to read made
     * it allocate and free megabytes per read (measured: a third of a backup's CPU in the kernel).
     */
    private final ByteBuffer direct = ByteBuffer.allocateDirect(READ_SIZE);

    public FileChunker(FastCdc cdc) {
        this.cdc = cdc;
        this.buffer = new byte[2 * cdc.maxSize()];
    }

    /**
     * Chunks the whole channel, or until {@code stop} says so (checked before each chunk).
     *
     * @return the number of bytes chunked
     */
    public long chunk(ReadableByteChannel channel, Sink sink, BooleanSupplier stop) throws IOException {
        int max = cdc.maxSize();
        int start = 0;
        int end = 0;
        long position = 0;
        boolean eof = false;
        while (!stop.getAsBoolean()) {
            if (!eof && end - start < max) {
                System.arraycopy(buffer, start, buffer, 0, end - start);
                end -= start;
                start = 0;
                while (end < buffer.length) {
                    direct.clear().limit(Math.min(READ_SIZE, buffer.length - end));
                    int n = channel.read(direct);
                    if (n < 0) {
                        eof = true;
                        break;
                    }
                    direct.flip().get(buffer, end, n);
                    end += n;
                }
            }
            if (start == end) {
                break;
            }
            int length = cdc.cut(buffer, start, end - start);
            sink.chunk(buffer, start, length, position);
            start += length;
            position += length;
        }
        return position;
    }
}
