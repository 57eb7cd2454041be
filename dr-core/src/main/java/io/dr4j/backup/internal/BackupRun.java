package io.dr4j.backup.internal;

import io.dr4j.Dr4jException;
import io.dr4j.backup.BackupOptions;
import io.dr4j.backup.Snapshot;
import io.dr4j.backup.SnapshotEntry;
import io.dr4j.backup.SnapshotId;
import io.dr4j.backup.SnapshotStats;
import io.dr4j.backup.internal.Manifest.ChunkRef;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemLoopException;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One backup: scan the source, then read → chunk → hash → (dedup) → seal → store, in parallel
 * with an in-flight byte budget, and finally write the manifest. Chunks are written before the
 * manifest, so a backup that dies leaves only unreferenced chunks, which prune removes.
 *
 * <p>Readers (one per file at a time, up to {@code workers}) chunk files sequentially; each chunk
 * is copied out of the read buffer and handed to the CPU pool (id, dedup, seal) and then to the
 * I/O pool (put). Memory: {@code inFlightBytes} of chunks plus a read buffer of twice the maximum
 * chunk size per reader.
 */
public final class BackupRun {

    private final Context ctx;
    private final Path source;
    private final BackupOptions options;
    private final Optional<Manifest> parent;
    private final KnownChunks known;
    private final Pipeline pipeline;
    private final AtomicLong bytesRead = new AtomicLong();
    private final AtomicLong bytesDone = new AtomicLong();
    private final AtomicLong newBytes = new AtomicLong();
    private final AtomicLong newChunks = new AtomicLong();
    private final AtomicLong reusedChunks = new AtomicLong();
    private long bytesToRead;

    public BackupRun(Context ctx, Path source, BackupOptions options, Optional<Manifest> parent, KnownChunks known) {
        this.ctx = ctx;
        this.source = source;
        this.options = options;
        this.parent = parent;
        this.known = known;
        this.pipeline = new Pipeline(ctx.options().inFlightBytes(), options.cancellation(), "backup of " + source);
    }

    /** A file or directory found by the scan. */
    private record Found(String path, Path file, boolean directory, long size, Instant modified, Optional<Integer> mode) {
    }

    /** Runs the backup and returns the manifest it stored. */
    public Manifest run(SnapshotId id, Instant start) {
        long startNanos = System.nanoTime();
        List<Found> found = scan();
        Map<String, Manifest.Entry> parentFiles = new HashMap<>();
        parent.ifPresent(p -> p.entries().forEach(e -> parentFiles.put(e.entry().path(), e)));

        List<Manifest.Entry> entries = new ArrayList<>(found.size());
        List<FileJob> jobs = new ArrayList<>();
        long unchanged = 0;
        long totalBytes = 0;
        long directories = 0;
        for (Found f : found) {
            if (f.directory()) {
                directories++;
                continue;
            }
            totalBytes += f.size();
            Manifest.Entry previous = parentFiles.get(f.path());
            if (!options.rereadUnchanged() && previous != null && previous.entry().type() == SnapshotEntry.Type.FILE
                    && previous.entry().size() == f.size() && previous.entry().modified().equals(f.modified())
                    && previous.entry().mode().equals(f.mode())) {
                unchanged++;
                reusedChunks.addAndGet(previous.chunks().size());
            } else {
                jobs.add(new FileJob(f));
                bytesToRead += f.size();
            }
        }
        options.progress().onProgress(0, bytesToRead);
        runJobs(jobs);

        Map<String, FileJob> byPath = new HashMap<>();
        jobs.forEach(j -> byPath.put(j.found.path(), j));
        long files = 0;
        for (Found f : found) {
            if (f.directory()) {
                entries.add(new Manifest.Entry(new SnapshotEntry(f.path(), SnapshotEntry.Type.DIRECTORY, 0, f.mode(),
                        f.modified(), Optional.empty(), 0), List.of()));
                continue;
            }
            files++;
            FileJob job = byPath.get(f.path());
            List<ChunkRef> chunks;
            long size;
            if (job == null) {
                Manifest.Entry previous = parentFiles.get(f.path());
                chunks = previous.chunks();
                size = previous.entry().size();
            } else {
                chunks = job.chunks();
                size = job.read;
            }
            String hash = Manifest.fileHash(size, chunks);
            entries.add(new Manifest.Entry(new SnapshotEntry(f.path(), SnapshotEntry.Type.FILE, size, f.mode(), f.modified(),
                    Optional.of(hash), chunks.size()), chunks));
        }
        SnapshotStats stats = new SnapshotStats(files, directories + (Files.isDirectory(source) ? 1 : 0), totalBytes,
                bytesRead.get(), newBytes.get(), newChunks.get(), reusedChunks.get(), unchanged,
                Duration.ofNanos(System.nanoTime() - startNanos));
        List<SnapshotEntry> views = entries.stream().map(Manifest.Entry::entry).toList();
        Snapshot snapshot = new Snapshot(id, start, ctx.options().host(), source.toAbsolutePath().normalize().toString(),
                options.tags(), options.labels(), parent.map(p -> p.snapshot().id()), views, stats);
        return new Manifest(snapshot, entries);
    }

    private List<Found> scan() {
        List<Found> found = new ArrayList<>();
        try {
            BasicFileAttributes rootAttrs = Files.readAttributes(source, BasicFileAttributes.class);
            if (rootAttrs.isRegularFile()) {
                found.add(new Found(source.getFileName().toString(), source, false, rootAttrs.size(),
                        rootAttrs.lastModifiedTime().toInstant(), mode(source)));
                return found;
            }
            if (!rootAttrs.isDirectory()) {
                throw new Dr4jException("cannot back up " + source + ": not a regular file or directory");
            }
            Files.walkFileTree(source, EnumSet.of(FileVisitOption.FOLLOW_LINKS), Integer.MAX_VALUE, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                    if (!dir.equals(source)) {
                        found.add(new Found(relative(dir), dir, true, 0, attrs.lastModifiedTime().toInstant(), mode(dir)));
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    if (attrs.isRegularFile()) {
                        found.add(new Found(relative(file), file, false, attrs.size(), attrs.lastModifiedTime().toInstant(),
                                mode(file)));
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    if (e instanceof FileSystemLoopException) {
                        throw new Dr4jException("cannot back up " + source + ": symbolic link loop at " + file, e);
                    }
                    if (e instanceof NoSuchFileException && Files.isSymbolicLink(file)) {
                        throw new Dr4jException("cannot back up " + source + ": dangling symbolic link " + file, e);
                    }
                    throw e;
                }
            });
        } catch (NoSuchFileException e) {
            throw new Dr4jException("cannot back up " + source + ": no such file or directory", e);
        } catch (IOException e) {
            throw new Dr4jException("cannot back up " + source + ": " + e, e);
        }
        found.sort(Comparator.comparing(Found::path));
        return found;
    }

    private String relative(Path p) {
        StringBuilder sb = new StringBuilder();
        for (Path part : source.relativize(p)) {
            if (sb.length() > 0) {
                sb.append('/');
            }
            sb.append(part);
        }
        return sb.toString();
    }

    private static Optional<Integer> mode(Path p) throws IOException {
        PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class);
        if (view == null) {
            return Optional.empty();
        }
        Set<PosixFilePermission> perms = view.readAttributes().permissions();
        int mode = 0;
        for (PosixFilePermission perm : perms) {
            mode |= 1 << (8 - perm.ordinal());
        }
        return Optional.of(mode);
    }

    /** The chunks of one file being read. */
    private final class FileJob {
        final Found found;
        final List<CompletableFuture<ChunkRef>> futures = new ArrayList<>();
        /** Chunks not yet stored, plus one while the reader is still reading. */
        final AtomicInteger pending = new AtomicInteger(1);
        long read;

        FileJob(Found found) {
            this.found = found;
        }

        List<ChunkRef> chunks() {
            return futures.stream().map(CompletableFuture::join).toList();
        }
    }

    private void runJobs(List<FileJob> jobs) {
        if (jobs.isEmpty()) {
            return;
        }
        int readers = Math.max(1, Math.min(jobs.size(), ctx.options().workers()));
        ExecutorService readerPool = Executors.newFixedThreadPool(readers, r -> {
            Thread t = new Thread(r, "dr4j-backup-reader");
            t.setDaemon(true);
            return t;
        });
        List<CompletableFuture<Void>> readerFutures = new ArrayList<>();
        AtomicInteger next = new AtomicInteger();
        try {
            for (int i = 0; i < readers; i++) {
                readerFutures.add(CompletableFuture.runAsync(() -> {
                    FileChunker chunker = new FileChunker(ctx.chunker());
                    for (int j; (j = next.getAndIncrement()) < jobs.size() && !pipeline.stopped(); ) {
                        read(jobs.get(j), chunker);
                    }
                }, readerPool).whenComplete((v, e) -> {
                    if (e != null) {
                        pipeline.fail(e);
                    }
                }));
            }
            pipeline.awaitAll(readerFutures);
            List<CompletableFuture<ChunkRef>> all = new ArrayList<>();
            jobs.forEach(j -> all.addAll(j.futures));
            pipeline.awaitAll(all);
        } finally {
            readerPool.shutdownNow();
        }
    }

    private void read(FileJob job, FileChunker chunker) {
        try (FileChannel channel = FileChannel.open(job.found.file(), StandardOpenOption.READ)) {
            chunker.chunk(channel, (buffer, offset, length, position) -> {
                pipeline.checkRunning();
                pipeline.acquire(length);
                job.futures.add(submit(Arrays.copyOfRange(buffer, offset, offset + length), job));
                job.read += length;
                bytesRead.addAndGet(length);
            }, () -> false);
        } catch (NoSuchFileException e) {
            throw new Dr4jException("cannot back up " + job.found.file() + ": it was deleted during the backup", e);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + job.found.file() + " failed: " + e.getMessage(), e);
        }
        chunkDone(job);
    }

    private void chunkDone(FileJob job) {
        if (job.pending.decrementAndGet() == 0 && !pipeline.stopped()) {
            options.progress().onFileDone(Path.of(job.found.path()), job.found.size());
        }
    }

    private record Sealed(ChunkRef ref, byte[] body) {
    }

    private CompletableFuture<ChunkRef> submit(byte[] chunk, FileJob job) {
        int length = chunk.length;
        job.pending.incrementAndGet();
        return CompletableFuture.supplyAsync(() -> {
            if (pipeline.stopped()) {
                throw new java.util.concurrent.CancellationException("stopped");
            }
            ChunkId id = ctx.crypto().chunkId(chunk, 0, length);
            ChunkRef ref = new ChunkRef(id, length);
            if (!known.claim(id)) {
                reusedChunks.incrementAndGet();
                return new Sealed(ref, null);
            }
            return new Sealed(ref, ctx.crypto().sealChunk(id, chunk, 0, length, ctx.config().compressionLevel()));
        }, ctx.cpu()).thenApplyAsync(sealed -> {
            if (sealed.body() != null) {
                if (pipeline.stopped()) {
                    throw new java.util.concurrent.CancellationException("stopped");
                }
                try {
                    ctx.store().put(sealed.ref().id().key(), sealed.body());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                newChunks.incrementAndGet();
                newBytes.addAndGet(sealed.body().length);
            }
            return sealed.ref();
        }, ctx.io()).whenComplete((ref, e) -> {
            pipeline.release(length);
            if (e != null) {
                pipeline.fail(e);
            } else {
                options.progress().onProgress(bytesDone.addAndGet(length), bytesToRead);
                chunkDone(job);
            }
        });
    }
}
