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
import java.util.concurrent.atomic.AtomicReference;
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
    private final AtomicLong storeReads = new AtomicLong();
    private final boolean durable;
    private RepositoryIndex index;
    private BufferPool plainPool;

    public RestoreRun(Context ctx, Manifest manifest, Path target, RestoreOptions options) {
        this.ctx = ctx;
        this.durable = options.durability() == RestoreOptions.Durability.POWER_LOSS;
        this.manifest = manifest;
        this.target = target.toAbsolutePath().normalize();
        this.options = options;
        this.pipeline = new Pipeline(ctx.options().inFlightBytes(), options.cancellation(),
                "restore of snapshot " + manifest.snapshot().id().shortId() + " to " + this.target);
    }

    /** Checks every entry path with the Windows rules; returns them resolved against {@code root}. */
    static Map<String, Path> checkPaths(Manifest manifest, Path root) {
        return checkPaths(manifest, root, false);
    }

    /**
     * Checks every entry path (see {@link PathRules}); returns them resolved against {@code root}.
     * {@code allowNonPortable} lets names that are only unsafe on Windows through, except on Windows.
     */
    static Map<String, Path> checkPaths(Manifest manifest, Path root, boolean allowNonPortable) {
        boolean portable = !allowNonPortable || PathRules.windows();
        Map<String, Path> resolved = new HashMap<>();
        Map<String, String> folded = new HashMap<>();
        Set<String> directories = new HashSet<>();
        for (Manifest.Entry e : manifest.entries()) {
            String path = e.entry().path();
            String problem = PathRules.unsafe(path);
            if (problem == null && portable) {
                problem = PathRules.nonPortable(path);
                if (problem != null) {
                    problem += "; on Linux or macOS, RestoreOptions.allowNonPortablePaths (dr4j restore --allow-non-portable-paths)"
                            + " restores it";
                }
            }
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
            String other = folded.put(PathRules.foldKey(path), path);
            if (other != null && portable) {
                throw new UnsafePathException("snapshot " + manifest.snapshot().id() + " lists '" + printable(other) + "' and '"
                        + printable(path) + "', one file on a case-insensitive or Unicode-normalizing file system (Windows, macOS)"
                        + "; on a case-sensitive file system RestoreOptions.allowNonPortablePaths restores both; nothing was restored");
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
        Map<String, Path> paths = checkPaths(manifest, staging, options.allowNonPortablePaths());
        boolean success = false;
        try {
            index = RepositoryIndex.load(ctx);
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
                reused.get(), Duration.ofNanos(System.nanoTime() - start), storeReads.get());
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
            // cut as the backup cut it (on tensor boundaries for a safetensors file), or its chunks would not be found
            SafetensorsHeader header = BackupRun.safetensorsHeader(channel, file);
            new FileChunker(ctx.chunker()).chunk(channel, header, (buffer, offset, length, position) -> {
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

        /** Writes {@code plain[0, length)} at {@code position}. */
        void write(byte[] plain, int length, long position) throws IOException {
            FileChannel ch = channel();
            // slices keep the JDK's per-thread temporary direct buffer small
            for (int done = 0; done < length; ) {
                ByteBuffer slice = ByteBuffer.wrap(plain, done, Math.min(1 << 20, length - done));
                while (slice.hasRemaining()) {
                    int n = ch.write(slice, position + done);
                    done += n;
                }
            }
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
                if (durable) {
                    channel.force(false);
                }
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
        try {
            Map<ChunkId, List<Use>> uses = new java.util.LinkedHashMap<>();
            for (OutFile out : outs) {
                if (out.entry.chunks().isEmpty()) {
                    out.finish();
                    continue;
                }
                long offset = 0;
                for (ChunkRef ref : out.entry.chunks()) {
                    uses.computeIfAbsent(ref.id(), k -> new ArrayList<>(1)).add(new Use(out, offset, ref.length()));
                    offset += ref.length();
                }
            }
            Set<ChunkId> fromStore = local.isEmpty() ? uses.keySet() : restoreLocal(uses, local);
            restoreFromPacks(uses, fromStore);
        } finally {
            outs.forEach(OutFile::closeQuietly);
        }
        // metadata last: a directory's mtime changes while its children are created
        for (int i = entries.size() - 1; i >= 0; i--) {
            Manifest.Entry e = entries.get(i);
            applyMetadata(paths.get(e.entry().path()), e.entry());
        }
        if (durable) {
            forceTree(staging);
        }
    }

    /** One place a chunk goes: a file and an offset. */
    private record Use(OutFile out, long offset, int length) {
    }

    /** A blob to fetch: its place in its pack and where its plaintext goes. */
    private record Needed(ChunkId id, int offset, int length, int plainLength, List<Use> uses) {
    }

    /** A ranged read of one pack covering some of its needed blobs. */
    private record Range(int pack, long start, int length, List<Needed> blobs) {
    }

    /** Largest gap between two needed blobs that one ranged read spans rather than splitting in two. */
    private static final int MAX_GAP = 1 << 20;

    private void writeUses(List<Use> targets, byte[] plain, int length) throws IOException {
        for (Use use : targets) {
            use.out().write(plain, length, use.offset());
            use.out().chunkWritten();
            options.progress().onProgress(done.addAndGet(length), manifest.snapshot().totalBytes());
        }
    }

    /**
     * Copies chunks that the existing target already holds (delta restore), each checked against
     * its id; returns the chunks still to fetch from the store.
     */
    private Set<ChunkId> restoreLocal(Map<ChunkId, List<Use>> uses, Map<ChunkId, LocalChunk> local) {
        Set<ChunkId> remaining = java.util.concurrent.ConcurrentHashMap.newKeySet();
        remaining.addAll(uses.keySet());
        BufferPool pool = new BufferPool(ctx.chunkBufferSize(), Math.max(2, ctx.options().workers() * 2));
        List<CompletableFuture<Void>> futures = new ArrayList<>();
        for (Map.Entry<ChunkId, LocalChunk> e : local.entrySet()) {
            List<Use> targets = uses.get(e.getKey());
            if (targets == null) {
                continue;
            }
            byte[] buffer = pool.take(pipeline::stopped);
            futures.add(CompletableFuture.runAsync(() -> {
                try {
                    if (pipeline.stopped()) {
                        throw new java.util.concurrent.CancellationException("stopped");
                    }
                    LocalChunk c = e.getValue();
                    if (readLocal(c, e.getKey(), buffer)) {
                        writeUses(targets, buffer, c.length());
                        reused.addAndGet(c.length());
                        remaining.remove(e.getKey());
                    }
                } catch (IOException ex) {
                    throw new UncheckedIOException("writing restored data failed: " + ex.getMessage(), ex);
                } finally {
                    pool.give(buffer);
                }
            }, ctx.io()).whenComplete((v, ex) -> {
                if (ex != null) {
                    pipeline.fail(ex);
                }
            }));
        }
        pipeline.awaitAll(futures);
        Set<ChunkId> ordered = new java.util.LinkedHashSet<>();
        for (ChunkId id : uses.keySet()) {
            if (remaining.contains(id)) {
                ordered.add(id);
            }
        }
        return ordered;
    }

    /**
     * Fetches the chunks from their packs: grouped by pack, packs in order of first use, each
     * pack read once in as few ranges as cover its needed blobs (a range is split where the gap
     * between two needed blobs exceeds {@link #MAX_GAP} or it would outgrow a buffer). Every blob
     * is authenticated before any of its bytes are written; the check runs inside
     * {@link io.dr4j.storage.BlobStore#readVerified}, so a store with several copies can serve
     * the range from another copy when one fails it.
     */
    private void restoreFromPacks(Map<ChunkId, List<Use>> uses, Set<ChunkId> wanted) {
        Map<Integer, List<Needed>> byPack = new java.util.LinkedHashMap<>();
        for (ChunkId id : wanted) {
            List<Use> targets = uses.get(id);
            int e = index.chunks.find(id);
            if (e < 0 || index.chunks.pack(e) == ChunkIndex.PENDING) {
                throw new CorruptObjectException(ctx.store().name() + ": chunk " + id + " of '" + targets.get(0).out().entry.entry().path()
                        + "' (snapshot " + manifest.snapshot().id().shortId() + ") is in no index file, or its pack is missing"
                        + index.whyMissing() + "; nothing was restored");
            }
            if (index.chunks.plainLength(e) != targets.get(0).length()) {
                throw new CorruptObjectException(ctx.store().name() + ": the index gives chunk " + id + " "
                        + index.chunks.plainLength(e) + " bytes, the snapshot " + targets.get(0).length() + "; nothing was restored");
            }
            if (!index.present(index.chunks.pack(e))) {
                throw new CorruptObjectException(ctx.where(PackFormat.key(index.chunks.packId(index.chunks.pack(e))))
                        + ": pack is missing (it holds chunk " + id + " of '" + targets.get(0).out().entry.entry().path()
                        + "', snapshot " + manifest.snapshot().id().shortId() + "); nothing was restored");
            }
            byPack.computeIfAbsent(index.chunks.pack(e), k -> new ArrayList<>())
                    .add(new Needed(id, index.chunks.offset(e), index.chunks.length(e), index.chunks.plainLength(e), targets));
        }
        BufferPool rangePool = new BufferPool(ctx.packBufferSize(), rangeBuffers(ctx));
        plainPool = new BufferPool(ctx.chunkBufferSize(), rangePool.capacity() * ctx.options().workers());
        List<CompletableFuture<Void>> futures = new ArrayList<>();
        try {
            for (Map.Entry<Integer, List<Needed>> pack : byPack.entrySet()) {
                for (Range range : ranges(pack.getKey(), pack.getValue(), rangePool.bufferSize())) {
                    byte[] buffer = rangePool.take(pipeline::stopped);
                    futures.add(CompletableFuture.runAsync(() -> {
                        byte[] plain = plainPool.take(pipeline::stopped);
                        try {
                            if (pipeline.stopped()) {
                                throw new java.util.concurrent.CancellationException("stopped");
                            }
                            fetchRange(range, buffer, plain);
                        } finally {
                            plainPool.give(plain);
                            rangePool.give(buffer);
                        }
                    }, ctx.io()).whenComplete((v, e) -> {
                        if (e != null) {
                            pipeline.fail(e);
                        }
                    }));
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
        }
    }

    /** Range buffers: within the in-flight budget, at least two (one filling while one is written). */
    static int rangeBuffers(Context ctx) {
        return (int) Math.max(2, Math.min(8, ctx.options().inFlightBytes() / ctx.packBufferSize()));
    }

    private static List<Range> ranges(int pack, List<Needed> blobs, int maxLength) {
        return RangePlanner.plan(blobs, Needed::offset, Needed::length, MAX_GAP, maxLength).stream()
                .map(g -> new Range(pack, g.start(), g.length(), g.blobs())).toList();
    }

    private void fetchRange(Range range, byte[] buffer, byte[] plain) {
        io.dr4j.storage.BlobKey key = PackFormat.key(index.chunks.packId(range.pack()));
        boolean[] written = new boolean[range.blobs().size()];
        AtomicReference<CorruptObjectException> rejected = new AtomicReference<>();
        AtomicReference<IOException> writeFailure = new AtomicReference<>();
        try {
            storeReads.incrementAndGet();
            ctx.store().readVerified(key, range.start(), ByteBuffer.wrap(buffer, 0, range.length()), view -> {
                // the range's blobs are opened in parallel: one read per pack, every core busy
                int parts = Math.max(1, Math.min(ctx.options().workers(), written.length / 4));
                List<CompletableFuture<Boolean>> others = new ArrayList<>();
                for (int part = 1; part < parts; part++) {
                    int p = part;
                    others.add(CompletableFuture.supplyAsync(() -> {
                        byte[] own = plainPool.take(pipeline::stopped);
                        try {
                            return openPart(range, key, buffer, own, written, p, parts, rejected, writeFailure);
                        } finally {
                            plainPool.give(own);
                        }
                    }, ctx.cpu()));
                }
                boolean ok = openPart(range, key, buffer, plain, written, 0, parts, rejected, writeFailure);
                for (CompletableFuture<Boolean> f : others) {
                    ok &= f.join();
                }
                return ok;
            });
        } catch (NoSuchFileException e) {
            throw new CorruptObjectException(ctx.where(key) + ": pack is missing (needed by '"
                    + range.blobs().get(0).uses().get(0).out().entry.entry().path() + "' of snapshot "
                    + manifest.snapshot().id().shortId() + "); nothing was restored", e);
        } catch (java.io.EOFException e) {
            throw new CorruptObjectException(ctx.where(key) + ": pack is truncated: it ends inside bytes [" + range.start() + ", "
                    + (range.start() + range.length()) + ") that the index places in it (" + e.getMessage() + "); nothing was restored", e);
        } catch (io.dr4j.storage.PermanentBlobStoreException e) {
            if (rejected.get() != null) {
                throw new CorruptObjectException(rejected.get().getMessage() + "; nothing was restored", e);
            }
            throw new UncheckedIOException(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (writeFailure.get() != null) {
            throw new UncheckedIOException("writing the restored files failed: " + writeFailure.get().getMessage(), writeFailure.get());
        }
    }

    /**
     * Opens, checks and writes the blobs {@code part, part + parts, …} of a range that are not yet
     * written; false if one fails authentication (its copy is bad: the store may try another).
     */
    private boolean openPart(Range range, io.dr4j.storage.BlobKey key, byte[] buffer, byte[] plain, boolean[] written, int part,
            int parts, AtomicReference<CorruptObjectException> rejected, AtomicReference<IOException> writeFailure) {
        boolean ok = true;
        for (int i = part; i < written.length; i += parts) {
            if (written[i] || pipeline.stopped()) {
                continue; // a retry from another copy: what passed is already in place
            }
            Needed n = range.blobs().get(i);
            int length;
            try {
                // the message is built only for a failure: a per-chunk string was the restore's
                // one allocation left on the hot path
                length = ctx.crypto().openChunkInto(n.id(), buffer, (int) (n.offset() - range.start()), n.length(),
                        ctx.maxChunk(), plain, "");
                if (length != n.plainLength()) {
                    throw new CorruptObjectException(": holds " + length + " bytes, the snapshot says " + n.plainLength());
                }
            } catch (CorruptObjectException failed) {
                CorruptObjectException e = new CorruptObjectException(ctx.where(key) + " blob at offset " + n.offset()
                        + " (chunk " + n.id().hex().substring(0, 16) + "…, needed by '" + n.uses().get(0).out().entry.entry().path()
                        + "')" + failed.getMessage(), failed);
                rejected.compareAndSet(null, e);
                ok = false;
                continue;
            }
            try {
                writeUses(n.uses(), plain, length);
            } catch (IOException e) {
                writeFailure.compareAndSet(null, e); // the copy was fine; the target failed
                pipeline.fail(new UncheckedIOException("writing the restored files failed: " + e.getMessage(), e));
                return ok;
            }
            downloaded.addAndGet(length);
            written[i] = true;
        }
        return ok;
    }

    /** Reads a chunk from the old target into {@code buffer}; true if it is there and matches its id. */
    private boolean readLocal(LocalChunk local, ChunkId id, byte[] buffer) {
        try (FileChannel ch = FileChannel.open(local.file(), StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.wrap(buffer, 0, local.length());
            long pos = local.offset();
            while (b.hasRemaining()) {
                int n = ch.read(b, pos);
                if (n < 0) {
                    return false;
                }
                pos += n;
            }
            // the old file may have changed since it was indexed: only bytes matching the id are used
            return ctx.crypto().chunkId(buffer, 0, local.length()).equals(id);
        } catch (IOException e) {
            return false;
        }
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

    /** Forces every directory of the new tree (their entries) to disk; files were forced as they completed. */
    private static void forceTree(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.filter(q -> Files.isDirectory(q, LinkOption.NOFOLLOW_LINKS)).toList()) {
                forceDirectory(p);
            }
        }
    }

    private void swapIn(Path staging, Path parent, String name) throws IOException {
        pipeline.checkRunning();
        if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
            if (durable) {
                forceDirectory(parent);
            }
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
