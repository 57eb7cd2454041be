package io.dr4j.backup.internal;

import io.dr4j.Dr4jException;
import io.dr4j.backup.CorruptObjectException;
import io.dr4j.backup.RestoreOptions;
import io.dr4j.backup.RestoreResult;
import io.dr4j.backup.RestoreTargetException;
import io.dr4j.backup.SnapshotEntry;
import io.dr4j.backup.UnsafePathException;
import io.dr4j.backup.internal.Manifest.ChunkRef;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * One restore, all or nothing. Every path in the manifest is checked before anything is written;
 * the snapshot is rebuilt in a staging directory beside the target ({@code .<name>.dr4j-restore-*}),
 * chunks fetched in parallel and written at their offsets, each authenticated and checked against
 * its id; files are forced to disk, and only then is the staging directory renamed onto the
 * target. A failed, cancelled or killed restore leaves the target as it was (a killed one also
 * leaves a staging directory, which the next restore into the same target removes).
 *
 * <p>Replacing an existing target takes two renames (target aside, staging in). A journal file
 * {@code .<name>.dr4j-swap} names both; if the process dies between them, the next restore
 * into that target (or {@code Repository.recoverRestore}) moves the old target back first.
 */
public final class RestoreRun {

    private static final String STAGING = ".dr4j-restore-";
    private static final String OLD = ".dr4j-old-";
    private static final String JOURNAL = ".dr4j-swap";

    private final Context ctx;
    private final Manifest manifest;
    private final Path target;
    private final RestoreOptions options;
    private final Pipeline pipeline;
    private final AtomicLong downloaded = new AtomicLong();
    private final AtomicLong reused = new AtomicLong();
    private final AtomicLong done = new AtomicLong();

    public RestoreRun(Context ctx, Manifest manifest, Path target, RestoreOptions options) {
        this.ctx = ctx;
        this.manifest = manifest;
        this.target = target.toAbsolutePath().normalize();
        this.options = options;
        this.pipeline = new Pipeline(ctx.options().inFlightBytes(), options.cancellation(),
                "restore of snapshot " + manifest.snapshot().id().shortId() + " to " + this.target);
    }

    /** Checks every entry path; returns them resolved against {@code root}. */
    static Map<String, Path> checkPaths(Manifest manifest, Path root) {
        Map<String, Path> resolved = new HashMap<>();
        Set<String> directories = new HashSet<>();
        for (Manifest.Entry e : manifest.entries()) {
            String path = e.entry().path();
            String problem = pathProblem(path);
            if (problem != null) {
                throw new UnsafePathException("snapshot " + manifest.snapshot().id() + " contains unsafe path '"
                        + printable(path) + "' (" + problem + "); nothing was restored");
            }
            Path p = root.resolve(path).normalize();
            if (!p.startsWith(root) || p.equals(root)) {
                throw new UnsafePathException("snapshot " + manifest.snapshot().id() + " path '" + printable(path)
                        + "' resolves outside the restore target; nothing was restored");
            }
            if (resolved.put(path, p) != null) {
                throw new UnsafePathException("snapshot " + manifest.snapshot().id() + " lists '" + printable(path)
                        + "' twice; nothing was restored");
            }
            if (e.entry().type() == SnapshotEntry.Type.DIRECTORY) {
                directories.add(path);
            }
        }
        for (String path : resolved.keySet()) {
            for (int slash = path.indexOf('/'); slash >= 0; slash = path.indexOf('/', slash + 1)) {
                String ancestor = path.substring(0, slash);
                if (resolved.containsKey(ancestor) && !directories.contains(ancestor)) {
                    throw new UnsafePathException("snapshot " + manifest.snapshot().id() + " puts '" + printable(path)
                            + "' under the file '" + printable(ancestor) + "'; nothing was restored");
                }
            }
        }
        return resolved;
    }

    private static String pathProblem(String path) {
        if (path.isEmpty()) {
            return "empty";
        }
        if (path.startsWith("/") || path.matches("^[A-Za-z]:.*")) {
            return "absolute";
        }
        if (path.indexOf('\\') >= 0) {
            return "backslash";
        }
        for (int i = 0; i < path.length(); i++) {
            if (path.charAt(i) < 0x20) {
                return "control character";
            }
        }
        for (String segment : path.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                return "'" + segment + "' segment";
            }
        }
        return null;
    }

    private static String printable(String s) {
        return s.replaceAll("\\p{Cntrl}", "?");
    }

    /** Runs the restore. */
    public RestoreResult run() {
        long start = System.nanoTime();
        Path parent = target.getParent();
        if (parent == null) {
            throw new RestoreTargetException("cannot restore onto the file-system root " + target);
        }
        String name = target.getFileName().toString();
        recover(target);
        checkTarget(parent);
        Path staging = parent.resolve("." + name + STAGING + HexFormat.of().formatHex(Crypto.randomBytes(6)));
        removeStaleStaging(parent, name);
        Map<String, Path> paths = checkPaths(manifest, staging);
        boolean success = false;
        try {
            Files.createDirectory(staging);
            Map<ChunkId, LocalChunk> local = options.delta() && Files.isDirectory(target) ? indexTarget() : Map.of();
            writeAll(staging, paths, local);
            swapIn(staging, parent, name);
            success = true;
        } catch (IOException e) {
            throw new Dr4jException("restore into " + target + " failed: " + e.getMessage(), e);
        } finally {
            if (!success) {
                deleteTree(staging);
            }
        }
        long files = manifest.entries().stream().filter(e -> e.entry().type() == SnapshotEntry.Type.FILE).count();
        return new RestoreResult(manifest.snapshot().id(), target, files, manifest.snapshot().totalBytes(), downloaded.get(),
                reused.get(), Duration.ofNanos(System.nanoTime() - start));
    }

    private void checkTarget(Path parent) {
        try {
            Files.createDirectories(parent);
        } catch (IOException e) {
            throw new RestoreTargetException("cannot create the parent of restore target " + target + ": " + e, e);
        }
        if (!Files.isWritable(parent)) {
            throw new RestoreTargetException("restore target's parent " + parent + " is not writable");
        }
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                throw new RestoreTargetException("restore target " + target + " exists and is not a directory");
            }
            boolean empty;
            try (Stream<Path> children = Files.list(target)) {
                empty = children.findAny().isEmpty();
            } catch (IOException e) {
                throw new RestoreTargetException("cannot read restore target " + target + ": " + e, e);
            }
            if (!empty && !options.replaceExisting()) {
                throw new RestoreTargetException("restore target " + target
                        + " is not empty; choose an empty or new directory, or allow replacing it");
            }
        }
        long needed = manifest.snapshot().totalBytes();
        try {
            FileStore fs = Files.getFileStore(parent);
            long usable = fs.getUsableSpace();
            if (usable < needed + (needed >> 6)) {
                throw new RestoreTargetException("not enough space for restore into " + target + ": snapshot needs "
                        + needed + " bytes, " + usable + " usable on " + fs);
            }
        } catch (IOException e) {
            throw new RestoreTargetException("cannot check free space for " + target + ": " + e, e);
        }
    }

    /** Where a chunk already is in the existing target. */
    private record LocalChunk(Path file, long offset, int length) {
    }

    private Map<ChunkId, LocalChunk> indexTarget() {
        Set<ChunkId> wanted = new HashSet<>();
        for (Manifest.Entry e : manifest.entries()) {
            e.chunks().forEach(c -> wanted.add(c.id()));
        }
        Map<ChunkId, LocalChunk> index = new java.util.concurrent.ConcurrentHashMap<>();
        List<CompletableFuture<Void>> futures = new ArrayList<>();
        for (Manifest.Entry e : manifest.entries()) {
            if (e.entry().type() != SnapshotEntry.Type.FILE || e.entry().size() == 0) {
                continue;
            }
            Path existing = target.resolve(e.entry().path()).normalize();
            if (!existing.startsWith(target) || !Files.isRegularFile(existing, LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            futures.add(CompletableFuture.runAsync(() -> indexFile(existing, wanted, index), ctx.cpu()));
        }
        pipeline.awaitAll(futures);
        return index;
    }

    private void indexFile(Path file, Set<ChunkId> wanted, Map<ChunkId, LocalChunk> index) {
        if (pipeline.stopped()) {
            return;
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            new FileChunker(ctx.chunker()).chunk(channel, (buffer, offset, length, position) -> {
                ChunkId id = ctx.crypto().chunkId(buffer, offset, length);
                if (wanted.contains(id)) {
                    index.putIfAbsent(id, new LocalChunk(file, position, length));
                }
            }, pipeline::stopped);
        } catch (IOException e) {
            // an unreadable old file only means its chunks are downloaded instead
        }
    }

    /** One file being written: its channel, opened once, closed (and forced) after its last chunk. */
    private final class OutFile {
        final Manifest.Entry entry;
        final Path path;
        final AtomicInteger remaining;
        FileChannel channel;

        OutFile(Manifest.Entry entry, Path path) {
            this.entry = entry;
            this.path = path;
            this.remaining = new AtomicInteger(entry.chunks().size());
        }

        synchronized FileChannel channel() throws IOException {
            if (channel == null) {
                channel = FileChannel.open(path, StandardOpenOption.WRITE);
            }
            return channel;
        }

        void chunkWritten() throws IOException {
            if (remaining.decrementAndGet() == 0) {
                finish();
            }
        }

        synchronized void finish() throws IOException {
            if (channel != null) {
                if (channel.size() != entry.entry().size()) {
                    throw new CorruptObjectException("restored " + entry.entry().path() + " has " + channel.size()
                            + " bytes, snapshot says " + entry.entry().size());
                }
                channel.force(false);
                channel.close();
                channel = null;
            }
            options.progress().onFileDone(Path.of(entry.entry().path()), entry.entry().size());
        }

        synchronized void closeQuietly() {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // cleanup after failure
                }
                channel = null;
            }
        }
    }

    private void writeAll(Path staging, Map<String, Path> paths, Map<ChunkId, LocalChunk> local) throws IOException {
        List<Manifest.Entry> entries = new ArrayList<>(manifest.entries());
        entries.sort(Comparator.comparing(e -> e.entry().path()));
        List<OutFile> outs = new ArrayList<>();
        for (Manifest.Entry e : entries) {
            Path p = paths.get(e.entry().path());
            if (e.entry().type() == SnapshotEntry.Type.DIRECTORY) {
                Files.createDirectories(p);
            } else {
                Files.createDirectories(p.getParent());
                try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    if (e.entry().size() > 0) {
                        // sparse pre-size: positional writes may land in any order
                        ch.write(ByteBuffer.wrap(new byte[1]), e.entry().size() - 1);
                    }
                }
                outs.add(new OutFile(e, p));
            }
        }
        long total = manifest.snapshot().totalBytes();
        options.progress().onProgress(0, total);
        List<CompletableFuture<Void>> futures = new ArrayList<>();
        try {
            for (OutFile out : outs) {
                if (out.entry.chunks().isEmpty()) {
                    out.finish();
                    continue;
                }
                long offset = 0;
                for (ChunkRef ref : out.entry.chunks()) {
                    pipeline.acquire(ref.length());
                    futures.add(chunkTask(out, ref, offset, local.get(ref.id())));
                    offset += ref.length();
                }
            }
            pipeline.awaitAll(futures);
        } catch (RuntimeException e) {
            pipeline.fail(e);
            try {
                pipeline.awaitAll(futures);
            } catch (RuntimeException ignored) {
                // the first failure is rethrown below
            }
            throw e;
        } finally {
            outs.forEach(OutFile::closeQuietly);
        }
        // metadata last: a directory's mtime changes while its children are created
        for (int i = entries.size() - 1; i >= 0; i--) {
            Manifest.Entry e = entries.get(i);
            applyMetadata(paths.get(e.entry().path()), e.entry());
        }
        forceDirectory(staging);
    }

    private CompletableFuture<Void> chunkTask(OutFile out, ChunkRef ref, long offset, LocalChunk localChunk) {
        CompletableFuture<byte[]> bytes;
        if (localChunk != null) {
            bytes = CompletableFuture.supplyAsync(() -> {
                byte[] plain = readLocal(localChunk, ref);
                if (plain != null) {
                    reused.addAndGet(ref.length());
                    return plain;
                }
                return fetch(ref);
            }, ctx.io());
        } else if (ctx.replicated().isPresent()) {
            bytes = CompletableFuture.supplyAsync(() -> fetch(ref), ctx.io());
        } else {
            bytes = CompletableFuture.supplyAsync(() -> fetchSealed(ref), ctx.io())
                    .thenApplyAsync(sealed -> open(ref, sealed), ctx.cpu());
        }
        return bytes.thenAcceptAsync(plain -> {
            try {
                FileChannel ch = out.channel();
                ByteBuffer buffer = ByteBuffer.wrap(plain);
                long pos = offset;
                while (buffer.hasRemaining()) {
                    pos += ch.write(buffer, pos);
                }
                out.chunkWritten();
            } catch (IOException e) {
                throw new UncheckedIOException("writing " + out.entry.entry().path() + " failed: " + e.getMessage(), e);
            }
        }, ctx.io()).whenComplete((v, e) -> {
            pipeline.release(ref.length());
            if (e != null) {
                pipeline.fail(e);
            } else {
                options.progress().onProgress(done.addAndGet(ref.length()), manifest.snapshot().totalBytes());
            }
        });
    }

    private byte[] readLocal(LocalChunk local, ChunkRef ref) {
        if (pipeline.stopped()) {
            throw new java.util.concurrent.CancellationException("stopped");
        }
        try (FileChannel ch = FileChannel.open(local.file(), StandardOpenOption.READ)) {
            byte[] plain = new byte[ref.length()];
            ByteBuffer buffer = ByteBuffer.wrap(plain);
            long pos = local.offset();
            while (buffer.hasRemaining()) {
                int n = ch.read(buffer, pos);
                if (n < 0) {
                    return null;
                }
                pos += n;
            }
            // the old file may have changed since it was indexed: only bytes matching the id are used
            return ctx.crypto().chunkId(plain, 0, plain.length).equals(ref.id()) ? plain : null;
        } catch (IOException e) {
            return null;
        }
    }

    private byte[] fetch(ChunkRef ref) {
        if (pipeline.stopped()) {
            throw new java.util.concurrent.CancellationException("stopped");
        }
        byte[] plain;
        try {
            plain = ctx.readChunk(ref.id());
        } catch (NoSuchFileException e) {
            throw new CorruptObjectException(ctx.where(ref.id().key()) + ": chunk is missing (needed by snapshot "
                    + manifest.snapshot().id().shortId() + ")", e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return checkLength(ref, plain);
    }

    private byte[] fetchSealed(ChunkRef ref) {
        if (pipeline.stopped()) {
            throw new java.util.concurrent.CancellationException("stopped");
        }
        try {
            return ctx.store().getBytes(ref.id().key());
        } catch (NoSuchFileException e) {
            throw new CorruptObjectException(ctx.where(ref.id().key()) + ": chunk is missing (needed by snapshot "
                    + manifest.snapshot().id().shortId() + ")", e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private byte[] open(ChunkRef ref, byte[] sealed) {
        return checkLength(ref, ctx.crypto().openChunk(ref.id(), sealed, ctx.config().chunker().maxSize(),
                ctx.where(ref.id().key())));
    }

    private byte[] checkLength(ChunkRef ref, byte[] plain) {
        if (plain.length != ref.length()) {
            throw new CorruptObjectException(ctx.where(ref.id().key()) + ": chunk has " + plain.length
                    + " bytes, manifest says " + ref.length());
        }
        downloaded.addAndGet(plain.length);
        return plain;
    }

    private void applyMetadata(Path p, SnapshotEntry entry) throws IOException {
        if (options.restorePermissions() && entry.mode().isPresent()) {
            PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class);
            if (view != null) {
                Set<PosixFilePermission> perms = EnumSet.noneOf(PosixFilePermission.class);
                int mode = entry.mode().get();
                for (PosixFilePermission perm : PosixFilePermission.values()) {
                    if ((mode & (1 << (8 - perm.ordinal()))) != 0) {
                        perms.add(perm);
                    }
                }
                if (entry.type() == SnapshotEntry.Type.DIRECTORY) {
                    perms.add(PosixFilePermission.OWNER_WRITE); // children must stay replaceable by the owner
                    perms.add(PosixFilePermission.OWNER_EXECUTE);
                }
                view.setPermissions(perms);
            }
        }
        if (options.restoreTimes()) {
            Files.setLastModifiedTime(p, FileTime.from(entry.modified()));
        }
    }

    private void swapIn(Path staging, Path parent, String name) throws IOException {
        pipeline.checkRunning();
        if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
            forceDirectory(parent);
            return;
        }
        Path old = parent.resolve("." + name + OLD + HexFormat.of().formatHex(Crypto.randomBytes(6)));
        Path journal = parent.resolve("." + name + JOURNAL);
        Files.writeString(journal, old.getFileName() + "\n" + staging.getFileName() + "\n");
        try (FileChannel ch = FileChannel.open(journal, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        forceDirectory(parent);
        Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        forceDirectory(parent);
        Files.delete(journal);
        deleteTree(old);
    }

    /**
     * Completes the bookkeeping of a swap interrupted by a crash: if the target is missing while
     * the old one was set aside, the old one is put back; leftover old copies are removed.
     */
    public static void recover(Path target) {
        Path parent = target.toAbsolutePath().normalize().getParent();
        if (parent == null) {
            return;
        }
        String name = target.getFileName().toString();
        Path journal = parent.resolve("." + name + JOURNAL);
        if (!Files.exists(journal)) {
            return;
        }
        try {
            List<String> lines = Files.readAllLines(journal);
            Path old = parent.resolve(lines.get(0));
            Path staging = parent.resolve(lines.get(1));
            if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS) && Files.isDirectory(old)) {
                Files.move(old, target, StandardCopyOption.ATOMIC_MOVE);
            }
            deleteTree(old);
            deleteTree(staging);
            Files.delete(journal);
            forceDirectory(parent);
        } catch (IOException | RuntimeException e) {
            throw new RestoreTargetException("cannot recover the interrupted restore into " + target + " (journal "
                    + journal + "): " + e, e);
        }
    }

    private static void removeStaleStaging(Path parent, String name) {
        try (Stream<Path> siblings = Files.list(parent)) {
            siblings.filter(p -> p.getFileName().toString().startsWith("." + name + STAGING)
                    || p.getFileName().toString().startsWith("." + name + OLD)).forEach(RestoreRun::deleteTree);
        } catch (IOException ignored) {
            // best effort
        }
    }

    private static void forceDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    static void deleteTree(Path root) {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                try {
                    if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                        p.toFile().setWritable(true);
                    }
                    Files.deleteIfExists(p);
                } catch (DirectoryNotEmptyException | AccessDeniedException ignored) {
                    // best effort
                }
            }
        } catch (IOException | UncheckedIOException ignored) {
            // best effort
        }
    }
}
