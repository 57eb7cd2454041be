package io.dr4j.backup;

import io.dr4j.storage.BlobKey;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The byte layout of a pack (FORMAT.md §Packs): sealed chunk blobs back to back, then a sealed
 * header listing them, then a 12-byte trailer {@code headerLength(4) ‖ "dr4jpak2"}. The header
 * lets a pack be indexed from itself alone (index repair, verification); restores use the index
 * and read only the blobs they need.
 */
final class PackFormat {

    /** Length of a pack id (random). */
    static final int ID_LENGTH = 32;
    /** Bytes per blob record in a pack header or index file: id, offset, length, plain length, flags. */
    static final int RECORD = ChunkId.LENGTH + 4 + 4 + 4 + 1;
    static final byte[] MAGIC = "dr4jpak2".getBytes(StandardCharsets.US_ASCII);
    static final int TRAILER = 4 + MAGIC.length;
    static final byte[] HEADER_DOMAIN = "dr4j/pack/v2".getBytes(StandardCharsets.US_ASCII);
    /** Blob flag: the sealed payload is a zstd frame (mirrors the blob envelope's flag). */
    static final int FLAG_ZSTD = 1;
    /** Blob flag: the sealed payload is a tensor-codec encoding (docs/tensor-codec.md); never together with {@link #FLAG_ZSTD}. */
    static final int FLAG_TENSOR = 2;
    private static final HexFormat HEX = HexFormat.of();

    private PackFormat() {
    }

    /** One blob of a pack: where it is and what it holds. */
    record Blob(ChunkId id, int offset, int length, int plainLength, int flags) {
    }

    static BlobKey key(byte[] packId) {
        String hex = HEX.formatHex(packId);
        return BlobKey.of("packs/" + hex.substring(0, 2) + "/" + hex);
    }

    static String hex(byte[] packId) {
        return HEX.formatHex(packId);
    }

    /** Parses a pack key's last segment; null if it is not one. */
    static byte[] parseName(String name) {
        if (name.length() != 2 * ID_LENGTH) {
            return null;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
                return null;
            }
        }
        return HEX.parseHex(name);
    }

    /** The plaintext of a pack header. */
    static byte[] encodeHeader(List<Blob> blobs) {
        ByteBuffer b = ByteBuffer.allocate(4 + blobs.size() * RECORD);
        b.putInt(blobs.size());
        byte[] id = new byte[ChunkId.LENGTH];
        for (Blob blob : blobs) {
            blob.id().copyTo(id, 0);
            b.put(id).putInt(blob.offset()).putInt(blob.length()).putInt(blob.plainLength()).put((byte) blob.flags());
        }
        return b.array();
    }

    /**
     * Parses a pack header's plaintext and checks it against the pack: every blob inside the
     * data area, none overlapping, flags known.
     *
     * @param dataLength bytes before the sealed header
     * @throws CorruptObjectException naming {@code where} on any inconsistency
     */
    static List<Blob> decodeHeader(byte[] plain, long dataLength, int maxPlainLength, String where) {
        if (plain.length < 4 || (plain.length - 4) % RECORD != 0) {
            throw new CorruptObjectException(where + ": pack header of " + plain.length + " bytes is not a whole number of records");
        }
        ByteBuffer b = ByteBuffer.wrap(plain);
        int count = b.getInt();
        if (count < 0 || count != (plain.length - 4) / RECORD) {
            throw new CorruptObjectException(where + ": pack header says " + count + " blobs but holds " + (plain.length - 4) / RECORD);
        }
        List<Blob> blobs = new ArrayList<>(count);
        long end = 0;
        for (int i = 0; i < count; i++) {
            Blob blob = readRecord(b, plain, dataLength, maxPlainLength, where + " blob " + i);
            if (blob.offset() < end) {
                throw new CorruptObjectException(where + ": pack header blob " + i + " overlaps the one before it");
            }
            end = (long) blob.offset() + blob.length();
            blobs.add(blob);
        }
        return blobs;
    }

    /**
     * Reads one blob record (FORMAT.md §Packs) at the buffer's position, checking its numbers; the
     * shared parser of pack headers and index files.
     */
    static Blob readRecord(java.nio.ByteBuffer b, byte[] array, long dataLength, int maxPlainLength, String where) {
        ChunkId id = ChunkId.copyOf(array, b.position());
        b.position(b.position() + ChunkId.LENGTH);
        int offset = b.getInt();
        int length = b.getInt();
        int plainLength = b.getInt();
        int flags = b.get();
        checkBlob(offset, length, plainLength, flags, dataLength, maxPlainLength, where);
        return new Blob(id, offset, length, plainLength, flags);
    }

    /** Checks one blob record's numbers. */
    static void checkBlob(int offset, int length, int plainLength, int flags, long dataLength, int maxPlainLength, String where) {
        if (offset < 0 || length < Crypto.OVERHEAD || (long) offset + length > dataLength) {
            throw new CorruptObjectException(where + ": blob at offset " + offset + " of " + length
                    + " bytes lies outside the pack's " + dataLength + " data bytes");
        }
        if (plainLength < 0 || plainLength > maxPlainLength) {
            throw new CorruptObjectException(where + ": plain length " + plainLength + " exceeds the chunk limit " + maxPlainLength);
        }
        if (flags != 0 && flags != FLAG_ZSTD && flags != FLAG_TENSOR) {
            throw new CorruptObjectException(where + ": unknown blob flags " + flags);
        }
        if (flags == FLAG_TENSOR && length >= plainLength + Crypto.OVERHEAD) {
            // the codec's encoding is kept only when it is smaller than the chunk
            throw new CorruptObjectException(where + ": tensor-coded blob of " + length + " bytes is not smaller than its "
                    + plainLength + " plain bytes");
        }
        if (flags == 0 && length != plainLength + Crypto.OVERHEAD) {
            throw new CorruptObjectException(where + ": uncompressed blob of " + length + " bytes cannot hold " + plainLength);
        }
    }

    /** Writes the trailer for a sealed header of {@code headerLength} bytes. */
    static void writeTrailer(byte[] out, int offset, int headerLength) {
        ByteBuffer.wrap(out, offset, TRAILER).putInt(headerLength).put(MAGIC);
    }

    /**
     * Reads the header length from a pack's last {@link #TRAILER} bytes.
     *
     * @throws CorruptObjectException if the magic is wrong or the length impossible for the pack's size
     */
    static int readTrailer(byte[] trailer, int offset, long packSize, String where) {
        for (int i = 0; i < MAGIC.length; i++) {
            if (trailer[offset + 4 + i] != MAGIC[i]) {
                throw new CorruptObjectException(where + ": not a dr4j v2 pack (trailer magic missing; truncated or replaced)");
            }
        }
        int headerLength = ByteBuffer.wrap(trailer, offset, 4).getInt();
        if (headerLength < Crypto.OVERHEAD + 4 || headerLength > packSize - TRAILER) {
            throw new CorruptObjectException(where + ": pack trailer gives a header length of " + headerLength
                    + " bytes, impossible for a pack of " + packSize + " bytes");
        }
        return headerLength;
    }
}
