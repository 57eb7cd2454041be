package io.dr4j.storage;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The embedded {@link BlobStore}: objects are files under a root directory, one file per key.
 *
 * <p>A put writes a temporary file in {@code <root>/.dr4j-tmp}, forces it to disk, renames it
 * onto the key's path (an atomic replace on POSIX file systems) and forces the directory, so a
 * reader never sees a partial object and a crash never leaves one under its key; at worst a
 * temporary file remains, which a later {@link #open} removes once it is a day old.
 * {@link #putIfAbsent} publishes with a hard link, which fails atomically if the key exists.
 * The write half lives in the package-private {@code AtomicFileWriter}, the key-to-path guards
 * in {@code LocalPaths}; this class reads, lists and deletes.
 *
 * <p>Keys cannot escape the root: {@link BlobKey} forbids {@code ..} and absolute keys, and
 * symbolic links inside the root are refused rather than followed. The first segment
 * {@value #TMP_DIR} is reserved.
 *
 * <p>A file system cannot hold both {@code a} and {@code a/b} as files; putting the second
 * fails with a {@link PermanentBlobStoreException} (object stores allow it; dr4j's repository
 * layout never needs it).
 *
 * <p>Thread-safe, also across processes sharing the root. Holds no open resources between
 * calls, so {@link #close()} does nothing.
 */
public final class LocalBlobStore implements BlobStore {

    /** Reserved directory under the root that holds in-progress writes. */
    public static final String TMP_DIR = ".dr4j-tmp";

    /**
     * Reads and writes go in slices of at most this many bytes: the JDK copies a heap buffer into
     * a temporary direct buffer of the call's size and caches it per thread, so one 16 MiB write
     * per I/O thread would pin 16 MiB of native memory per thread.
     */
    static final int SLICE = 1 << 20;

    private final LocalPaths paths;
    private final Path root;
    private final Path tmpDir;
    private final String name;
    private final AtomicFileWriter writer;
    private final DirectIo direct;

    private LocalBlobStore(Path root, boolean sync, boolean directIo) throws IOException {
        this.paths = new LocalPaths(root.toRealPath());
        this.root = paths.root();
        this.tmpDir = paths.tmpDir();
        this.name = paths.name();
        this.direct = new DirectIo(directIo);
        this.writer = new AtomicFileWriter(paths, sync, direct);
        writer.removeStaleTemporaries();
    }

    /**
     * Opens a store on {@code root}, creating the directory if missing, with durable (fsync'd)
     * writes.
     *
     * @throws IOException if the directory cannot be created or is not a directory
     */
    public static LocalBlobStore open(Path root) throws IOException {
        return builder(root).build();
    }

    /** Returns a builder for a store on {@code root}. */
    public static Builder builder(Path root) {
        return new Builder(root);
    }

    /** Builds a {@link LocalBlobStore}. Not thread-safe. */
    public static final class Builder {
        private final Path root;
        private boolean sync = true;
        private boolean create = true;
        private boolean directIo = true;

        private Builder(Path root) {
            this.root = Objects.requireNonNull(root, "root");
        }

        /**
         * Whether each put forces data and directory entries to disk before returning (default
         * true). Turning it off trades crash durability for speed: for scratch space and tests.
         */
        public Builder sync(boolean sync) {
            this.sync = sync;
            return this;
        }

        /**
         * Whether puts from memory and ranged reads of a megabyte or more (packs) bypass the page
         * cache with {@code O_DIRECT} where the file system supports it (default true; where it
         * does not, the page cache is used). Packs are written once by a backup and read once by a
         * restore, so caching them only costs CPU and evicts the application's pages; turn it off
         * to keep them cached (a store read back right after it is written, on a fast disk).
         */
        public Builder directIo(boolean directIo) {
            this.directIo = directIo;
            return this;
        }

        /** Whether to create the root directory if it is missing (default true). */
        public Builder createIfMissing(boolean create) {
            this.create = create;
            return this;
        }

        /**
         * Opens the store.
         *
         * @throws NoSuchFileException if the root is missing and {@link #createIfMissing} is off
         * @throws NotDirectoryException if the root is not a directory
         */
        public LocalBlobStore build() throws IOException {
            if (create) {
                Files.createDirectories(root);
            }
            if (!Files.exists(root)) {
                throw new NoSuchFileException(root.toString(), null, "local store root does not exist");
            }
            if (!Files.isDirectory(root)) {
                throw new NotDirectoryException(root.toString());
            }
            return new LocalBlobStore(root, sync, directIo);
        }
    }

    /** The store's root directory (its real path). */
    public Path root() {
        return root;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Set<Capability> capabilities() {
        return EnumSet.of(Capability.CONDITIONAL_PUT);
    }

    @Override
    public void put(BlobKey key, Path source) throws IOException {
        writer.put(key, source);
    }

    @Override
    public void put(BlobKey key, byte[] data) throws IOException {
        put(key, data, 0, data.length);
    }

    /** Writes in slices of at most {@value #SLICE} bytes (see {@link AtomicFileWriter}). */
    @Override
    public void put(BlobKey key, byte[] data, int offset, int length) throws IOException {
        writer.put(key, data, offset, length);
    }

    @Override
    public void put(BlobKey key, InputStream data, long length) throws IOException {
        writer.put(key, data, length);
    }

    @Override
    public void putIfAbsent(BlobKey key, byte[] data) throws IOException {
        writer.putIfAbsent(key, data);
    }

    @Override
    public InputStream get(BlobKey key) throws IOException {
        return Channels.newInputStream(openForRead(key));
    }

    /** A positional read straight into {@code dst}, in slices for the reason given at {@link #put(BlobKey, byte[], int, int)}. */
    @Override
    public void read(BlobKey key, long offset, ByteBuffer dst) throws IOException {
        if (offset < 0) {
            throw new IllegalArgumentException("negative offset " + offset + " for " + key);
        }
        try (SeekableByteChannel channel = openForRead(key)) {
            FileChannel file = (FileChannel) channel;
            long pos = offset;
            int want = dst.remaining();
            long direct = this.direct.read(paths.pathFor(key), offset, dst);
            if (direct >= 0) {
                if (direct < want) {
                    throw new EOFException(name + ": " + key + " ends before byte " + (offset + want) + " (got "
                            + direct + " of the " + want + " bytes asked for at offset " + offset + ")");
                }
                return;
            }
            int limit = dst.limit();
            try {
                // not dst.hasRemaining(): the slice's limit below hides the rest of the range
                while (dst.position() < limit) {
                    dst.limit(Math.min(limit, dst.position() + SLICE));
                    int n = file.read(dst, pos);
                    if (n < 0) {
                        throw new EOFException(name + ": " + key + " ends before byte " + (offset + want) + " (got "
                                + (pos - offset) + " of the " + want + " bytes asked for at offset " + offset + ")");
                    }
                    pos += n;
                }
            } finally {
                dst.limit(limit);
            }
        }
    }

    /** Reads the object with one sized read instead of a growing buffer. */
    @Override
    public byte[] getBytes(BlobKey key) throws IOException {
        try (SeekableByteChannel channel = openForRead(key)) {
            long size = channel.size();
            if (size > Integer.MAX_VALUE - 16) {
                throw new PermanentBlobStoreException(name, key, "object of " + size + " bytes is too large to read into memory", null);
            }
            byte[] bytes = new byte[(int) size];
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                if (channel.read(buffer) < 0) {
                    throw new EOFException(name + ": " + key + " shrank while being read");
                }
            }
            return bytes;
        }
    }

    @Override
    public InputStream get(BlobKey key, long offset, long length) throws IOException {
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("negative range offset=" + offset + " length=" + length + " for " + key);
        }
        SeekableByteChannel channel = openForRead(key);
        try {
            long size = channel.size();
            if (offset > size) {
                throw new EOFException(name + ": " + key + ": offset " + offset + " is beyond the object's size " + size);
            }
            channel.position(offset);
            return new BoundedInputStream(Channels.newInputStream(channel), Math.min(length, size - offset));
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    @Override
    public BlobInfo stat(BlobKey key) throws IOException {
        Path path = paths.pathFor(key);
        try {
            paths.checkNoLinks(key, path.getParent());
            BasicFileAttributes attrs = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!attrs.isRegularFile()) {
                throw paths.notFound(key);
            }
            return new BlobInfo(key, attrs.size(), attrs.lastModifiedTime().toInstant());
        } catch (NoSuchFileException | NotDirectoryException e) {
            throw paths.notFound(key);
        } catch (IOException | RuntimeException e) {
            throw paths.failure(key, "stat", e);
        }
    }

    @Override
    public Stream<BlobInfo> list(String prefix) throws IOException {
        BlobKey.checkPrefix(prefix);
        Path dir = prefix.isEmpty() ? root : paths.pathFor(BlobKey.of(prefix));
        if (!prefix.isEmpty()) {
            paths.checkNoLinks(BlobKey.of(prefix), dir);
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return Stream.empty();
        }
        LazyWalk walk = new LazyWalk(dir, tmpDir);
        return java.util.stream.StreamSupport.stream(
                        java.util.Spliterators.spliteratorUnknownSize(walk, java.util.Spliterator.ORDERED), false)
                .onClose(walk::close)
                .map(this::infoOrNull)
                .filter(Objects::nonNull);
    }

    /**
     * A lazy depth-first walk of regular entries below a directory that skips what is removed
     * while it runs: {@code Files.walk} fails the whole listing with {@code NoSuchFileException}
     * when a file or directory disappears between its directory read and its stat (a lock
     * released, a pack pruned), which a concurrent lister must shrug off. Not thread-safe.
     */
    private static final class LazyWalk implements java.util.Iterator<Path>, AutoCloseable {
        private final java.util.ArrayDeque<java.nio.file.DirectoryStream<Path>> open = new java.util.ArrayDeque<>();
        private final java.util.ArrayDeque<java.util.Iterator<Path>> entries = new java.util.ArrayDeque<>();
        private final Path skip;
        private Path next;

        LazyWalk(Path dir, Path skip) {
            this.skip = skip;
            descend(dir);
        }

        private void descend(Path dir) {
            try {
                java.nio.file.DirectoryStream<Path> ds = Files.newDirectoryStream(dir);
                open.push(ds);
                entries.push(ds.iterator());
            } catch (NoSuchFileException | NotDirectoryException e) {
                // removed since we saw it
            } catch (IOException e) {
                close();
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public boolean hasNext() {
            while (next == null && !entries.isEmpty()) {
                java.util.Iterator<Path> it = entries.peek();
                boolean more;
                try {
                    more = it.hasNext();
                } catch (java.nio.file.DirectoryIteratorException e) {
                    close();
                    throw new UncheckedIOException(e.getCause());
                }
                if (!more) {
                    entries.pop();
                    closeQuietly(open.pop());
                    continue;
                }
                Path p = it.next();
                if (p.startsWith(skip)) {
                    continue;
                }
                if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    descend(p);
                } else {
                    next = p;
                }
            }
            return next != null;
        }

        @Override
        public Path next() {
            if (!hasNext()) {
                throw new java.util.NoSuchElementException();
            }
            Path p = next;
            next = null;
            return p;
        }

        @Override
        public void close() {
            entries.clear();
            while (!open.isEmpty()) {
                closeQuietly(open.pop());
            }
        }

        private static void closeQuietly(java.nio.file.DirectoryStream<Path> ds) {
            try {
                ds.close();
            } catch (IOException e) {
                // a directory handle that fails to close leaks nothing we can recover
            }
        }
    }

    @Override
    public void delete(BlobKey key) throws IOException {
        Path path = paths.pathFor(key);
        try {
            paths.checkNoLinks(key, path.getParent());
            if (Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
                Files.deleteIfExists(path);
            }
        } catch (NoSuchFileException | NotDirectoryException e) {
            // already gone
        } catch (IOException | RuntimeException e) {
            throw paths.failure(key, "delete", e);
        }
    }

    /** Does nothing: the store holds no resources between calls. */
    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return name;
    }

    private BlobInfo infoOrNull(Path p) {
        try {
            BasicFileAttributes attrs = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!attrs.isRegularFile()) {
                return null;
            }
            String rel = root.relativize(p).toString().replace(p.getFileSystem().getSeparator(), "/");
            if (!BlobKey.isValid(rel)) {
                return null; // a file the store did not write, e.g. with a control character in its name
            }
            return new BlobInfo(BlobKey.of(rel), attrs.size(), attrs.lastModifiedTime().toInstant());
        } catch (NoSuchFileException e) {
            return null; // deleted while listing
        } catch (IOException e) {
            throw new UncheckedIOException(paths.failure(null, "list", e));
        }
    }

    private SeekableByteChannel openForRead(BlobKey key) throws IOException {
        Path path = paths.pathFor(key);
        try {
            paths.checkNoLinks(key, path.getParent());
            FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
            if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
                channel.close();
                throw paths.notFound(key);
            }
            return channel;
        } catch (NoSuchFileException | NotDirectoryException e) {
            throw paths.notFound(key);
        } catch (FileSystemException e) {
            if (Files.isSymbolicLink(path)) {
                throw paths.escape(key, path);
            }
            throw paths.failure(key, "get", e);
        } catch (IOException | RuntimeException e) {
            throw paths.failure(key, "get", e);
        }
    }


}
