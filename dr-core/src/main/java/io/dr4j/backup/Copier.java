package io.dr4j.backup;

import io.dr4j.Dr4jException;
import io.dr4j.backup.Manifest.ChunkRef;
import io.dr4j.storage.BlobKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Copies snapshots from one repository into another with its own keys: every chunk the
 * destination lacks is read from its source pack (one ranged read covering the pack's needed
 * blobs, as a restore reads), authenticated, re-hashed under the destination's key (a chunk id
 * is a keyed hash, so it changes), sealed under the destination's key into destination packs,
 * and the manifests are rewritten with the destination's chunk ids. Write order is that of a
 * backup: packs, then index files and {@link CopyMap copy maps}, and the manifests last (by the
 * caller), so a copy that dies leaves the destination valid.
 *
 * <p><b>Incremental.</b> The copy maps the destination holds for this source say which source
 * chunks earlier copies already stored (as which destination chunk); those are neither read
 * nor written again. A chunk not in a map is read, and written only if its destination id is
 * new (the destination may hold it from a backup of its own). Index files and maps are flushed
 * every {@link IndexFile#PACKS_PER_FILE} packs, and on cancellation or failure for every pack
 * already stored, so a copy that is stopped resumes with only the packs that were being filled.
 *
 * <p><b>Codec.</b> The plaintext is always recovered (its destination id needs it) and sealed
 * by the destination's rules: a chunk the source stored with the tensor codec is encoded again
 * with the same dtype and phase when the destination has the codec on, and is otherwise
 * offered to zstd at the destination's level, as every other chunk is.
 *
 * <p>Chunk boundaries stay the source's: a source chunk becomes one destination chunk. Not
 * thread-safe: one run per instance.
 */
final class Copier {

    private final Context source;
    private final Context destination;
    private final ProgressListener progress;
    private final Pipeline pipeline;
    private final String operation;
    private final AtomicLong bytesRead = new AtomicLong();
    private final AtomicLong bytesWritten = new AtomicLong();
    private final AtomicLong chunksCopied = new AtomicLong();
    private final AtomicLong chunksPresent = new AtomicLong();
    private final AtomicLong storeReads = new AtomicLong();
    private final AtomicLong objectsWritten = new AtomicLong();
    private final AtomicLong done = new AtomicLong();
    private final List<IndexFile.PackEntry> unindexed = new ArrayList<>();
    /** Pairs (source id, destination id) learned since the last map was written. */
    private final List<ChunkId[]> unmapped = new ArrayList<>();
    private final List<CompletableFuture<Void>> uploads = Collections.synchronizedList(new ArrayList<>());
    private RepositoryIndex sourceIndex;
    private RepositoryIndex destinationIndex;
    private Map<ChunkId, ChunkId> map;
    private BufferPool packPool;
    private BufferPool plainPool;
    private BlockingQueue<PackWriter> openPacks;
    private long total;

    /** What a run did. */
    public record Result(List<Manifest> manifests, long chunksCopied, long chunksPresent, long chunksSkipped,
            long bytesRead, long bytesWritten, long storeReads, long objectsWritten) {
    }

    public Copier(Context source, Context destination, CancellationToken cancellation, ProgressListener progress) {
        this.source = source;
        this.destination = destination;
        this.progress = progress;
        this.operation = "copy from " + source.store().name() + " to " + destination.store().name();
        this.pipeline = new Pipeline(Long.MAX_VALUE, cancellation, operation);
    }

    /** A source chunk to copy: where it is in its pack, and a snapshot path that uses it, for messages. */
    private record Needed(ChunkId id, int offset, int length, int plainLength) {
    }

    /** A ranged read of one source pack covering some of its needed blobs. */
    private record Range(int pack, long start, int length, List<Needed> blobs) {
    }

    /**
     * Stores every chunk of {@code manifests} the destination lacks and returns the manifests
     * rewritten for the destination (not yet stored: the caller writes them, last).
     */
    public Result run(List<Manifest> manifests) {
        try {
            destinationIndex = RepositoryIndex.load(destination).forgetMissingPacks();
            map = new ConcurrentHashMap<>(CopyMap.load(destination, source.config().id(), destinationIndex.chunks));
            Map<ChunkId, String> wanted = new LinkedHashMap<>();
            long skipped = 0;
            for (Manifest m : manifests) {
                for (Manifest.Entry e : m.entries()) {
                    for (ChunkRef c : e.chunks()) {
                        if (map.containsKey(c.id())) {
                            skipped++;
                        } else if (!wanted.containsKey(c.id())) {
                            wanted.put(c.id(), "'" + e.entry().path() + "' of snapshot " + m.snapshot().id().shortId());
                            total += c.length();
                        }
                    }
                }
            }
            progress.onProgress(0, total);
            if (!wanted.isEmpty()) {
                sourceIndex = RepositoryIndex.load(source);
                copyChunks(plan(wanted));
            }
            List<Manifest> rewritten = new ArrayList<>(manifests.size());
            for (Manifest m : manifests) {
                rewritten.add(rewrite(m));
            }
            return new Result(rewritten, chunksCopied.get(), chunksPresent.get(), skipped, bytesRead.get(),
                    bytesWritten.get(), storeReads.get(), objectsWritten.get());
        } catch (IOException e) {
            throw new Dr4jException(operation + " failed: " + e.getMessage(), e);
        }
    }

    /** The source ranges to read, grouped by pack, packs in order of first use. */
    private List<Range> plan(Map<ChunkId, String> wanted) {
        Map<Integer, List<Needed>> byPack = new LinkedHashMap<>();
        for (Map.Entry<ChunkId, String> w : wanted.entrySet()) {
            ChunkId id = w.getKey();
            int e = sourceIndex.chunks.find(id);
            if (e < 0 || sourceIndex.chunks.pack(e) == ChunkIndex.PENDING || !sourceIndex.present(sourceIndex.chunks.pack(e))) {
                throw new CorruptObjectException(source.store().name() + ": chunk " + id + " of " + w.getValue()
                        + " is in no index file, or its pack is missing" + sourceIndex.whyMissing()
                        + "; nothing was copied (repair or forget that snapshot, or copy the others)");
            }
            if (sourceIndex.chunks.plainLength(e) > destination.maxChunk()) {
                throw new Dr4jException(operation + ": chunk " + id + " of " + w.getValue() + " has "
                        + sourceIndex.chunks.plainLength(e) + " bytes, more than the destination's largest chunk ("
                        + destination.maxChunk() + "); nothing was copied");
            }
            byPack.computeIfAbsent(sourceIndex.chunks.pack(e), k -> new ArrayList<>()).add(new Needed(id,
                    sourceIndex.chunks.offset(e), sourceIndex.chunks.length(e), sourceIndex.chunks.plainLength(e)));
        }
        List<Range> ranges = new ArrayList<>();
        for (Map.Entry<Integer, List<Needed>> p : byPack.entrySet()) {
            ranges.addAll(ranges(p.getKey(), p.getValue(), source.packBufferSize()));
        }
        return ranges;
    }

    /** Largest gap between two needed blobs that one ranged read spans rather than splitting in two (as a restore). */
    private static final int MAX_GAP = 1 << 20;

    private static List<Range> ranges(int pack, List<Needed> blobs, int maxLength) {
        return RangePlanner.plan(blobs, Needed::offset, Needed::length, MAX_GAP, maxLength).stream()
                .map(g -> new Range(pack, g.start(), g.length(), g.blobs())).toList();
    }

    private void copyChunks(List<Range> ranges) {
        int writers = Math.max(1, Math.min(destination.options().workers(), 4));
        packPool = new BufferPool(destination.packBufferSize(), writers + 2);
        openPacks = new ArrayBlockingQueue<>(writers);
        for (int i = 0; i < writers; i++) {
            openPacks.add(newWriter(() -> false));
        }
        BufferPool rangePool = new BufferPool(source.packBufferSize(), PackFetch.rangeBuffers(source));
        int plainSize = Math.max(source.chunkBufferSize(), destination.chunkBufferSize());
        plainPool = new BufferPool(plainSize, rangePool.capacity());
        List<CompletableFuture<Void>> reads = new ArrayList<>();
        try {
            for (Range range : ranges) {
                reads.add(pipeline.submitRange(source.io(), rangePool, plainPool,
                        (buffer, plain) -> copyRange(range, buffer, plain)));
            }
            pipeline.awaitAll(reads);
            flushPacks();
        } catch (RuntimeException e) {
            pipeline.fail(e);
            drain(reads);
            drain(snapshotOf(uploads));
            // what is stored stays useful: index it (and map it) so the next run does not redo it
            try {
                flushIndex();
            } catch (IOException | RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private PackWriter newWriter(java.util.function.BooleanSupplier stop) {
        return new PackWriter(packPool.take(stop), destination.config().packSize(),
                Crypto.maxSealedLength(destination.maxChunk()));
    }

    private void copyRange(Range range, byte[] buffer, byte[] plain) {
        BlobKey key = PackFormat.key(sourceIndex.chunks.packId(range.pack()));
        boolean[] copied = new boolean[range.blobs().size()];
        AtomicReference<CorruptObjectException> rejected = new AtomicReference<>();
        SafetensorsHeader.CodecHint[] hint = new SafetensorsHeader.CodecHint[1];
        try {
            storeReads.incrementAndGet();
            source.store().readVerified(key, range.start(), ByteBuffer.wrap(buffer, 0, range.length()), view -> {
                boolean ok = true;
                for (int i = 0; i < copied.length; i++) {
                    if (copied[i] || pipeline.stopped()) {
                        continue; // a retry from another copy: what passed is already stored
                    }
                    Needed n = range.blobs().get(i);
                    int length;
                    try {
                        length = source.crypto().openChunkInto(n.id(), buffer, (int) (n.offset() - range.start()), n.length(),
                                source.maxChunk(), plain, "", hint);
                        if (length != n.plainLength()) {
                            throw new CorruptObjectException(": holds " + length + " bytes, the index says " + n.plainLength());
                        }
                    } catch (CorruptObjectException failed) {
                        rejected.compareAndSet(null, new CorruptObjectException(source.where(key) + " blob at offset "
                                + n.offset() + " (chunk " + n.id().hex().substring(0, 16) + "…)" + failed.getMessage(), failed));
                        ok = false;
                        continue;
                    }
                    store(n.id(), plain, length, hint[0]);
                    bytesRead.addAndGet(n.length());
                    progress.onProgress(done.addAndGet(length), total);
                    copied[i] = true;
                }
                return ok;
            });
        } catch (NoSuchFileException e) {
            throw new CorruptObjectException(source.where(key) + ": pack is missing; nothing more was copied", e);
        } catch (java.io.EOFException e) {
            throw new CorruptObjectException(source.where(key) + ": pack is truncated: it ends inside bytes [" + range.start()
                    + ", " + (range.start() + range.length()) + ") that the index places in it", e);
        } catch (io.dr4j.storage.PermanentBlobStoreException e) {
            if (rejected.get() != null) {
                throw new CorruptObjectException(rejected.get().getMessage() + "; the copy stopped", e);
            }
            throw new UncheckedIOException(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Names a source chunk under the destination's key and seals it into a destination pack if the destination lacks it. */
    private void store(ChunkId sourceId, byte[] plain, int length, SafetensorsHeader.CodecHint hint) {
        ChunkId id = destination.crypto().chunkId(plain, 0, length);
        if (destinationIndex.chunks.claim(id)) {
            PackWriter writer = takeWriter();
            PackWriter full = null;
            try {
                int sealed = writer.append(destination.crypto(), id, plain, 0, length, destination.config().compressionLevel(),
                        destination.config().tensorCodec() ? hint : null);
                bytesWritten.addAndGet(sealed);
                chunksCopied.incrementAndGet();
                if (writer.full()) {
                    full = writer;
                    writer = newWriter(pipeline::stopped);
                }
            } finally {
                openPacks.add(writer);
            }
            if (full != null) {
                upload(full);
            }
        } else {
            chunksPresent.incrementAndGet();
        }
        map.put(sourceId, id);
        synchronized (unindexed) {
            unmapped.add(new ChunkId[] {sourceId, id});
        }
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
            throw new OperationCancelledException(operation + " was interrupted");
        }
    }

    private void upload(PackWriter pack) {
        uploads.add(pipeline.submit(destination.io(), () -> {
            bytesWritten.addAndGet(pack.store(destination.crypto(), destination.store()));
            objectsWritten.incrementAndGet();
            packWritten(new IndexFile.PackEntry(pack.packId, List.copyOf(pack.blobs())));
        }, () -> packPool.give(pack.buffer)));
    }

    private void packWritten(IndexFile.PackEntry entry) throws IOException {
        boolean flush;
        synchronized (unindexed) {
            unindexed.add(entry);
            flush = unindexed.size() >= IndexFile.PACKS_PER_FILE;
        }
        if (flush) {
            flushIndex();
        }
    }

    /** Writes an index file for the stored packs not yet indexed, then the map of the pairs learned so far. */
    private void flushIndex() throws IOException {
        List<IndexFile.PackEntry> packs;
        List<ChunkId[]> pairs;
        synchronized (unindexed) {
            packs = new ArrayList<>(unindexed);
            pairs = new ArrayList<>(unmapped);
            unindexed.clear();
            unmapped.clear();
        }
        if (!packs.isEmpty()) {
            byte[] id = Crypto.randomBytes(PackFormat.ID_LENGTH);
            byte[] sealed = destination.crypto().sealObject(IndexFile.DOMAIN, id, false, IndexFile.encode(packs));
            destination.store().put(IndexFile.key(id), sealed);
            LocalCache.write(destination.cache("index"), IndexFile.key(id).name(), sealed);
            objectsWritten.incrementAndGet();
            bytesWritten.addAndGet(sealed.length);
        }
        if (!pairs.isEmpty()) {
            CopyMap.write(destination, source.config().id(), pairs);
            objectsWritten.incrementAndGet();
        }
    }

    /** Uploads the partly filled packs, waits for every upload, and indexes and maps the rest. */
    private void flushPacks() {
        List<PackWriter> writers = new ArrayList<>();
        openPacks.drainTo(writers);
        for (PackWriter w : writers) {
            if (w.isEmpty()) {
                packPool.give(w.buffer);
            } else {
                upload(w);
            }
        }
        pipeline.awaitAll(snapshotOf(uploads));
        try {
            flushIndex();
        } catch (IOException e) {
            throw new Dr4jException(operation + " failed writing its index: " + e.getMessage(), e);
        }
    }

    private static List<CompletableFuture<Void>> snapshotOf(List<CompletableFuture<Void>> futures) {
        synchronized (futures) {
            return new ArrayList<>(futures);
        }
    }

    private static void drain(List<CompletableFuture<Void>> futures) {
        for (CompletableFuture<Void> f : futures) {
            try {
                f.join();
            } catch (RuntimeException ignored) {
                // the first failure is what the caller sees
            }
        }
    }

    /** The manifest with destination chunk ids (and so destination file hashes); everything else as in the source. */
    private Manifest rewrite(Manifest m) {
        List<Manifest.Entry> entries = new ArrayList<>(m.entries().size());
        for (Manifest.Entry e : m.entries()) {
            if (e.entry().type() != SnapshotEntry.Type.FILE) {
                entries.add(e);
                continue;
            }
            List<ChunkRef> chunks = new ArrayList<>(e.chunks().size());
            for (ChunkRef c : e.chunks()) {
                ChunkId id = map.get(c.id());
                if (id == null) {
                    throw new IllegalStateException("chunk " + c.id() + " of '" + e.entry().path() + "' was not copied");
                }
                chunks.add(new ChunkRef(id, c.length()));
            }
            SnapshotEntry se = e.entry();
            entries.add(new Manifest.Entry(new SnapshotEntry(se.path(), se.type(), se.size(), se.mode(), se.modified(),
                    Optional.of(Manifest.fileHash(se.size(), chunks)), chunks.size()), chunks));
        }
        Snapshot s = m.snapshot();
        Snapshot copy = new Snapshot(s.id(), s.time(), s.host(), s.source(), s.tags(), s.labels(), s.parent(),
                entries.stream().map(Manifest.Entry::entry).toList(), s.stats());
        return new Manifest(copy, entries);
    }
}
