package io.dr4j.storage;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes and reads large objects and ranges ({@link #MIN_LENGTH} bytes and more: packs) with
 * {@code O_DIRECT}, past the page cache. A buffered write copies every byte into a newly allocated page-cache page, and a
 * backup writes gigabytes it will not read again: measured on a 2-core VM, writing a 2 GiB
 * backup's packs cost ~7 s of CPU in the kernel's copy into fresh pages (and evicts the pages a
 * model server is using), a direct write of the same bytes ~0.4 s, and {@code fsync} after it
 * has little left to flush.
 *
 * <p>A direct write needs a block-aligned buffer, offset and length: the bytes go through a
 * pooled aligned buffer of {@link #SLICE} bytes (one per concurrent put, kept for the life of the
 * store), and the last partial block is written zero-padded and cut back with a truncate. Where
 * the file system refuses {@code O_DIRECT} (tmpfs, some FUSE and network file systems) the
 * first refusal switches it off and the caller writes through the page cache as before.
 * The file's content, and the caller's fsync and rename, are the same either way.
 *
 * <p>Reads of a large range (a restore's ranged read of a pack) go the same way: the aligned
 * blocks that cover the range are read into the pooled buffer and the range is copied out. A
 * restore reads each pack once, so filling the page cache with it only costs CPU (measured: a
 * cold 2 GiB restore spent more kernel time filling fresh cache pages than reading the disk).
 *
 * <p>Thread-safe.
 */
final class DirectIo {

    /** Objects below this size are written through the page cache: few bytes, and often read back soon (index, manifests). */
    static final int MIN_LENGTH = 1 << 20;
    /** Bytes per direct write: large enough for the device to stream (2 MiB × 2 writers ≈ 1.3 GB/s measured), small enough to pool. */
    static final int SLICE = 2 << 20;

    private static final Logger LOG = LoggerFactory.getLogger(DirectIo.class);

    private final ConcurrentLinkedQueue<ByteBuffer> buffers = new ConcurrentLinkedQueue<>();
    private volatile boolean enabled;
    private volatile int alignment;

    DirectIo(boolean enabled) {
        this.enabled = enabled;
    }

    /**
     * Reads {@code dst.remaining()} bytes of {@code file} from {@code offset} into {@code dst}, with
     * direct I/O, stopping early only at the end of the file.
     *
     * @return the bytes read (fewer than asked: the file ends first), or -1, having read nothing,
     *     if direct I/O is off, the range is small, or the file system refuses it
     * @throws IOException if a read fails once the file is open for direct I/O
     */
    long read(Path file, long offset, ByteBuffer dst) throws IOException {
        int want = dst.remaining();
        if (!enabled || want < MIN_LENGTH) {
            return -1;
        }
        FileChannel in;
        int align;
        try {
            align = alignment(file);
            in = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS, ExtendedOpenOption.DIRECT);
        } catch (IOException | UnsupportedOperationException e) {
            refused(file, e);
            return -1; // the buffered path reads it, or reports the real failure (a missing file, no descriptors)
        }
        ByteBuffer buffer;
        try {
            buffer = take(align);
        } catch (OutOfMemoryError e) { // direct memory exhausted: this read goes the ordinary way
            in.close();
            return -1;
        }
        int start = dst.position();
        try (in) {
            long block = offset - offset % align; // file position of buffer[0]
            long cursor = offset; // next byte dst wants
            while (dst.hasRemaining()) {
                buffer.clear();
                // only the aligned blocks that cover what dst still wants, not a whole slice
                long need = cursor - block + dst.remaining();
                buffer.limit((int) Math.min(buffer.capacity(), (need + align - 1) / align * align));
                boolean eof = false;
                try {
                    while (buffer.hasRemaining()) {
                        int n = in.read(buffer, block + buffer.position());
                        if (n <= 0 || buffer.position() % align != 0) {
                            eof = true; // a short direct read ends at the end of the file
                            break;
                        }
                    }
                    if (eof && block + buffer.position() < in.size()) {
                        // short before the end: a file system that takes O_DIRECT but does not
                        // honour it (some FUSE and network mounts); read this range the ordinary way
                        refusedMidFile(file);
                        dst.position(start);
                        return -1;
                    }
                } catch (IOException e) {
                    if (cursor > offset) {
                        throw e;
                    }
                    refused(file, e); // opens with O_DIRECT but may refuse the read (EINVAL)
                    dst.position(start);
                    return -1;
                }
                int got = buffer.position();
                buffer.flip();
                int skip = (int) (cursor - block);
                if (buffer.limit() > skip) {
                    int n = Math.min(buffer.limit() - skip, dst.remaining());
                    dst.put(buffer.position(skip).limit(skip + n));
                    cursor += n;
                }
                if (eof) {
                    break;
                }
                block += got; // not at the end: every (aligned) block asked for was read
            }
        } finally {
            buffers.add(buffer);
        }
        return dst.position() - start;
    }

    /** Whether direct I/O is (still) in use: false once the file system refused it. */
    boolean enabled() {
        return enabled;
    }

    /**
     * Writes {@code data[offset, offset + length)} to the empty file {@code file} with direct I/O,
     * and forces it to disk if {@code force}.
     *
     * @return false, having written nothing, if direct I/O is off or the file system refuses it
     *     (the caller writes the file the ordinary way)
     * @throws IOException if a write fails once the file is open for direct I/O
     */
    boolean write(Path file, byte[] data, int offset, int length, boolean force) throws IOException {
        if (!enabled || length < MIN_LENGTH) {
            return false;
        }
        FileChannel out;
        int align;
        try {
            align = alignment(file);
            out = FileChannel.open(file, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT);
        } catch (IOException | UnsupportedOperationException e) {
            refused(file, e);
            return false;
        }
        ByteBuffer buffer;
        try {
            buffer = take(align);
        } catch (OutOfMemoryError e) { // direct memory exhausted: this put goes the ordinary way
            out.close();
            return false;
        }
        try (out) {
            long position = 0;
            try {
            while (position < length) {
                int n = (int) Math.min(buffer.capacity(), length - position);
                buffer.clear();
                buffer.put(data, offset + (int) position, n);
                int padded = (n + align - 1) / align * align;
                while (buffer.position() < padded) {
                    buffer.put((byte) 0); // only the last slice: cut off by the truncate below
                }
                buffer.flip();
                while (buffer.hasRemaining()) {
                    out.write(buffer, position + buffer.position());
                }
                position += n;
            }
            } catch (IOException e) {
                if (position > 0) {
                    throw e; // direct writes worked: this is the disk's failure, not the mode's
                }
                // a file system that opens with O_DIRECT but refuses the write (EINVAL): write it the ordinary way
                refused(file, e);
                out.truncate(0);
                return false;
            }
            if (out.size() != length) {
                out.truncate(length);
            }
            if (force) {
                out.force(false); // the data is on the device already; this flushes its cache and the metadata
            }
        } finally {
            buffers.add(buffer);
        }
        return true;
    }

    /**
     * Switches direct I/O off for this store if {@code e} is the file system refusing it ({@code
     * EINVAL}, or a provider without {@code O_DIRECT}); any other failure (no such file, no
     * descriptors left, a full disk, an interrupt) leaves it on: the caller's buffered attempt
     * then reports that failure, and the next large object tries direct I/O again.
     */
    private void refused(Path file, Exception e) {
        boolean refusal = e instanceof UnsupportedOperationException
                || e.getClass() == IOException.class && String.valueOf(e.getMessage()).contains("Invalid argument")
                || e instanceof java.nio.file.FileSystemException fse && String.valueOf(fse.getReason()).contains("Invalid argument");
        if (refusal) {
            enabled = false;
            LOG.debug("direct I/O off for this store ({}): {}", file.getParent(), e.toString());
        } else {
            LOG.debug("direct I/O attempt failed, buffered I/O used for this object ({}): {}", file, e.toString());
        }
    }

    private void refusedMidFile(Path file) {
        enabled = false;
        LOG.debug("direct I/O off for this store ({}): a direct read of {} came back short before its end",
                file.getParent(), file.getFileName());
    }

    private ByteBuffer take(int align) {
        ByteBuffer b = buffers.poll();
        return b != null ? b : ByteBuffer.allocateDirect(SLICE + align).alignedSlice(align).limit(SLICE).slice();
    }

    /** The file system's block size (the alignment direct I/O needs), looked up once. */
    private int alignment(Path file) throws IOException {
        int a = alignment;
        if (a == 0) {
            long size = Files.getFileStore(file).getBlockSize();
            if (size <= 0 || size > SLICE || Long.bitCount(size) != 1) {
                throw new IOException("unusable block size " + size);
            }
            alignment = a = (int) size;
        }
        return a;
    }
}
