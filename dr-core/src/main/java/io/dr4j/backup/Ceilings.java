package io.dr4j.backup;

import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStore;
import java.io.IOException;
import java.io.InputStream;

/**
 * Applies {@link ReaderLimits} to objects read from the store: reads an object only up to its
 * ceiling (a store that lies about sizes cannot make a reader buffer more), and words the
 * refusal the same way everywhere, naming the field, the value and how to raise the ceiling.
 */
final class Ceilings {

    private Ceilings() {
    }

    /**
     * Reads {@code key} whole if it holds at most {@code max} bytes.
     *
     * @throws ReaderLimitException if it holds more (after reading at most {@code max + 1} bytes)
     */
    public static byte[] read(BlobStore store, BlobKey key, long max, String ceiling, String what) throws IOException {
        int cap = (int) Math.min(Integer.MAX_VALUE - 16, max);
        try (InputStream in = store.get(key)) {
            byte[] bytes = in.readNBytes(cap);
            if (in.read() >= 0) {
                throw refused(what, "size", "more than " + cap + " bytes", cap + " bytes", ceiling);
            }
            return bytes;
        }
    }

    /** A refusal naming what, the field, the value found, the ceiling and the setting that raises it. */
    public static ReaderLimitException refused(String what, String field, Object value, Object ceiling, String setting) {
        return new ReaderLimitException(what + ": " + field + " " + value + " exceeds the reader's ceiling of " + ceiling
                + " (refused before spending resources on it; if the repository is genuine, raise ReaderLimits."
                + setting + " through RepositoryOptions.builder().readerLimits(...))");
    }
}
