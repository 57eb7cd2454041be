package io.dr4j.backup;

import io.dr4j.backup.RestoredFile.Use;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The delta half of a {@link RestoreRun} ({@link io.dr4j.backup.RestoreOptions#delta()}): the
 * existing target's files are chunked as the backup chunked them, and every chunk the snapshot
 * needs that is already there is copied from the old file, after its bytes are checked against
 * the chunk id, instead of fetched. One instance per restore.
 */
final class DeltaRestore {

    private final Context ctx;
    private final Manifest manifest;
    private final Path target;
    private final Pipeline pipeline;
    private final PackFetch.Sink sink;
    private final AtomicLong reused = new AtomicLong();

    DeltaRestore(Context ctx, Manifest manifest, Path target, Pipeline pipeline, PackFetch.Sink sink) {
        this.ctx = ctx;
        this.manifest = manifest;
        this.target = target;
        this.pipeline = pipeline;
        this.sink = sink;
    }

    /** Plaintext bytes taken from the existing target. */
    long reused() {
        return reused.get();
    }

    /** Where a chunk already is in the existing target. */
    record LocalChunk(Path file, long offset, int length) {
    }

    /** Chunks of the manifest found in the existing target, cut as the backup cut them. */
    Map<ChunkId, LocalChunk> indexTarget() {
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

    /**
     * Copies chunks that the existing target already holds (delta restore), each checked against
     * its id; returns the chunks still to fetch from the store.
     */
    Set<ChunkId> restoreLocal(Map<ChunkId, List<Use>> uses, Map<ChunkId, LocalChunk> local) {
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
                        sink.write(targets, buffer, c.length());
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
}
