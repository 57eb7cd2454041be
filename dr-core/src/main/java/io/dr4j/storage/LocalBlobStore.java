package io.dr4j.storage;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
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

    private static final int COPY_BUFFER = 1 << 20;
    private static final int WRITE_SLICE = 1 << 20;
    private static final Duration STALE_TMP_AGE = Duration.ofDays(1);
    private static final int TMP_SPREAD = 16;

    private final Path root;
    private final Path tmpDir;
    private final String tmpPrefix = Long.toHexString(new java.security.SecureRandom().nextLong());
    private final java.util.concurrent.atomic.AtomicLong tmpCounter = new java.util.concurrent.atomic.AtomicLong();
    private final boolean sync;
    private final String name;

    private LocalBlobStore(Path root, boolean sync) throws IOException {
        this.root = root.toRealPath();
        this.tmpDir = this.root.resolve(TMP_DIR);
        this.sync = sync;
        this.name = "local:" + this.root;
        Files.createDirectories(tmpDir);
        removeStaleTemporaries();
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
            return new LocalBlobStore(root, sync);
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
        Path target = pathFor(key);
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
            throw failure(key, "put", e);
        } catch (IOException | RuntimeException e) {
            throw failure(key, "put", e);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    @Override
    public void put(BlobKey key, byte[] data) throws IOException {
        put(key, data, 0, data.length);
    }

    /**
     * Writes the range in slices of at most {@value #WRITE_SLICE} bytes: the JDK copies a heap
     * buffer into a temporary direct buffer of the write's size and caches it per thread, so one
     * 16 MiB write per I/O thread would pin 16 MiB of native memory per thread.
     */
    @Override
    public void put(BlobKey key, byte[] data, int offset, int length) throws IOException {
        java.util.Objects.checkFromIndexSize(offset, length, data.length);
        Path target = pathFor(key);
        Path tmp = newTemporary();
        try {
            try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                for (int done = 0; done < length; ) {
                    ByteBuffer slice = ByteBuffer.wrap(data, offset + done, Math.min(WRITE_SLICE, length - done));
                    while (slice.hasRemaining()) {
                        done += out.write(slice);
                    }
                }
                if (sync) {
                    out.force(false);
                }
            }
            publish(key, tmp, target, true);
        } catch (IOException | RuntimeException e) {
            throw failure(key, "put", e);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    @Override
    public void put(BlobKey key, InputStream data, long length) throws IOException {
        if (length < 0) {
            throw new IllegalArgumentException("negative length " + length + " for " + key);
        }
        Path target = pathFor(key);
        Path tmp = newTemporary();
        try {
            writeExactly(key, data, length, tmp);
            publish(key, tmp, target, true);
        } catch (EOFException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw failure(key, "put", e);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    @Override
    public void putIfAbsent(BlobKey key, byte[] data) throws IOException {
        Path target = pathFor(key);
        Path tmp = newTemporary();
        try {
            writeExactly(key, new java.io.ByteArrayInputStream(data), data.length, tmp);
            publish(key, tmp, target, false);
        } catch (FileAlreadyExistsException e) {
            throw new FileAlreadyExistsException(key.value(), null, name + ": object already exists");
        } catch (IOException | RuntimeException e) {
            throw failure(key, "put-if-absent", e);
        } finally {
            Files.deleteIfExists(tmp);
        }
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
            int limit = dst.limit();
            try {
                // not dst.hasRemaining(): the slice's limit below hides the rest of the range
                while (dst.position() < limit) {
                    dst.limit(Math.min(limit, dst.position() + WRITE_SLICE));
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
        Path path = pathFor(key);
        try {
            checkNoLinks(key, path.getParent());
            BasicFileAttributes attrs = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!attrs.isRegularFile()) {
                throw notFound(key);
            }
            return new BlobInfo(key, attrs.size(), attrs.lastModifiedTime().toInstant());
        } catch (NoSuchFileException | NotDirectoryException e) {
            throw notFound(key);
        } catch (IOException | RuntimeException e) {
            throw failure(key, "stat", e);
        }
    }

    @Override
    public Stream<BlobInfo> list(String prefix) throws IOException {
        BlobKey.checkPrefix(prefix);
        Path dir = prefix.isEmpty() ? root : pathFor(BlobKey.of(prefix));
        if (!prefix.isEmpty()) {
            checkNoLinks(BlobKey.of(prefix), dir);
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return Stream.empty();
        }
        Stream<Path> walk;
        try {
            walk = Files.walk(dir, new FileVisitOption[0]);
        } catch (NoSuchFileException e) {
            return Stream.empty();
        }
        return walk.filter(p -> !p.startsWith(tmpDir))
                .map(this::infoOrNull)
                .filter(Objects::nonNull);
    }

    @Override
    public void delete(BlobKey key) throws IOException {
        Path path = pathFor(key);
        try {
            checkNoLinks(key, path.getParent());
            if (Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
                Files.deleteIfExists(path);
            }
        } catch (NoSuchFileException | NotDirectoryException e) {
            // already gone
        } catch (IOException | RuntimeException e) {
            throw failure(key, "delete", e);
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
            throw new UncheckedIOException(failure(null, "list", e));
        }
    }

    private SeekableByteChannel openForRead(BlobKey key) throws IOException {
        Path path = pathFor(key);
        try {
            checkNoLinks(key, path.getParent());
            FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
            if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
                channel.close();
                throw notFound(key);
            }
            return channel;
        } catch (NoSuchFileException | NotDirectoryException e) {
            throw notFound(key);
        } catch (FileSystemException e) {
            if (Files.isSymbolicLink(path)) {
                throw escape(key, path);
            }
            throw failure(key, "get", e);
        } catch (IOException | RuntimeException e) {
            throw failure(key, "get", e);
        }
    }

    private Path pathFor(BlobKey key) {
        String value = key.value();
        if (value.equals(TMP_DIR) || value.startsWith(TMP_DIR + "/")) {
            throw new IllegalArgumentException("Invalid blob key '" + key + "': '" + TMP_DIR + "' is reserved by " + name);
        }
        return root.resolve(value);
    }

    /** Refuses symbolic links between the root and {@code dir} (inclusive). */
    private void checkNoLinks(BlobKey key, Path dir) throws IOException {
        for (Path p = dir; p != null && !p.equals(root); p = p.getParent()) {
            if (Files.isSymbolicLink(p)) {
                throw escape(key, p);
            }
        }
    }

    private PermanentBlobStoreException escape(BlobKey key, Path link) {
        return new PermanentBlobStoreException(name, key,
                "refusing to follow symbolic link " + root.relativize(link) + " (it could lead outside the store)", null);
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
                    throw new EOFException(name + ": " + key + ": stream ended after " + (length - remaining)
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
                        throw new PermanentBlobStoreException(name, key,
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
                throw new PermanentBlobStoreException(name, key, "the file system cannot rename atomically", e);
            }
        }
        if (sync) {
            forceDirectory(parent);
        }
    }

    private void createParents(BlobKey key, Path dir) throws IOException {
        if (dir.equals(root) || Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            checkNoLinks(key, dir);
            return;
        }
        createParents(key, dir.getParent());
        try {
            Files.createDirectory(dir);
        } catch (FileAlreadyExistsException e) {
            if (Files.isSymbolicLink(dir)) {
                throw escape(key, dir);
            }
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                throw new PermanentBlobStoreException(name, key, "an object exists at " + root.relativize(dir)
                        + ", which this key needs as a directory (a local store cannot hold both 'a' and 'a/b')", null);
            }
        }
    }

    private static void forceDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    private void removeStaleTemporaries() {
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

    private NoSuchFileException notFound(BlobKey key) {
        return new NoSuchFileException(key.value(), null, name + ": no such object");
    }

    private IOException failure(BlobKey key, String operation, Exception e) {
        if (e instanceof BlobStoreException || e instanceof FileAlreadyExistsException) {
            return (IOException) e;
        }
        if (e instanceof NoSuchFileException && key != null && operation.equals("get")) {
            return notFound(key);
        }
        if (e instanceof IllegalArgumentException) {
            throw (IllegalArgumentException) e;
        }
        if (e instanceof java.nio.channels.ClosedByInterruptException) {
            return (IOException) e;
        }
        String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + e.getMessage();
        return new PermanentBlobStoreException(name, key, operation + " failed: " + reason, e);
    }

    /** An input stream over at most {@code limit} bytes of another. */
    private static final class BoundedInputStream extends InputStream {
        private final InputStream in;
        private long remaining;

        BoundedInputStream(InputStream in, long limit) {
            this.in = in;
            this.remaining = limit;
        }

        @Override
        public int read() throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int b = in.read();
            if (b >= 0) {
                remaining--;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (remaining <= 0) {
                return len == 0 ? 0 : -1;
            }
            int n = in.read(b, off, (int) Math.min(len, remaining));
            if (n > 0) {
                remaining -= n;
            }
            return n;
        }

        @Override
        public int available() throws IOException {
            return (int) Math.min(in.available(), remaining);
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
