package io.dr4j.backup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.function.BooleanSupplier;

/**
 * Streams a channel through {@link FastCdc} (a safetensors file through its header's tensor
 * grid): reads into a buffer of twice the maximum chunk size and hands each chunk to a sink as a
 * slice of that buffer, valid only during the call. The one
 * place that turns a file into chunks, for backup, delta-restore indexing and benchmarks. Not
 * thread-safe (one buffer); one instance per reading thread.
 *
 * <p><b>Tensor-aligned cuts.</b> Given a file's {@link SafetensorsHeader}, cuts snap to tensor
 * boundaries (the data section's start, each tensor's start and end), so that a fine-tune that
 * rewrites whole tensors changes only the chunks of those tensors. For a chunk starting at
 * {@code s}, let {@code b} be the first boundary at or after {@code s + minSize}:
 * <ul>
 * <li>if {@code b < s + maxSize} the chunk ends at {@code b}, whatever FastCDC would have chosen;
 * <li>otherwise (a stretch of at least {@code maxSize} without a boundary: the inside of a large
 * tensor) the chunk ends at the first point at or after {@code s + minSize} of a fixed grid: the
 * last boundary {@code a} at or before {@code s} (0 if none) plus multiples of the stride
 * {@code maxSize - 2 × minSize} (896 KiB by default). Interior chunks are one stride long, the
 * first one of a stretch at least {@code minSize} and under {@code maxSize - minSize}, and the
 * last grid point lies more than {@code minSize} before {@code b}, so the chunk after it ends at
 * {@code b} by the first rule.
 * </ul>
 * No content-defined cut is needed inside a tensor: its bytes never move within it (a fine-tune
 * rewrites values in place; a tensor that grows keeps its prefix on the same grid), and where
 * tensors move, the grid moves with their boundaries. So a safetensors file's data is cut by its
 * header alone, without FastCDC's gear hash over it (~0.75 ns per byte on one core, about what
 * the tensor codec's encoding costs), into chunks of ~896 KiB instead of ~256 KiB (about 3.5x
 * fewer index entries and per-chunk steps). FastCDC still cuts, within the first
 * {@code b - s - minSize} bytes so that {@code b} falls into the next chunk's window, a stretch
 * whose bytes are shorter than the header says (a file changed while read), and every stretch
 * when {@code maxSize < 3 × minSize} (no room for a grid).
 *
 * <p>Every rule depends only on the file's bytes and header, so the same file is always cut the
 * same way (deduplication across backups and delta restore rely on it); with a grid, only on the
 * header. By induction every boundary at least {@code minSize} after the previous cut is itself a
 * cut: a tensor of at least {@code minSize} bytes ends on a cut, and starts on one unless a cut
 * lies less than {@code minSize} before its start. A tensor smaller than {@code minSize}
 * (norms, biases) cannot have chunks of its own: it shares the chunk that runs from the previous
 * cut to the first boundary at least {@code minSize} later (at most {@code maxSize}), with its
 * small neighbours, so rewriting it rewrites that one shared chunk. Without a header (other
 * files, or a header that does not parse) cuts are FastCDC's alone.
 */
final class FileChunker {

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
        return chunk(channel, null, sink, stop);
    }

    /**
     * Chunks the whole channel as {@link #chunk(ReadableByteChannel, Sink, BooleanSupplier)}, with
     * cuts snapped to the tensor boundaries of {@code header} (see the class comment).
     *
     * @param header the channel's safetensors header, or null to cut by content alone
     * @return the number of bytes chunked
     */
    public long chunk(ReadableByteChannel channel, SafetensorsHeader header, Sink sink, BooleanSupplier stop)
            throws IOException {
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
            int length = header == null ? cdc.cut(buffer, start, end - start) : alignedCut(header, start, end - start, position);
            sink.chunk(buffer, start, length, position);
            start += length;
            position += length;
        }
        return position;
    }

    /** The length of the chunk at {@code buffer[start]} (file offset {@code position}) under the rules of the class comment. */
    private int alignedCut(SafetensorsHeader header, int start, int available, long position) {
        int min = cdc.minSize();
        long b = header.nextBoundary(position + min);
        if (b < 0) {
            return cdc.cut(buffer, start, available);
        }
        long distance = b - position;
        if (distance < cdc.maxSize() && distance <= available) {
            return (int) distance;
        }
        long stride = (long) cdc.maxSize() - 2L * min;
        if (stride >= min) {
            long anchor = Math.max(0, header.previousBoundary(position));
            long grid = anchor + Math.floorDiv(position + min - anchor + stride - 1, stride) * stride;
            // The buffer holds at least maxSize bytes unless the file ends first: shorter than its header says (changed while read).
            if (grid - position <= available) {
                return (int) (grid - position);
            }
        }
        long room = distance - min;
        return cdc.cut(buffer, start, (int) Math.min(available, room));
    }
}
