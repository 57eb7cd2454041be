package io.dr4j.backup;

import io.dr4j.Dr4jException;
import io.dr4j.storage.BlobInfo;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Computes {@link RepositoryStats} from the index and the manifests, one manifest at a time: the
 * snapshots' chunks are marked in a bit set over the index's entries (and their packs in one over
 * the index's packs), so beyond the loaded index and the manifest being read the run holds one
 * bit per indexed chunk and pack and one entry per snapshot, whatever the number of files and
 * snapshots. No pack is read. Not thread-safe: one run per call.
 *
 * <p>Load the index before reading the manifests ({@link #start}, then {@link #add}): a backup
 * writes its index files before its manifest, so every snapshot listed before the start finds its
 * chunks in the index.
 */
final class StatsRun {

    private record Counted(SnapshotId id, Instant time) {
    }

    private final RepositoryIndex index;
    private final long[] chunkSeen;
    private final long[] packSeen;
    /** Packs some index file names that the store lacks: their chunks count as missing. */
    private final long[] packGone;
    private final List<Counted> snapshots = new ArrayList<>();
    private long files;
    private long rawBytes;
    private long chunks;
    private long plainBytes;
    private long storedBytes;
    private long packs;
    private long packBytes;
    private long missing;
    /** Distinct chunks that are not in the index, by id; only these cost more than a bit each (normally none). */
    private final java.util.Set<ChunkId> unknown = new java.util.HashSet<>();

    private StatsRun(RepositoryIndex index) {
        this.index = index;
        this.chunkSeen = new long[(index.chunks.size() + 63) / 64];
        this.packSeen = new long[(index.chunks.packCount() + 63) / 64];
        this.packGone = new long[packSeen.length];
        for (int p = 0; p < index.chunks.packCount(); p++) {
            if (!index.present(p)) {
                mark(packGone, p);
            }
        }
    }

    /** Loads the index (from the local cache where it can). */
    public static StatsRun start(Context ctx) {
        try {
            return new StatsRun(RepositoryIndex.load(ctx));
        } catch (IOException e) {
            throw new Dr4jException("reading the index of " + ctx.store().name() + " failed: " + e.getMessage(), e);
        }
    }

    /** Counts one snapshot; the caller adds each snapshot once (a second add would count its files twice). */
    public void add(Manifest manifest) {
        snapshots.add(new Counted(manifest.snapshot().id(), manifest.snapshot().time()));
        ChunkIndex ix = index.chunks;
        for (Manifest.Entry entry : manifest.entries()) {
            if (entry.entry().type() != SnapshotEntry.Type.FILE) {
                continue;
            }
            files++;
            rawBytes += entry.entry().size();
            for (Manifest.ChunkRef ref : entry.chunks()) {
                int e = ix.find(ref.id());
                if (e < 0 || isSet(packGone, ix.pack(e))) {
                    if (unknown.add(ref.id())) {
                        missing++;
                    }
                    continue;
                }
                if (mark(chunkSeen, e)) {
                    chunks++;
                    plainBytes += ix.plainLength(e);
                    storedBytes += ix.length(e);
                    int pack = ix.pack(e);
                    if (mark(packSeen, pack)) {
                        packs++;
                        BlobInfo info = index.storedPacks.get(PackFormat.hex(ix.packId(pack)));
                        packBytes += info == null ? 0 : info.size();
                    }
                }
            }
        }
    }

    /** The figures of the snapshots added, with the whole store's; {@code snapshotsInRepository} as listed at the start. */
    public RepositoryStats result(long snapshotsInRepository) {
        snapshots.sort(Comparator.comparing(Counted::time).thenComparing(Counted::id));
        return new RepositoryStats(snapshots.stream().map(Counted::id).toList(), files, rawBytes, chunks, plainBytes,
                storedBytes, packs, packBytes, missing, store(snapshotsInRepository));
    }

    private RepositoryStats.Store store(long snapshotsInRepository) {
        ChunkIndex ix = index.chunks;
        long n = 0;
        long plain = 0;
        long stored = 0;
        for (int e = 0, size = ix.size(); e < size; e++) {
            int pack = ix.pack(e);
            if (pack != ChunkIndex.PENDING && !isSet(packGone, pack)) {
                n++;
                plain += ix.plainLength(e);
                stored += ix.length(e);
            }
        }
        long objects = 0;
        long bytes = 0;
        for (BlobInfo info : index.storedPacks.values()) {
            objects++;
            bytes += info.size();
        }
        return new RepositoryStats.Store(snapshotsInRepository, n, plain, stored, objects, bytes, index.files.size());
    }

    private static boolean isSet(long[] bits, int i) {
        return (bits[i >>> 6] & 1L << (i & 63)) != 0;
    }

    /** Sets bit {@code i}; true if it was clear. */
    private static boolean mark(long[] bits, int i) {
        long mask = 1L << (i & 63);
        long word = bits[i >>> 6];
        if ((word & mask) != 0) {
            return false;
        }
        bits[i >>> 6] = word | mask;
        return true;
    }
}
