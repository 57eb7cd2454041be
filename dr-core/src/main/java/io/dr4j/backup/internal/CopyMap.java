package io.dr4j.backup.internal;

import io.dr4j.backup.CorruptObjectException;
import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

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
            byte[] id = PackFormat.parseName(info.key().name());
            if (id == null) {
                continue;
            }
            byte[] sealed;
            try {
                sealed = destination.store().getBytes(info.key());
            } catch (NoSuchFileException e) {
                continue;
            }
            String where = destination.where(info.key());
            byte[] plain;
            try {
                plain = destination.crypto().openObject(DOMAIN, id, sealed, MAX_PLAIN, where);
            } catch (CorruptObjectException e) {
                continue; // a damaged hint costs a re-copy of its chunks, nothing else
            }
            ByteBuffer b = ByteBuffer.wrap(plain);
            int count = plain.length >= 4 ? b.getInt() : -1;
            if (count < 0 || (long) count * RECORD != plain.length - 4L) {
                continue;
            }
            for (int i = 0; i < count; i++) {
                ChunkId source = ChunkId.copyOf(plain, 4 + i * RECORD);
                ChunkId dest = ChunkId.copyOf(plain, 4 + i * RECORD + ChunkId.LENGTH);
                int e = index.find(dest);
                if (e >= 0 && index.pack(e) != ChunkIndex.PENDING) {
                    map.put(source, dest);
                }
            }
        }
        return map;
    }
}
