package io.dr4j.replication;

import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStore;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bytes of one replicated put, readable by several member writes at once and after the put
 * has returned (for members that finish in the background). Reference-counted: the last
 * {@link #release()} deletes a temporary file the source owns.
 *
 * <p>Three shapes: bytes the replicated store copied (so the caller may reuse its array), a
 * temporary file the store filled from the caller's stream, and the caller's own file, whose
 * attributes are recorded so that a member write finishing after the put returned can tell
 * whether the file changed meanwhile.
 *
 * <p>Thread-safe.
 */
abstract class PutSource {

    private final AtomicInteger references = new AtomicInteger(1);

    /** The object's size in bytes. */
    public abstract long size();

    /** Writes the source under {@code key} in {@code store}. */
    public abstract void putTo(BlobStore store, BlobKey key) throws IOException;

    /** Whether the bytes are still those the put started with (always, except for a caller's file that changed). */
    public boolean unchanged() {
        return true;
    }

    /** Adds a reference. */
    public final void retain() {
        references.incrementAndGet();
    }

    /** Drops a reference; the last one frees what the source owns. */
    public final void release() {
        if (references.decrementAndGet() == 0) {
            free();
        }
    }

    protected void free() {
    }

    /** A copy of the caller's bytes. */
    public static PutSource copyOf(byte[] data) {
        return new Bytes(data.clone());
    }

    /**
     * Reads exactly {@code length} bytes from {@code in}: into memory up to {@code memoryLimit},
     * otherwise into a temporary file in {@code tempDir}.
     *
     * @throws EOFException if the stream ends early; nothing is kept
     */
    public static PutSource buffer(String storeName, BlobKey key, InputStream in, long length, long memoryLimit, Path tempDir)
            throws IOException {
        if (length < 0) {
            throw new IllegalArgumentException("negative length " + length + " for " + key);
        }
        if (length <= memoryLimit) {
            byte[] bytes = in.readNBytes((int) length);
            if (bytes.length < length) {
                throw shortStream(storeName, key, bytes.length, length);
            }
            return new Bytes(bytes);
        }
        Path tmp = Files.createTempFile(tempDir, "dr4j-replicated-put-", ".tmp");
        boolean ok = false;
        try (OutputStream out = Files.newOutputStream(tmp)) {
            byte[] buf = new byte[1 << 20];
            long remaining = length;
            while (remaining > 0) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, remaining));
                if (n < 0) {
                    throw shortStream(storeName, key, length - remaining, length);
                }
                out.write(buf, 0, n);
                remaining -= n;
            }
            ok = true;
        } finally {
            if (!ok) {
                Files.deleteIfExists(tmp);
            }
        }
        return new FileSource(tmp, true, Files.readAttributes(tmp, BasicFileAttributes.class));
    }

    /**
     * The caller's file. Its attributes are read now.
     *
     * @throws java.nio.file.NoSuchFileException if it does not exist
     */
    public static PutSource ofFile(Path file) throws IOException {
        BasicFileAttributes attrs = Files.readAttributes(file, BasicFileAttributes.class);
        if (!attrs.isRegularFile()) {
            throw new IOException(file + " is not a regular file");
        }
        return new FileSource(file, false, attrs);
    }

    private static EOFException shortStream(String storeName, BlobKey key, long got, long length) {
        return new EOFException(storeName + ": " + key + ": stream ended after " + got + " of " + length
                + " bytes; nothing stored");
    }

    private static final class Bytes extends PutSource {
        private final byte[] data;

        Bytes(byte[] data) {
            this.data = data;
        }

        @Override
        public long size() {
            return data.length;
        }

        @Override
        public void putTo(BlobStore store, BlobKey key) throws IOException {
            store.put(key, data);
        }
    }

    private static final class FileSource extends PutSource {
        private final Path file;
        private final boolean owned;
        private final BasicFileAttributes start;

        FileSource(Path file, boolean owned, BasicFileAttributes start) {
            this.file = file;
            this.owned = owned;
            this.start = start;
        }

        @Override
        public long size() {
            return start.size();
        }

        @Override
        public void putTo(BlobStore store, BlobKey key) throws IOException {
            store.put(key, file);
        }

        @Override
        public boolean unchanged() {
            if (owned) {
                return true;
            }
            try {
                BasicFileAttributes now = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                return now.size() == start.size()
                        && now.lastModifiedTime().equals(start.lastModifiedTime())
                        && Objects.equals(now.fileKey(), start.fileKey());
            } catch (IOException e) {
                return false; // deleted or unreadable: cannot vouch for what the member read
            }
        }

        @Override
        protected void free() {
            if (owned) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // a temporary file in the temp directory; nothing else to do
                }
            }
        }
    }
}
