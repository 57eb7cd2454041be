package io.dr4j.backup;

import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Which destination chunk each source chunk became, as copies into a repository recorded it
 * (FORMAT.md §Copy maps). A chunk id is a keyed hash, so the destination's id of a source chunk
 * is only known after reading its plaintext; these objects let the next copy skip the chunks an
 * earlier copy (finished or killed) already stored, without reading them again.
 *
 * <p>Stored in the destination as {@code copies/<source repository id>/<random id>}, sealed
 * under the destination's key, written after the index file naming the packs of its chunks.
 * An entry is only a hint: a reader keeps the entries whose destination chunk the destination's
 * index still knows, so a map written ahead of its packs (a copy killed in between), or naming
 * chunks a prune has since removed, costs a re-copy, never a wrong snapshot.
 *
 * <p>A prune of the destination {@link #reconcile reconciles} the maps: entries whose
 * destination chunk it removed (or that never reached a pack) are dropped, and the maps of each
 * source are compacted into as few objects as hold them, so the maps never outgrow the chunks
 * the destination holds. A snapshot forgotten in the source needs nothing here: its entries stay
 * valid as long as the destination holds their chunks, and go with them.
 */
final class CopyMap {

    static final byte[] DOMAIN = "dr4j/copy-map/v2".getBytes(StandardCharsets.US_ASCII);
    private static final int RECORD = 2 * ChunkId.LENGTH;
    /** Largest plaintext a reader accepts: 256 MiB, about 4 million pairs. */
    private static final int MAX_PLAIN = 256 << 20;

    private CopyMap() {
    }

    static String prefix(String sourceRepositoryId) {
        return "copies/" + sourceRepositoryId;
    }

    /** Encodes (source id, destination id) pairs. */
    static byte[] encode(List<ChunkId[]> pairs) {
        ByteBuffer b = ByteBuffer.allocate(4 + pairs.size() * RECORD);
        b.putInt(pairs.size());
        byte[] id = new byte[ChunkId.LENGTH];
        for (ChunkId[] p : pairs) {
            p[0].copyTo(id, 0);
            b.put(id);
            p[1].copyTo(id, 0);
            b.put(id);
        }
        return b.array();
    }

    /** Writes one map object of {@code pairs} into the destination. */
    static void write(Context destination, String sourceRepositoryId, List<ChunkId[]> pairs) throws IOException {
        byte[] id = Crypto.randomBytes(PackFormat.ID_LENGTH);
        byte[] sealed = destination.crypto().sealObject(DOMAIN, id, false, encode(pairs));
        destination.store().put(BlobKey.of(prefix(sourceRepositoryId) + "/" + PackFormat.hex(id)), sealed);
    }

    /**
     * Loads every map the destination holds for copies from {@code sourceRepositoryId}, keeping
     * the pairs whose destination chunk {@code index} has in a stored pack.
     */
    static Map<ChunkId, ChunkId> load(Context destination, String sourceRepositoryId, ChunkIndex index) throws IOException {
        Map<ChunkId, ChunkId> map = new HashMap<>();
        for (BlobInfo info : RepositoryIndex.list(destination, prefix(sourceRepositoryId))) {
            read(destination, info.key(), map, index);
        }
        return map;
    }

    /** Most pairs one compacted map object holds (64 MiB of plaintext). */
    static final int PAIRS_PER_OBJECT = 1 << 20;

    /**
     * Run by prune under the exclusive lock, after the new index is complete: for every source
     * that copied into this repository, keeps the pairs whose destination chunk {@code remaining}
     * (the chunks the pruned repository still holds) has, writes them as one map object (or a
     * few, {@link #PAIRS_PER_OBJECT} each), then deletes the old objects. Leaves a source's maps
     * alone when they are one object with nothing to drop. A crash in between leaves old and new
     * objects side by side, which say the same; a damaged object is dropped (it is a hint).
     *
     * @return the pairs dropped
     */
    static long reconcile(Context destination, ChunkIndex remaining) throws IOException {
        Map<String, List<BlobKey>> bySource = new TreeMap<>();
        for (BlobInfo info : RepositoryIndex.list(destination, "copies")) {
            BlobKey key = info.key();
            Optional<BlobKey> parent = key.parent();
            if (parent.isEmpty() || parent.get().parent().map(p -> !p.value().equals("copies")).orElse(true)) {
                continue; // not a map this library wrote
            }
            bySource.computeIfAbsent(parent.get().name(), k -> new ArrayList<>()).add(key);
        }
        long dropped = 0;
        for (Map.Entry<String, List<BlobKey>> source : bySource.entrySet()) {
            Map<ChunkId, ChunkId> kept = new HashMap<>();
            long pairs = 0;
            for (BlobKey key : source.getValue()) {
                pairs += read(destination, key, kept, remaining);
            }
            // the same pair may sit in several objects (a resumed copy): count what goes, not the duplicates
            dropped += Math.max(0, pairs - kept.size());
            if (source.getValue().size() == 1 && pairs == kept.size()) {
                continue;
            }
            List<ChunkId[]> batch = new ArrayList<>();
            for (Map.Entry<ChunkId, ChunkId> e : kept.entrySet()) {
                batch.add(new ChunkId[] {e.getKey(), e.getValue()});
                if (batch.size() == PAIRS_PER_OBJECT) {
                    write(destination, source.getKey(), batch);
                    batch.clear();
                }
            }
            if (!batch.isEmpty()) {
                write(destination, source.getKey(), batch);
            }
            for (BlobKey key : source.getValue()) {
                destination.store().delete(key);
            }
        }
        return dropped;
    }

    /**
     * Adds the pairs of map object {@code key} whose destination chunk {@code index} has in a
     * stored pack to {@code into}; returns how many pairs the object holds (0 if it is missing,
     * damaged or not a map).
     */
    private static int read(Context destination, BlobKey key, Map<ChunkId, ChunkId> into, ChunkIndex index) throws IOException {
        byte[] id = PackFormat.parseName(key.name());
        if (id == null) {
            return 0;
        }
        String where = destination.where(key);
        byte[] plain;
        try {
            // opening is the store's check: a store with several copies reads around a damaged one
            plain = Ceilings.read(destination.store(), key, ReaderLimits.sealedBound(MAX_PLAIN), "(no setting: copy maps"
                    + " are at most " + MAX_PLAIN + " bytes)", where, sealed -> {
                        byte[] opened = destination.crypto().openObject(DOMAIN, id, sealed, MAX_PLAIN, where);
                        int n = opened.length >= 4 ? ByteBuffer.wrap(opened).getInt() : -1;
                        if (n < 0 || (long) n * RECORD != opened.length - 4L) {
                            throw new CorruptObjectException(where + ": not a copy map (" + opened.length + " bytes)");
                        }
                        return opened;
                    });
        } catch (NoSuchFileException e) {
            return 0;
        } catch (CorruptObjectException e) {
            return 0; // a damaged hint costs a re-copy of its chunks, nothing else
        }
        int count = ByteBuffer.wrap(plain).getInt();
        for (int i = 0; i < count; i++) {
            ChunkId source = ChunkId.copyOf(plain, 4 + i * RECORD);
            ChunkId dest = ChunkId.copyOf(plain, 4 + i * RECORD + ChunkId.LENGTH);
            int e = index.find(dest);
            if (e >= 0 && index.pack(e) != ChunkIndex.PENDING) {
                into.put(source, dest);
            }
        }
        return count;
    }
}
