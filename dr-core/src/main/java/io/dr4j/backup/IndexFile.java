package io.dr4j.backup;

import io.dr4j.storage.BlobKey;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * An index file (FORMAT.md §Index): which blobs each of some packs holds. Immutable once
 * written; a backup writes one after every {@value #PACKS_PER_FILE} packs and one at its end,
 * always after the packs it names and before the manifest. Sealed, uncompressed (chunk ids do
 * not compress).
 */
final class IndexFile {

    static final byte[] DOMAIN = "dr4j/index/v2".getBytes(StandardCharsets.US_ASCII);
    /** A backup flushes an index file after this many packs, so a crashed backup's work is reused by the next one. */
    static final int PACKS_PER_FILE = 256;
    /** Largest plaintext of an index file a reader accepts: 256 MiB, about 5.9 million chunk records. */
    static final int MAX_PLAIN = 256 << 20;
    private static final HexFormat HEX = HexFormat.of();

    /** One pack's entry in an index file. */
    record PackEntry(byte[] packId, List<PackFormat.Blob> blobs) {
    }

    private IndexFile() {
    }

    static BlobKey key(byte[] indexId) {
        return BlobKey.of("index/" + HEX.formatHex(indexId));
    }

    static byte[] encode(List<PackEntry> packs) {
        long size = 4;
        for (PackEntry p : packs) {
            size += PackFormat.ID_LENGTH + 4 + (long) p.blobs().size() * PackFormat.RECORD;
        }
        if (size > MAX_PLAIN) {
            throw new IllegalStateException("index file of " + size + " bytes exceeds " + MAX_PLAIN);
        }
        ByteBuffer b = ByteBuffer.allocate((int) size);
        b.putInt(packs.size());
        byte[] id = new byte[ChunkId.LENGTH];
        for (PackEntry p : packs) {
            b.put(p.packId()).putInt(p.blobs().size());
            for (PackFormat.Blob blob : p.blobs()) {
                blob.id().copyTo(id, 0);
                b.put(id).putInt(blob.offset()).putInt(blob.length()).putInt(blob.plainLength()).put((byte) blob.flags());
            }
        }
        return b.array();
    }

    /**
     * Decodes an index file's plaintext, checking every count against the bytes that remain, so a
     * hostile count cannot make the reader allocate more than the file's size.
     */
    static List<PackEntry> decode(byte[] plain, int maxChunk, String where) {
        ByteBuffer b = ByteBuffer.wrap(plain);
        try {
            int packCount = b.getInt();
            if (packCount < 0 || (long) packCount * (PackFormat.ID_LENGTH + 4) > b.remaining()) {
                throw new CorruptObjectException(where + ": index names " + packCount + " packs, more than its size allows");
            }
            List<PackEntry> packs = new ArrayList<>(packCount);
            for (int i = 0; i < packCount; i++) {
                byte[] packId = new byte[PackFormat.ID_LENGTH];
                b.get(packId);
                int blobCount = b.getInt();
                if (blobCount < 0 || (long) blobCount * PackFormat.RECORD > b.remaining()) {
                    throw new CorruptObjectException(where + ": index gives pack " + PackFormat.hex(packId) + " " + blobCount
                            + " blobs, more than its size allows");
                }
                List<PackFormat.Blob> blobs = new ArrayList<>(blobCount);
                for (int j = 0; j < blobCount; j++) {
                    blobs.add(PackFormat.readRecord(b, plain, Integer.MAX_VALUE, maxChunk,
                            where + ": pack " + PackFormat.hex(packId) + " blob " + j));
                }
                packs.add(new PackEntry(packId, blobs));
            }
            if (b.hasRemaining()) {
                throw new CorruptObjectException(where + ": " + b.remaining() + " bytes after the last index record");
            }
            return packs;
        } catch (java.nio.BufferUnderflowException e) {
            throw new CorruptObjectException(where + ": index ends in the middle of a record", e);
        }
    }
}
