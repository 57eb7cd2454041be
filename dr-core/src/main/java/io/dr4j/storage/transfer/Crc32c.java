package io.dr4j.storage.transfer;

import io.dr4j.storage.BlobKey;
import io.dr4j.storage.PermanentBlobStoreException;
import java.util.zip.CRC32C;

/**
 * The CRC-32C of a whole object that dr4j's cloud stores keep in the object's user metadata
 * under {@value #METADATA} (S3 {@code x-amz-meta-dr4jcrc32c}, Azure metadata of the same name),
 * as 8 lowercase hex digits, and check when the whole object is read back
 * ({@link VerifyingInputStream}). Stateless and thread-safe.
 */
public final class Crc32c {

    /** The metadata entry holding the CRC-32C; one name for every backend. */
    public static final String METADATA = "dr4jcrc32c";

    private Crc32c() {
    }

    /** The value of {@code crc} as 8 hex digits. */
    public static String hex(CRC32C crc) {
        return String.format("%08x", crc.getValue());
    }

    /** The CRC-32C of {@code data[offset, offset + length)} as 8 hex digits. */
    public static String hexOf(byte[] data, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(data, offset, length);
        return hex(crc);
    }

    /** The failure of a whole-object read whose CRC-32C differs from the one stored at write time. */
    public static PermanentBlobStoreException mismatch(String store, BlobKey key, String operation, String actual,
            String expected) {
        return new PermanentBlobStoreException(store, key, operation + ": CRC-32C mismatch: the object read back ("
                + actual + ") differs from what was written (" + expected + "); the stored object is corrupt", null);
    }
}
