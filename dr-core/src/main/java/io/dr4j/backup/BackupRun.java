package io.dr4j.backup;

import io.dr4j.Dr4jException;
import io.dr4j.backup.Manifest.ChunkRef;
import io.dr4j.backup.SourceScan.Found;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One backup: scan the source ({@link SourceScan}), then read → chunk → hash → (dedup) → seal into a pack → store,
 * in parallel, and finally the index file(s) and the manifest. Write order is packs, then the
 * index file naming them, then (by the caller) the manifest: a backup that dies leaves packs no
 * index names or an index no manifest uses, both harmless garbage that prune removes.
 *
 * <p>Readers (one per file at a time, up to {@code workers}) cut files sequentially; each chunk
 * is copied from the read buffer into a pooled chunk buffer and handed to the CPU pool, which
 * hashes it, claims it in the index (deduplication, also within the run) and seals a new chunk
 * straight into one of at most {@code min(workers, 4)} open pack buffers. A full pack goes to
 * the I/O pool as one {@code put}; every {@link IndexFile#PACKS_PER_FILE} packs an index file is
 * written, so the next backup reuses the work of one that died.
 *
 * <p><b>Memory</b> is fixed by configuration: {@link #chunkBuffers} chunk buffers of the maximum
 * chunk size, {@code min(workers, 4) + 2} pack buffers of the pack size (plus room for one
 * chunk and the header), and a read buffer of twice the maximum chunk size per reader; all
 * allocated once per run and reused, nothing chunk-sized is allocated per chunk.
 *
 * <p><b>Model weights.</b> Each file is first offered to {@link SafetensorsHeader#tryParse}; a
 * file whose header parses is cut on tensor boundaries ({@link FileChunker}), and each of its
 * chunks carries the {@link SafetensorsHeader#codecHint} of its range, which the sealer uses for
 * the {@link TensorCodec} when the repository has it on. A header that does not parse only means
 * the file is handled as plain bytes: the backup never fails on it. The hint also sorts the
 * run's per-dtype figures ({@link SnapshotStats#byDtype()}).
 */
final class BackupRun {

    private static final Logger LOG = LoggerFactory.getLogger(BackupRun.class);

    private final Context ctx;
    private final Path source;
    private final BackupOptions options;
    private final Optional<Manifest> parent;
    private final RepositoryIndex index;
    private final Pipeline pipeline;
    private final BufferPool chunkPool;
    private final BufferPool packPool;
    private final java.util.concurrent.BlockingQueue<PackWriter> openPacks;
    private final List<IndexFile.PackEntry> unindexed = new ArrayList<>();
    private final List<CompletableFuture<Void>> uploads = java.util.Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong bytesRead = new AtomicLong();
    private final AtomicLong bytesDone = new AtomicLong();
    private final AtomicLong newBytes = new AtomicLong();
    private final AtomicLong newChunks = new AtomicLong();
    private final AtomicLong reusedChunks = new AtomicLong();
    private final AtomicLong objectsWritten = new AtomicLong();
    /** Per {@link TensorCodec.Dtype} ordinal: plain bytes read, sealed bytes stored. */
    private final AtomicLongArray dtypeRead = new AtomicLongArray(TensorCodec.Dtype.values().length);
    private final AtomicLongArray dtypeStored = new AtomicLongArray(TensorCodec.Dtype.values().length);
    private long bytesToRead;
    private final ExcludeMatcher exclude;
    /** Files and directories the scan skipped because an exclude pattern matched them (a directory's subtree is not walked). */
    private long excludedFiles;

    /** Loads the repository's index (what is already stored) and prepares a backup of {@code source}. */
    public static BackupRun start(Context ctx, Path source, BackupOptions options, Optional<Manifest> parent) throws IOException {
        return new BackupRun(ctx, source, options, parent, RepositoryIndex.load(ctx).forgetMissingPacks());
    }

    BackupRun(Context ctx, Path source, BackupOptions options, Optional<Manifest> parent, RepositoryIndex index) {
        this.ctx = ctx;
        this.source = source;
        this.options = options;
        this.parent = parent;
        this.index = index;
        this.exclude = ExcludeMatcher.of(options.excludes());
        this.pipeline = new Pipeline(Long.MAX_VALUE, options.cancellation(), "backup of " + source);
        int workers = ctx.options().workers();
        this.chunkPool = new BufferPool(ctx.chunkBufferSize(), chunkBuffers(ctx));
        int writers = Math.min(workers, 4);
        this.packPool = new BufferPool(ctx.packBufferSize(), writers + 2);
        this.openPacks = new java.util.concurrent.ArrayBlockingQueue<>(writers);
        for (int i = 0; i < writers; i++) {
            openPacks.add(new PackWriter(packPool.take(() -> false), ctx.config().packSize(),
                    Crypto.maxSealedLength(ctx.maxChunk())));
        }
    }

    /** Chunk buffers: enough to keep every CPU worker busy, within the in-flight budget. */
    static int chunkBuffers(Context ctx) {
        long byBudget = ctx.options().inFlightBytes() / ctx.chunkBufferSize();
        return (int) Math.max(2, Math.min(byBudget, 4L * ctx.options().workers() + 4));
    }

    /** Objects this run wrote (packs and index files). */
    public long objectsWritten() {
        return objectsWritten.get();
    }

    /** Runs the backup and returns the manifest it stored. */
    public Manifest run(SnapshotId id, Instant start) {
        long startNanos = System.nanoTime();
        List<Found> found = scan();
        if (!exclude.isEmpty() && !options.allowEmpty() && excludedFiles > 0
                && found.stream().noneMatch(f -> !f.directory())) {
            throw new IllegalArgumentException("the exclude patterns " + exclude + " match every file of " + source
                    + ": the snapshot would be empty (allow that with BackupOptions.allowEmpty, --allow-empty); "
                    + "nothing was written");
        }
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
                    && previous.entry().mode().equals(f.mode()) && allStored(previous)) {
                unchanged++;
                reusedChunks.addAndGet(previous.chunks().size());
            } else {
                jobs.add(new FileJob(f));
                bytesToRead += f.size();
            }
        }
        options.progress().onProgress(0, bytesToRead);
        try {
            runJobs(jobs);
            flushPacks();
        } catch (RuntimeException e) {
            pipeline.fail(e);
            drainUploads(); // nothing of this run writes after it returns
            throw e;
        }

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
                Duration.ofNanos(System.nanoTime() - startNanos), dtypeStats());
        List<SnapshotEntry> views = entries.stream().map(Manifest.Entry::entry).toList();
        Snapshot snapshot = new Snapshot(id, start, ctx.options().host(), source.toAbsolutePath().normalize().toString(),
                options.tags(), options.labels(), parent.map(p -> p.snapshot().id()), views, stats, options.excludes());
        return new Manifest(snapshot, entries);
    }

    /** The per-dtype figures of the bytes read in this run, keyed by dtype name ({@code other} for the rest). */
    private Map<String, SnapshotStats.DtypeStats> dtypeStats() {
        Map<String, SnapshotStats.DtypeStats> out = new HashMap<>();
        for (TensorCodec.Dtype d : TensorCodec.Dtype.values()) {
            long read = dtypeRead.get(d.ordinal());
            if (read > 0) {
                out.put(d == TensorCodec.Dtype.OTHER ? "other" : d.name(),
                        new SnapshotStats.DtypeStats(read, dtypeStored.get(d.ordinal())));
            }
        }
        return out;
    }

    /**
     * Whether every chunk of a parent's file is still in a pack the store holds: an unchanged file
     * is only skipped when its old chunk list can still be restored, so a lost pack heals with the
     * next backup instead of being referenced again.
     */
    private boolean allStored(Manifest.Entry previous) {
        for (ChunkRef c : previous.chunks()) {
            int e = index.chunks.find(c.id());
            if (e < 0 || index.chunks.pack(e) == ChunkIndex.PENDING) {
                return false;
            }
        }
        return true;
    }

    private List<Found> scan() {
        SourceScan scan = new SourceScan(source, exclude);
        List<Found> found = scan.run();
        excludedFiles = scan.excluded();
        return found;
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
            SafetensorsHeader header = safetensorsHeader(channel, job.found.file());
            boolean encode = ctx.config().tensorCodec();
            chunker.chunk(channel, header, (buffer, offset, length, position) -> {
                pipeline.checkRunning();
                SafetensorsHeader.CodecHint hint = header == null ? null : header.codecHint(position, position + length);
                byte[] chunk = chunkPool.take(pipeline::stopped);
                System.arraycopy(buffer, offset, chunk, 0, length);
                job.futures.add(submit(chunk, length, job, hint, encode));
                job.read += length;
                bytesRead.addAndGet(length);
                dtypeRead.addAndGet(ordinal(hint), length);
            }, () -> false);
        } catch (NoSuchFileException e) {
            throw new Dr4jException("cannot back up " + job.found.file() + ": it was deleted during the backup", e);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + job.found.file() + " failed: " + e.getMessage(), e);
        }
        chunkDone(job);
    }

    /**
     * The file's safetensors header ({@link SafetensorsHeader#parse}, which is {@code tryParse}
     * plus the reason for a refusal, for the debug log), or null if it has none that parses. Never fails the backup
     * for the header's sake: a hostile or damaged header (or one the parser cannot read for any
     * reason but I/O) means the file is backed up as plain bytes.
     */
    static SafetensorsHeader safetensorsHeader(FileChannel channel, Path file) throws IOException {
        try {
            return SafetensorsHeader.parse(channel);
        } catch (RuntimeException e) {
            // most files are not safetensors at all; the message says which check failed
            LOG.debug("{}: handled as plain bytes: {}", file, e.getMessage());
            return null;
        }
    }

    private static int ordinal(SafetensorsHeader.CodecHint hint) {
        return (hint == null ? TensorCodec.Dtype.OTHER : hint.dtype()).ordinal();
    }

    private void chunkDone(FileJob job) {
        if (job.pending.decrementAndGet() == 0 && !pipeline.stopped()) {
            options.progress().onFileDone(Path.of(job.found.path()), job.found.size());
        }
    }

    /**
     * @param hint the chunk's dtype, or null outside safetensors data
     * @param encode whether the hint goes to the sealer (the repository's tensor codec switch)
     */
    private CompletableFuture<ChunkRef> submit(byte[] chunk, int length, FileJob job, SafetensorsHeader.CodecHint hint,
            boolean encode) {
        job.pending.incrementAndGet();
        CompletableFuture<ChunkRef> future;
        try {
            future = CompletableFuture.supplyAsync(() -> {
                try {
                    if (pipeline.stopped()) {
                        throw new java.util.concurrent.CancellationException("stopped");
                    }
                    ChunkId id = ctx.crypto().chunkId(chunk, 0, length);
                    if (index.chunks.claim(id)) {
                        int sealed = store(id, chunk, length, encode ? hint : null);
                        dtypeStored.addAndGet(ordinal(hint), sealed);
                    } else {
                        reusedChunks.incrementAndGet();
                    }
                    return new ChunkRef(id, length);
                } finally {
                    chunkPool.give(chunk);
                }
            }, ctx.cpu());
        } catch (java.util.concurrent.RejectedExecutionException e) {
            chunkPool.give(chunk);
            throw new OperationCancelledException("backup of " + source + " stopped: the repository was closed", e);
        }
        return future.whenComplete((ref, e) -> {
            if (e != null) {
                pipeline.fail(e);
            } else {
                options.progress().onProgress(bytesDone.addAndGet(length), bytesToRead);
                chunkDone(job);
            }
        });
    }

    /** Seals a new chunk into an open pack and returns its sealed length; hands a full pack to the uploader. */
    private int store(ChunkId id, byte[] chunk, int length, SafetensorsHeader.CodecHint hint) {
        PackWriter writer = takeWriter();
        PackWriter full = null;
        int sealed;
        try {
            sealed = writer.append(ctx.crypto(), id, chunk, 0, length, ctx.config().compressionLevel(), hint);
            newChunks.incrementAndGet();
            newBytes.addAndGet(sealed);
            if (writer.full()) {
                full = writer;
                writer = new PackWriter(packPool.take(pipeline::stopped), ctx.config().packSize(),
                        Crypto.maxSealedLength(ctx.maxChunk()));
            }
        } finally {
            openPacks.add(writer);
        }
        if (full != null) {
            upload(full);
        }
        return sealed;
    }

    private PackWriter takeWriter() {
        try {
            while (true) {
                PackWriter w = openPacks.poll(100, TimeUnit.MILLISECONDS);
                if (w != null) {
                    return w;
                }
                pipeline.checkRunning();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OperationCancelledException("backup of " + source + " was interrupted");
        }
    }

    private void upload(PackWriter pack) {
        uploads.add(pipeline.submit(ctx.io(), () -> {
            newBytes.addAndGet(pack.store(ctx.crypto(), ctx.store()));
            objectsWritten.incrementAndGet();
            packWritten(new IndexFile.PackEntry(pack.packId, List.copyOf(pack.blobs())));
        }, () -> packPool.give(pack.buffer)));
    }

    /** Records a stored pack; writes an index file once enough packs wait for one. */
    private void packWritten(IndexFile.PackEntry entry) throws IOException {
        List<IndexFile.PackEntry> batch = null;
        synchronized (unindexed) {
            unindexed.add(entry);
            if (unindexed.size() >= IndexFile.PACKS_PER_FILE) {
                batch = new ArrayList<>(unindexed);
                unindexed.clear();
            }
        }
        if (batch != null) {
            writeIndex(batch);
        }
    }

    private void writeIndex(List<IndexFile.PackEntry> packs) throws IOException {
        byte[] id = Crypto.randomBytes(PackFormat.ID_LENGTH);
        byte[] sealed = ctx.crypto().sealObject(IndexFile.DOMAIN, id, false, IndexFile.encode(packs));
        ctx.store().put(IndexFile.key(id), sealed);
        LocalCache.write(ctx.cache("index"), IndexFile.key(id).name(), sealed);
        objectsWritten.incrementAndGet();
        newBytes.addAndGet(sealed.length);
    }

    private void drainUploads() {
        List<CompletableFuture<Void>> all;
        synchronized (uploads) {
            all = new ArrayList<>(uploads);
        }
        for (CompletableFuture<Void> f : all) {
            try {
                f.join();
            } catch (RuntimeException ignored) {
                // the first failure is what the caller sees
            }
        }
    }

    /** Closes the partly filled packs, waits for every upload, and indexes what is not yet indexed. */
    private void flushPacks() {
        List<PackWriter> writers = new ArrayList<>();
        openPacks.drainTo(writers);
        for (PackWriter w : writers) {
            if (w.isEmpty()) {
                packPool.give(w.buffer);
            } else if (!pipeline.stopped()) {
                upload(w);
            }
        }
        List<CompletableFuture<Void>> all;
        synchronized (uploads) {
            all = new ArrayList<>(uploads);
        }
        pipeline.awaitAll(all);
        List<IndexFile.PackEntry> rest;
        synchronized (unindexed) {
            rest = new ArrayList<>(unindexed);
            unindexed.clear();
        }
        if (!rest.isEmpty()) {
            try {
                writeIndex(rest);
            } catch (IOException e) {
                throw new Dr4jException("backup of " + source + " failed writing its index: " + e.getMessage(), e);
            }
        }
    }
}
