package io.dr4j.backup;

import java.util.ArrayList;
import java.util.List;

/**
 * One pack being filled: chunks are sealed straight into a pooled buffer, back to back, and the
 * pack is closed with its sealed header and trailer (FORMAT.md §Packs). Not thread-safe: a
 * writer is used by one thread at a time (the backup hands writers out through a queue).
 */
final class PackWriter {

    final byte[] packId = Crypto.randomBytes(PackFormat.ID_LENGTH);
    final byte[] buffer;
    private final int target;
    private final int maxSealed;
    private final List<PackFormat.Blob> blobs = new ArrayList<>();
    private int length;

    /** @param maxSealed the largest sealed chunk, for which room is always kept besides the header */
    PackWriter(byte[] buffer, int target, int maxSealed) {
        this.buffer = buffer;
        this.target = target;
        this.maxSealed = maxSealed;
    }

    /** Seals a chunk into the pack without a codec hint; see {@link #append(Crypto, ChunkId, byte[], int, int, int, SafetensorsHeader.CodecHint)}. */
    int append(Crypto crypto, ChunkId id, byte[] data, int offset, int plainLength, int zstdLevel) {
        return append(crypto, id, data, offset, plainLength, zstdLevel, null);
    }

    /**
     * Seals a chunk into the pack; returns its sealed length. The caller checks {@link #full()} after.
     *
     * @param hint the chunk's dtype for the tensor codec, or null for the zstd-or-raw choice alone
     */
    int append(Crypto crypto, ChunkId id, byte[] data, int offset, int plainLength, int zstdLevel,
            SafetensorsHeader.CodecHint hint) {
        int r = crypto.sealChunkInto(id, data, offset, plainLength, zstdLevel, hint, buffer, length);
        int sealed = Crypto.sealedLength(r);
        int flags = Crypto.sealedFlags(r);
        blobs.add(new PackFormat.Blob(id, length, sealed, plainLength, flags));
        length += sealed;
        return sealed;
    }

    /** Appends an already sealed blob verbatim (repacking: blobs are bound to their chunk id, not to a pack). */
    void appendSealed(ChunkId id, byte[] sealed, int offset, int length, int plainLength, int flags) {
        System.arraycopy(sealed, offset, buffer, this.length, length);
        blobs.add(new PackFormat.Blob(id, this.length, length, plainLength, flags));
        this.length += length;
    }

    /** Whether the pack has reached its target size (the next chunk goes into a new pack). */
    boolean full() {
        long header = Crypto.OVERHEAD + 4 + (long) (blobs.size() + 1) * PackFormat.RECORD + PackFormat.TRAILER;
        return length >= target || length + maxSealed + header > buffer.length;
    }

    boolean isEmpty() {
        return blobs.isEmpty();
    }

    List<PackFormat.Blob> blobs() {
        return blobs;
    }


    /**
     * Finishes the pack and puts it into {@code store} under its key; returns the bytes it holds
     * beyond its blobs (sealed header and trailer).
     */
    long store(Crypto crypto, io.dr4j.storage.BlobStore store) throws java.io.IOException {
        int total = finish(crypto);
        store.put(PackFormat.key(packId), buffer, 0, total);
        long blobBytes = 0;
        for (PackFormat.Blob b : blobs) {
            blobBytes += b.length();
        }
        return total - blobBytes;
    }

    /** Appends the sealed header and trailer; returns the pack's total length. */
    int finish(Crypto crypto) {
        byte[] header = crypto.sealObject(PackFormat.HEADER_DOMAIN, packId, false, PackFormat.encodeHeader(blobs));
        if (length + header.length + PackFormat.TRAILER > buffer.length) {
            throw new IllegalStateException("pack buffer of " + buffer.length + " bytes cannot hold a header of " + header.length);
        }
        System.arraycopy(header, 0, buffer, length, header.length);
        PackFormat.writeTrailer(buffer, length + header.length, header.length);
        return length + header.length + PackFormat.TRAILER;
    }
}
