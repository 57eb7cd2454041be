package io.dr4j.backup;

import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Prune for packs, run under the exclusive lock: mark every chunk a live manifest references,
 * classify every pack (young, live, to repack, dead, orphaned), copy the live blobs of packs
 * whose unreferenced share exceeds the threshold into new packs, write one new set of index
 * files covering everything kept, and only then delete the old index files and the packs no
 * longer needed. A crash at any point leaves every live chunk reachable: before the new index is
 * complete the old index files and packs are untouched; after it, old and new index files may
 * both name a chunk (either copy serves) and packs left undeleted are unindexed garbage that the
 * next prune removes. Last, the {@link CopyMap copy maps} are reconciled with what the index
 * still holds.
 *
 * <p>Refuses to delete anything when an index file is damaged or a referenced chunk has no
 * location: a pack the index cannot describe might hold live data, so the operator repairs the
 * index first.
 */
final class Pruner {

    private final Context ctx;
    private long writtenBytes;

    public Pruner(Context ctx) {
        this.ctx = ctx;
    }

    /** A pack's fate. */
    private enum Fate { KEEP, YOUNG, REPACK, DELETE }

    public PruneResult run(List<Manifest> manifests, boolean dryRun) throws IOException {
        ChunkIndex live = new ChunkIndex();
        manifests.forEach(m -> m.entries().forEach(e -> e.chunks().forEach(c -> live.claim(c.id()))));
        RepositoryIndex index = RepositoryIndex.load(ctx, true);
        if (!index.missingPacks.isEmpty()) {
            String hex = index.missingPacks.iterator().next();
            throw new CorruptObjectException("prune of " + ctx.store().name() + " refused: " + index.missingPacks.size()
                    + " pack(s) that index files name are missing from the store (e.g. packs/" + hex.substring(0, 2) + "/" + hex
                    + "); back up again (lost chunks are stored anew) or repair the repository first; nothing was deleted");
        }
        if (!index.damaged.isEmpty()) {
            throw new CorruptObjectException("prune of " + ctx.store().name() + " refused: " + index.damaged.size()
                    + " index file(s) are damaged (" + index.damaged.get(0) + "); nothing was deleted");
        }
        for (Manifest m : manifests) {
            for (Manifest.Entry e : m.entries()) {
                for (Manifest.ChunkRef c : e.chunks()) {
                    if (index.chunks.find(c.id()) < 0) {
                        throw new CorruptObjectException("prune of " + ctx.store().name() + " refused: chunk " + c.id() + " of '"
                                + e.entry().path() + "' in snapshot " + m.snapshot().id().shortId() + " has no location"
                                + index.whyMissing() + "; nothing was deleted");
                    }
                }
            }
        }
        Instant cutoff = ctx.options().clock().instant().minus(ctx.options().pruneGracePeriod());
        long deletedChunks = 0;
        long young = 0;
        long freed = 0;
        List<Integer> repack = new ArrayList<>();
        List<Integer> kept = new ArrayList<>();
        List<BlobKey> doomed = new ArrayList<>();
        for (Map.Entry<Integer, List<PackFormat.Blob>> p : index.packBlobs.entrySet()) {
            int pack = p.getKey();
            BlobInfo info = index.storedPacks.get(PackFormat.hex(index.chunks.packId(pack)));
            long liveBytes = 0;
            long deadBytes = 0;
            long dead = 0;
            for (PackFormat.Blob b : p.getValue()) {
                if (isLiveHere(index, live, b, pack)) {
                    liveBytes += b.length();
                } else {
                    deadBytes += b.length();
                    dead++;
                }
            }
            Fate fate;
            if (dead == 0) {
                fate = Fate.KEEP;
            } else if (info.lastModified().isAfter(cutoff)) {
                fate = Fate.YOUNG;
                young += dead;
            } else if (liveBytes == 0) {
                fate = Fate.DELETE;
            } else if (deadBytes > ctx.options().repackThreshold() * (liveBytes + deadBytes)) {
                fate = Fate.REPACK;
            } else {
                fate = Fate.KEEP;
            }
            switch (fate) {
                case KEEP, YOUNG -> kept.add(pack);
                case REPACK -> {
                    repack.add(pack);
                    deletedChunks += dead;
                    doomed.add(info.key());
                    freed += info.size();
                }
                case DELETE -> {
                    deletedChunks += dead;
                    doomed.add(info.key());
                    freed += info.size();
                }
                default -> throw new IllegalStateException();
            }
        }
        java.util.Set<String> indexed = new java.util.HashSet<>();
        index.packBlobs.keySet().forEach(p -> indexed.add(PackFormat.hex(index.chunks.packId(p))));
        for (BlobInfo info : index.storedPacks.values()) {
            if (!indexed.contains(info.key().name()) && !info.lastModified().isAfter(cutoff)) {
                doomed.add(info.key()); // left by a backup that died before its index
                freed += info.size();
            }
        }
        long packsWritten = 0;
        // what the index names once the prune is done: every blob of the packs kept, and of those repacked into
        List<List<PackFormat.Blob>> remaining = new ArrayList<>(index.packBlobs.values());
        if (!dryRun && (!doomed.isEmpty() || !repack.isEmpty())) {
            List<IndexFile.PackEntry> entries = new ArrayList<>();
            for (int pack : kept) {
                entries.add(new IndexFile.PackEntry(index.chunks.packId(pack), index.packBlobs.get(pack)));
            }
            List<IndexFile.PackEntry> written = repack(index, live, repack);
            packsWritten = written.size();
            freed -= writtenBytes;
            entries.addAll(written);
            List<BlobKey> oldIndex = index.files.stream().map(RepositoryIndex.FileInfo::key).toList();
            for (int from = 0; from < entries.size(); from += IndexFile.PACKS_PER_FILE) {
                List<IndexFile.PackEntry> batch = entries.subList(from, Math.min(entries.size(), from + IndexFile.PACKS_PER_FILE));
                byte[] id = Crypto.randomBytes(PackFormat.ID_LENGTH);
                ctx.store().put(IndexFile.key(id), ctx.crypto().sealObject(IndexFile.DOMAIN, id, false, IndexFile.encode(batch)));
            }
            // the new index is complete: from here on nothing live depends on what is deleted
            for (BlobKey k : oldIndex) {
                ctx.store().delete(k);
                LocalCache.delete(ctx.cache("index"), k.name());
            }
            for (BlobKey k : doomed) {
                ctx.store().delete(k);
            }
            remaining = entries.stream().map(IndexFile.PackEntry::blobs).toList();
        }
        if (!dryRun) {
            ChunkIndex held = new ChunkIndex();
            remaining.forEach(blobs -> blobs.forEach(b -> held.add(b.id(), 0, b.offset(), b.length(), b.plainLength(), b.flags())));
            CopyMap.reconcile(ctx, held);
            // uploads a killed backup left open in a cloud store (S3 multipart); younger ones may be running
            ctx.store().cleanupIncompleteUploads(ctx.options().pruneGracePeriod());
        }
        return new PruneResult(manifests.size(), live.size(), deletedChunks, Math.max(0, freed), young, dryRun,
                doomed.size(), repack.size(), packsWritten);
    }

    /** A blob is live in a pack when a manifest references its chunk and this pack is the chunk's chosen location. */
    private static boolean isLiveHere(RepositoryIndex index, ChunkIndex live, PackFormat.Blob b, int pack) {
        if (live.find(b.id()) < 0) {
            return false;
        }
        int e = index.chunks.find(b.id());
        return e >= 0 && index.chunks.pack(e) == pack && index.chunks.offset(e) == b.offset();
    }

    /** Copies the live blobs of {@code packs} into new packs, authenticating each; returns the new packs' entries. */
    private List<IndexFile.PackEntry> repack(RepositoryIndex index, ChunkIndex live, List<Integer> packs) throws IOException {
        List<IndexFile.PackEntry> written = new ArrayList<>();
        if (packs.isEmpty()) {
            return written;
        }
        byte[] plain = new byte[ctx.chunkBufferSize()];
        byte[] read = new byte[ctx.packBufferSize()];
        PackWriter out = new PackWriter(new byte[ctx.packBufferSize()], ctx.config().packSize(), Crypto.maxSealedLength(ctx.maxChunk()));
        for (int pack : packs) {
            BlobKey key = PackFormat.key(index.chunks.packId(pack));
            List<PackFormat.Blob> liveBlobs = new ArrayList<>();
            for (PackFormat.Blob b : index.packBlobs.get(pack)) {
                if (isLiveHere(index, live, b, pack)) {
                    liveBlobs.add(b);
                }
            }
            liveBlobs.sort(Comparator.comparingInt(PackFormat.Blob::offset));
            long end = liveBlobs.stream().mapToLong(b -> (long) b.offset() + b.length()).max().orElse(0);
            if (end > read.length) {
                throw new CorruptObjectException(ctx.where(key) + ": the index places a blob at byte " + end
                        + ", beyond any pack this repository writes");
            }
            String where = ctx.where(key);
            // one read per pack; every live blob is authenticated before it is copied
            ctx.store().readVerified(key, 0, ByteBuffer.wrap(read, 0, (int) end), view -> {
                for (PackFormat.Blob b : liveBlobs) {
                    try {
                        ctx.crypto().openChunkInto(b.id(), read, b.offset(), b.length(), ctx.maxChunk(), plain,
                                where + " blob at offset " + b.offset());
                    } catch (CorruptObjectException e) {
                        return false;
                    }
                }
                return true;
            });
            for (PackFormat.Blob b : liveBlobs) {
                out.appendSealed(b.id(), read, b.offset(), b.length(), b.plainLength(), b.flags());
                if (out.full()) {
                    written.add(store(out));
                    out = new PackWriter(out.buffer, ctx.config().packSize(), Crypto.maxSealedLength(ctx.maxChunk()));
                }
            }
        }
        if (!out.isEmpty()) {
            written.add(store(out));
        }
        return written;
    }

    private IndexFile.PackEntry store(PackWriter pack) throws IOException {
        int length = pack.finish(ctx.crypto());
        ctx.store().put(PackFormat.key(pack.packId), pack.buffer, 0, length);
        writtenBytes += length;
        return new IndexFile.PackEntry(pack.packId, List.copyOf(pack.blobs()));
    }
}
