package io.dr4j.backup;

import io.dr4j.backup.RestoredFile.Use;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The store half of a {@link RestoreRun}: the chunks it needs, grouped by pack and fetched in
 * ranged reads planned by {@link RangePlanner}, each blob authenticated (inside
 * {@link io.dr4j.storage.BlobStore#readVerified}) before its plaintext goes to a {@link Sink}.
 * Buffers come from pools sized by the in-flight budget. One instance per restore; its methods
 * are called from the restore's thread, its work runs on the repository's executors.
 */
final class PackFetch {

    /** Where authenticated plaintext goes: every place that uses the chunk. */
    interface Sink {
        void write(List<Use> uses, byte[] plain, int length) throws IOException;
    }

    /** A blob to fetch: its place in its pack and where its plaintext goes. */
    private record Needed(ChunkId id, int offset, int length, int plainLength, List<Use> uses) {
    }

    /** A ranged read of one pack covering some of its needed blobs. */
    private record Range(int pack, long start, int length, List<Needed> blobs) {
    }

    /** Largest gap between two needed blobs that one ranged read spans rather than splitting in two. */
    private static final int MAX_GAP = 1 << 20;

    private final Context ctx;
    private final Manifest manifest;
    private final RepositoryIndex index;
    private final Pipeline pipeline;
    private final Sink sink;
    private final AtomicLong downloaded = new AtomicLong();
    private final AtomicLong storeReads = new AtomicLong();
    private BufferPool plainPool;

    PackFetch(Context ctx, Manifest manifest, RepositoryIndex index, Pipeline pipeline, Sink sink) {
        this.ctx = ctx;
        this.manifest = manifest;
        this.index = index;
        this.pipeline = pipeline;
        this.sink = sink;
    }

    /** Plaintext bytes fetched from the store and written. */
    long downloaded() {
        return downloaded.get();
    }

    /** Ranged reads issued. */
    long storeReads() {
        return storeReads.get();
    }

    /**
     * Fetches the chunks from their packs: grouped by pack, packs in order of first use, each
     * pack read once in as few ranges as cover its needed blobs (a range is split where the gap
     * between two needed blobs exceeds {@link #MAX_GAP} or it would outgrow a buffer). Every blob
     * is authenticated before any of its bytes are written; the check runs inside
     * {@link io.dr4j.storage.BlobStore#readVerified}, so a store with several copies can serve
     * the range from another copy when one fails it.
     */
    void fetch(Map<ChunkId, List<Use>> uses, Set<ChunkId> wanted) {
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
                    futures.add(pipeline.submitRange(ctx.io(), rangePool, plainPool,
                            (buffer, plain) -> fetchRange(range, buffer, plain)));
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
                // The range's blobs are opened in parallel on the CPU workers, one read per pack,
                // every core busy; this I/O thread only waits. Opening on the I/O threads too
                // gave each of them (up to ioConcurrency) its own decryption and codec scratch:
                // ~28 MB more memory touched in a 2 GiB restore of BF16 weights, for no more cores.
                int parts = Math.max(1, Math.min(ctx.options().workers(), written.length / 4));
                List<CompletableFuture<Boolean>> all = new ArrayList<>(parts);
                try {
                    submitParts(all, parts, range, key, buffer, plain, written, rejected, writeFailure);
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    joinAll(all); // the repository is closing: let the parts already running finish with the buffer
                    throw e;
                }
                return joinAll(all);
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

    private void submitParts(List<CompletableFuture<Boolean>> all, int parts, Range range, io.dr4j.storage.BlobKey key,
            byte[] buffer, byte[] plain, boolean[] written, AtomicReference<CorruptObjectException> rejected,
            AtomicReference<IOException> writeFailure) {
        for (int part = 0; part < parts; part++) {
            int p = part;
            all.add(CompletableFuture.supplyAsync(() -> {
                byte[] own = p == 0 ? plain : plainPool.take(pipeline::stopped);
                try {
                    return openPart(range, key, buffer, own, written, p, parts, rejected, writeFailure);
                } finally {
                    if (p != 0) {
                        plainPool.give(own);
                    }
                }
            }, ctx.cpu()));
        }
    }

    /**
     * Waits for every part (they read the range buffer, which is reused once this returns), then
     * rethrows the first part's failure unwrapped; true if every blob of every part authenticated.
     */
    private static boolean joinAll(List<CompletableFuture<Boolean>> parts) {
        boolean ok = true;
        Throwable failure = null;
        for (CompletableFuture<Boolean> f : parts) {
            try {
                ok &= f.join();
            } catch (java.util.concurrent.CompletionException | java.util.concurrent.CancellationException e) {
                if (failure == null) {
                    failure = e.getCause() != null ? e.getCause() : e;
                }
            }
        }
        if (failure instanceof Error error) {
            throw error;
        }
        if (failure != null) {
            throw failure instanceof RuntimeException r ? r : new java.util.concurrent.CompletionException(failure);
        }
        return ok;
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
                sink.write(n.uses(), plain, length);
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
}
