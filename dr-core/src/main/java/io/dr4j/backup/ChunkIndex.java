package io.dr4j.backup;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Where every chunk of the repository lives: chunk id → (pack, offset, sealed length, plain
 * length, flags), the union of all index files. Built for millions of chunks in little memory:
 * no object per chunk, only parallel arrays in pages of {@value #PAGE} entries and an
 * open-addressing table of entry numbers keyed by the id's first bytes (ids are keyed hashes, so
 * uniformly distributed).
 *
 * <p><b>Resident cost:</b> 49 bytes per chunk in the pages (32 id, 4 pack, 4 offset, 4 length,
 * 4 plain length, 1 flags), plus 8 to 16 bytes of table (one 4-byte slot per entry at a load
 * factor kept between 0.25 and 0.5), plus 96 bytes per pack (its id and its hex key): at most
 * 65 bytes per chunk and 96 per pack in arrays, which is what {@link #residentBytes()} counts,
 * plus one partly filled page (under 0.4 MB) and the table's first 4 KiB. While the table
 * doubles, the old one (8 bytes per chunk) is held beside the new one. The heap holds more than
 * the arrays: object headers and the pack-number map, about 6.5 bytes per chunk at 64 chunks per
 * pack. Measured by {@code io.dr4j.backup.IndexMemory} for one million chunks in 15,626 packs
 * (about 256 GiB of checkpoints at the default sizes, and a table near its fullest): 59.3 MB of
 * arrays and 66 MB of heap after GC, 66 bytes per chunk in all; for 1.1 million chunks, just
 * after the table doubled (its emptiest): 66.0 bytes per chunk of arrays and 72.5 of heap.
 * Public only for that benchmark; not an API.
 *
 * <p>The first location added for an id wins; later ones (the same chunk stored by two
 * concurrent backups) are ignored, since either copy serves. Pack number {@link #PENDING} marks
 * a chunk claimed by a running backup whose pack is not yet written. Thread-safe (synchronized;
 * contention is one lookup per chunk).
 */
final class ChunkIndex {

    /** Pack number of a chunk claimed but not yet stored. */
    static final int PENDING = -1;
    private static final int PAGE_BITS = 13;
    static final int PAGE = 1 << PAGE_BITS;

    private final List<byte[]> ids = new ArrayList<>();
    private final List<int[]> packs = new ArrayList<>();
    private final List<int[]> offsets = new ArrayList<>();
    private final List<int[]> lengths = new ArrayList<>();
    private final List<int[]> plainLengths = new ArrayList<>();
    private final List<byte[]> flags = new ArrayList<>();
    private int size;
    private int[] table = new int[1024];

    private final List<byte[]> packIds = new ArrayList<>();
    private final Map<String, Integer> packNumbers = new HashMap<>();

    /** An empty index. */
    public ChunkIndex() {
    }

    /**
     * The bytes held by the index's arrays (pages, table, 32-byte pack ids and their 64-character
     * keys), excluding object headers and the pack map's nodes: what the class javadoc's bound counts.
     */
    public synchronized long residentBytes() {
        long pages = (long) ids.size() * PAGE * (ChunkId.LENGTH + 4 * 4 + 1);
        return pages + 4L * table.length + (long) packIds.size() * (PackFormat.ID_LENGTH + 64);
    }

    /** The number of a pack, adding it if new. */
    public synchronized int pack(byte[] packId) {
        String hex = PackFormat.hex(packId);
        Integer n = packNumbers.get(hex);
        if (n != null) {
            return n;
        }
        packIds.add(packId.clone());
        packNumbers.put(hex, packIds.size() - 1);
        return packIds.size() - 1;
    }

    synchronized byte[] packId(int pack) {
        return packIds.get(pack);
    }

    synchronized int packCount() {
        return packIds.size();
    }

    public synchronized int size() {
        return size;
    }

    /** The entry number of {@code id}, or -1. */
    public synchronized int find(ChunkId id) {
        byte[] b = id.unsafeBytes();
        int mask = table.length - 1;
        for (int slot = hash(b, 0) & mask; ; slot = (slot + 1) & mask) {
            int e = table[slot];
            if (e == 0) {
                return -1;
            }
            if (idEquals(e - 1, b)) {
                return e - 1;
            }
        }
    }

    /**
     * Adds {@code id} at a location unless it is already known.
     *
     * @return true if it was added
     */
    public synchronized boolean add(ChunkId id, int pack, int offset, int length, int plainLength, int blobFlags) {
        byte[] b = id.unsafeBytes();
        int mask = table.length - 1;
        int slot = hash(b, 0) & mask;
        for (; table[slot] != 0; slot = (slot + 1) & mask) {
            int e = table[slot] - 1;
            if (idEquals(e, b)) {
                if (pack(e) == PENDING && pack != PENDING) {
                    set(e, pack, offset, length, plainLength, blobFlags);
                }
                return false;
            }
        }
        int e = size;
        if ((e & (PAGE - 1)) == 0) {
            ids.add(new byte[PAGE * ChunkId.LENGTH]);
            packs.add(new int[PAGE]);
            offsets.add(new int[PAGE]);
            lengths.add(new int[PAGE]);
            plainLengths.add(new int[PAGE]);
            flags.add(new byte[PAGE]);
        }
        System.arraycopy(b, 0, ids.get(e >>> PAGE_BITS), (e & (PAGE - 1)) * ChunkId.LENGTH, ChunkId.LENGTH);
        set(e, pack, offset, length, plainLength, blobFlags);
        size++;
        table[slot] = e + 1;
        if (size * 2 > table.length) {
            grow();
        }
        return true;
    }

    /** Moves entry {@code e} to another copy of the same chunk. */
    synchronized void relocate(int e, int pack, int offset, int length, int plainLength, int blobFlags) {
        set(e, pack, offset, length, plainLength, blobFlags);
    }

    /** Claims {@code id} for a running backup: true if nobody holds it yet (the caller must store it). */
    boolean claim(ChunkId id) {
        return add(id, PENDING, 0, 0, 0, 0);
    }

    private void set(int e, int pack, int offset, int length, int plainLength, int blobFlags) {
        int page = e >>> PAGE_BITS;
        int i = e & (PAGE - 1);
        packs.get(page)[i] = pack;
        offsets.get(page)[i] = offset;
        lengths.get(page)[i] = length;
        plainLengths.get(page)[i] = plainLength;
        flags.get(page)[i] = (byte) blobFlags;
    }

    synchronized int pack(int e) {
        return packs.get(e >>> PAGE_BITS)[e & (PAGE - 1)];
    }

    synchronized int offset(int e) {
        return offsets.get(e >>> PAGE_BITS)[e & (PAGE - 1)];
    }

    synchronized int length(int e) {
        return lengths.get(e >>> PAGE_BITS)[e & (PAGE - 1)];
    }

    synchronized int plainLength(int e) {
        return plainLengths.get(e >>> PAGE_BITS)[e & (PAGE - 1)];
    }

    synchronized int flags(int e) {
        return flags.get(e >>> PAGE_BITS)[e & (PAGE - 1)];
    }

    synchronized ChunkId id(int e) {
        return ChunkId.copyOf(ids.get(e >>> PAGE_BITS), (e & (PAGE - 1)) * ChunkId.LENGTH);
    }

    /** Forgets every entry in a pack (a pack found missing from the store): its chunks count as unknown. */
    synchronized void dropPacks(java.util.function.IntPredicate dropped) {
        for (int e = 0; e < size; e++) {
            int p = pack(e);
            if (p != PENDING && dropped.test(p)) {
                set(e, PENDING, 0, 0, 0, 0);
            }
        }
        rebuildWithout();
    }

    /** Removes PENDING entries (used after dropping packs, before a backup claims anything). */
    private void rebuildWithout() {
        ChunkIndex kept = new ChunkIndex();
        for (int e = 0; e < size; e++) {
            int p = pack(e);
            if (p != PENDING) {
                kept.add(id(e), p, offset(e), length(e), plainLength(e), flags(e));
            }
        }
        ids.clear();
        ids.addAll(kept.ids);
        packs.clear();
        packs.addAll(kept.packs);
        offsets.clear();
        offsets.addAll(kept.offsets);
        lengths.clear();
        lengths.addAll(kept.lengths);
        plainLengths.clear();
        plainLengths.addAll(kept.plainLengths);
        flags.clear();
        flags.addAll(kept.flags);
        size = kept.size;
        table = kept.table;
    }

    private void grow() {
        int[] bigger = new int[table.length * 2];
        int mask = bigger.length - 1;
        for (int e = 0; e < size; e++) {
            int slot = hash(ids.get(e >>> PAGE_BITS), (e & (PAGE - 1)) * ChunkId.LENGTH) & mask;
            while (bigger[slot] != 0) {
                slot = (slot + 1) & mask;
            }
            bigger[slot] = e + 1;
        }
        table = bigger;
    }

    private boolean idEquals(int e, byte[] id) {
        byte[] page = ids.get(e >>> PAGE_BITS);
        int from = (e & (PAGE - 1)) * ChunkId.LENGTH;
        return Arrays.equals(page, from, from + ChunkId.LENGTH, id, 0, ChunkId.LENGTH);
    }

    private static int hash(byte[] b, int off) {
        int h = (b[off] & 0xff) << 24 | (b[off + 1] & 0xff) << 16 | (b[off + 2] & 0xff) << 8 | (b[off + 3] & 0xff);
        return h ^ (h >>> 16);
    }
}
