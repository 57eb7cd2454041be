package io.dr4j.storage;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The write half of {@link LocalBlobStore}: every put writes a temporary file under
 * {@code <root>/.dr4j-tmp}, forces it to disk when the store syncs, and publishes it onto the
 * key's path with an atomic rename (replace) or a hard link (if absent), then forces the
 * directory. A reader never sees a partial object and a crash leaves at most a temporary file,
 * which {@link #removeStaleTemporaries} removes once it is a day old.
 *
 * <p>Large puts from memory (packs) bypass the page cache where the file system allows it
 * ({@link DirectIo}).
 *
 * <p>Thread-safe, also across processes sharing the root (temporary names are unique per store
 * instance). Holds no open files between calls; keeps the direct writer's few aligned buffers.
 */
final class AtomicFileWriter {

    private static final int COPY_BUFFER = 1 << 20;
    private static final Duration STALE_TMP_AGE = Duration.ofDays(1);
    private static final int TMP_SPREAD = 16;

    private final LocalPaths paths;
    private final Path tmpDir;
    private final boolean sync;
    private final DirectIo direct;
    private final String tmpPrefix = Long.toHexString(new SecureRandom().nextLong());
    private final AtomicLong tmpCounter = new AtomicLong();

    AtomicFileWriter(LocalPaths paths, boolean sync, DirectIo direct) throws IOException {
        this.paths = paths;
        this.tmpDir = paths.tmpDir();
        this.sync = sync;
        this.direct = direct;
        Files.createDirectories(tmpDir);
    }

    void put(BlobKey key, Path source) throws IOException {
        Path target = paths.pathFor(key);
        Path tmp = newTemporary();
        try {
            try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ);
                 FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                long size = in.size();
                long done = 0;
                while (done < size) {
                    long n = in.transferTo(done, size - done, out);
                    if (n <= 0) {
                        throw new EOFException(source + " shrank while being stored as " + key);
                    }
                    done += n;
                }
                if (sync) {
                    out.force(false);
                }
            }
            publish(key, tmp, target, true);
        } catch (NoSuchFileException e) {
            if (source.toString().equals(e.getFile())) {
                throw new NoSuchFileException(source.toString(), null, "source file for " + key + " does not exist");
            }
            throw paths.failure(key, "put", e);
        } catch (IOException | RuntimeException e) {
            throw paths.failure(key, "put", e);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Writes the range in slices of at most {@value LocalBlobStore#SLICE} bytes (see there why). */
    void put(BlobKey key, byte[] data, int offset, int length) throws IOException {
        java.util.Objects.checkFromIndexSize(offset, length, data.length);
        Path target = paths.pathFor(key);
        Path tmp = newTemporary();
        try {
            if (!direct.write(tmp, data, offset, length, sync)) {
                writeBuffered(tmp, data, offset, length);
            }
            publish(key, tmp, target, true);
        } catch (IOException | RuntimeException e) {
            throw paths.failure(key, "put", e);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private void writeBuffered(Path tmp, byte[] data, int offset, int length) throws IOException {
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            for (int done = 0; done < length; ) {
                ByteBuffer slice = ByteBuffer.wrap(data, offset + done, Math.min(LocalBlobStore.SLICE, length - done));
                while (slice.hasRemaining()) {
                    done += out.write(slice);
                }
            }
            if (sync) {
                out.force(false);
            }
        }
    }

    void put(BlobKey key, InputStream data, long length) throws IOException {
        if (length < 0) {
            throw new IllegalArgumentException("negative length " + length + " for " + key);
        }
        Path target = paths.pathFor(key);
        Path tmp = newTemporary();
        try {
            writeExactly(key, data, length, tmp);
            publish(key, tmp, target, true);
        } catch (EOFException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw paths.failure(key, "put", e);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    void putIfAbsent(BlobKey key, byte[] data) throws IOException {
        Path target = paths.pathFor(key);
        Path tmp = newTemporary();
        try {
            writeExactly(key, new java.io.ByteArrayInputStream(data), data.length, tmp);
            publish(key, tmp, target, false);
        } catch (FileAlreadyExistsException e) {
            throw new FileAlreadyExistsException(key.value(), null, paths.name() + ": object already exists");
        } catch (IOException | RuntimeException e) {
            throw paths.failure(key, "put-if-absent", e);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * A new empty temporary file. Spread over {@value #TMP_SPREAD} subdirectories, because
     * concurrent creates and renames in one directory serialize on its inode lock (measured as
     * the top kernel cost of a parallel backup); named from a per-store random prefix and a
     * counter instead of {@code Files.createTempFile}, whose SecureRandom is a shared lock.
     */
    private Path newTemporary() throws IOException {
        long n = tmpCounter.incrementAndGet();
        Path dir = tmpDir.resolve(Integer.toString((int) (n % TMP_SPREAD)));
        Path tmp = dir.resolve("put-" + tmpPrefix + "-" + n + ".tmp");
        try {
            return Files.createFile(tmp);
        } catch (NoSuchFileException e) {
            Files.createDirectories(dir);
            return Files.createFile(tmp);
        }
    }

    private void writeExactly(BlobKey key, InputStream data, long length, Path tmp) throws IOException {
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            byte[] buf = new byte[(int) Math.min(COPY_BUFFER, Math.max(length, 1))];
            ByteBuffer wrapped = ByteBuffer.wrap(buf);
            long remaining = length;
            while (remaining > 0) {
                int n = data.read(buf, 0, (int) Math.min(buf.length, remaining));
                if (n < 0) {
                    throw new EOFException(paths.name() + ": " + key + ": stream ended after " + (length - remaining)
                            + " of " + length + " bytes; nothing stored");
                }
                wrapped.clear().limit(n);
                while (wrapped.hasRemaining()) {
                    out.write(wrapped);
                }
                remaining -= n;
            }
            if (sync) {
                out.force(false);
            }
        }
    }

    /** Moves (replace) or links (no replace) {@code tmp} onto {@code target}, creating parents. */
    private void publish(BlobKey key, Path tmp, Path target, boolean replace) throws IOException {
        Path parent = target.getParent();
        createParents(key, parent);
        for (int attempt = 0; ; attempt++) {
            try {
                if (replace) {
                    if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                        throw new PermanentBlobStoreException(paths.name(), key,
                                "a directory of other keys exists at this path (a local store cannot hold both 'a' and 'a/b')", null);
                    }
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                } else {
                    Files.createLink(target, tmp);
                }
                break;
            } catch (NoSuchFileException e) {
                // a parent vanished between createParents and the rename (a concurrent cleanup): recreate it
                if (attempt >= 3 || !Files.exists(tmp)) {
                    throw e;
                }
                createParents(key, parent);
            } catch (AtomicMoveNotSupportedException e) {
                throw new PermanentBlobStoreException(paths.name(), key, "the file system cannot rename atomically", e);
            }
        }
        if (sync) {
            forceDirectory(parent);
        }
    }

    private void createParents(BlobKey key, Path dir) throws IOException {
        if (dir.equals(paths.root()) || Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            paths.checkNoLinks(key, dir);
            return;
        }
        createParents(key, dir.getParent());
        try {
            Files.createDirectory(dir);
        } catch (FileAlreadyExistsException e) {
            if (Files.isSymbolicLink(dir)) {
                throw paths.escape(key, dir);
            }
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                throw new PermanentBlobStoreException(paths.name(), key, "an object exists at " + paths.root().relativize(dir)
                        + ", which this key needs as a directory (a local store cannot hold both 'a' and 'a/b')", null);
            }
        }
    }

    private static void forceDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    /** Removes temporary files older than a day, left by a crashed writer (best effort). */
    void removeStaleTemporaries() {
        Instant cutoff = Instant.now().minus(STALE_TMP_AGE);
        try (Stream<Path> stale = Files.walk(tmpDir, 2)) {
            stale.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).forEach(p -> {
                try {
                    if (Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toInstant().isBefore(cutoff)) {
                        Files.deleteIfExists(p);
                    }
                } catch (IOException ignored) {
                    // best effort: another process may be removing it too
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }
}
