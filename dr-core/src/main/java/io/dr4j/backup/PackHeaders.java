package io.dr4j.backup;

import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Reads a pack's own header (trailer, then the sealed header) with two ranged reads, bounding
 * everything by the pack's stored size before allocating: a hostile trailer cannot make the
 * reader allocate more than {@link #MAX_HEADER} bytes.
 */
final class PackHeaders {

    /** Largest sealed pack header a reader accepts: 64 MiB (1.4 million blob records). */
    static final int MAX_HEADER = 64 << 20;

    private PackHeaders() {
    }

    /** Reads {@code into} at {@code offset}; a copy on which {@code check} throws is rejected, and the last rejection rethrown. */
    private static void readChecked(Context ctx, BlobKey key, long offset, byte[] into, Runnable check) throws IOException {
        CorruptObjectException[] rejected = new CorruptObjectException[1];
        try {
            ctx.store().readVerified(key, offset, ByteBuffer.wrap(into), view -> {
                try {
                    check.run();
                    return true;
                } catch (CorruptObjectException e) {
                    rejected[0] = e;
                    return false;
                }
            });
        } catch (io.dr4j.storage.PermanentBlobStoreException e) {
            if (rejected[0] != null) {
                throw rejected[0];
            }
            throw e;
        }
    }

    static List<PackFormat.Blob> read(Context ctx, BlobKey key, BlobInfo info) throws IOException {
        String where = ctx.where(key);
        long size = info.size();
        if (size < PackFormat.TRAILER + Crypto.OVERHEAD + 4) {
            throw new CorruptObjectException(where + ": " + size + " bytes is too short for a pack (truncated)");
        }
        byte[] trailer = new byte[PackFormat.TRAILER];
        // through readVerified, so a store with several copies reads around a damaged one
        readChecked(ctx, key, size - PackFormat.TRAILER, trailer, () -> PackFormat.readTrailer(trailer, 0, size, where));
        int headerLength = PackFormat.readTrailer(trailer, 0, size, where);
        int ceiling = ctx.options().readerLimits().maxPackHeaderBytes();
        if (headerLength > ceiling) {
            throw Ceilings.refused(where, "pack header length (from the trailer)", headerLength + " bytes", ceiling + " bytes",
                    "maxPackHeaderBytes");
        }
        byte[] sealed = new byte[headerLength];
        long headerStart = size - PackFormat.TRAILER - headerLength;
        byte[] packId = PackFormat.parseName(key.name());
        if (packId == null) {
            throw new CorruptObjectException(where + ": not a pack key");
        }
        readChecked(ctx, key, headerStart, sealed,
                () -> ctx.crypto().openObject(PackFormat.HEADER_DOMAIN, packId, sealed, ceiling, where + " (pack header)"));
        byte[] plain = ctx.crypto().openObject(PackFormat.HEADER_DOMAIN, packId, sealed, ceiling, where + " (pack header)");
        return PackFormat.decodeHeader(plain, headerStart, ctx.maxChunk(), where + " (pack header)");
    }
}
