package io.dr4j.backup;

import io.dr4j.Dr4jException;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStore;
import io.dr4j.storage.RejectedBlobException;
import java.io.IOException;
import java.util.function.Function;

/**
 * Applies {@link ReaderLimits} to objects read from the store: reads an object only up to its
 * ceiling (a store that lies about sizes cannot make a reader buffer more), and words the
 * refusal the same way everywhere, naming the field, the value and how to raise the ceiling.
 */
final class Ceilings {

    private Ceilings() {
    }

    /**
     * Reads {@code key} whole if it holds at most {@code max} bytes, and returns what {@code open}
     * makes of it. {@code open} is the caller's authentication (opening a sealed object, parsing
     * the config) and runs inside {@link BlobStore#getBytesVerified}: a copy it throws a
     * {@link Dr4jException} for is rejected, so a store with several copies reads around a
     * damaged one and repairs it. If no copy passes, {@code open}'s own exception for the last
     * copy it rejected is thrown (the store's account of every copy added as suppressed), so a
     * damaged object is reported as the caller would report it from a single copy; so it is when
     * the copies {@code open} did not reject could not be read (a permanent store failure, added
     * as suppressed).
     *
     * @throws ReaderLimitException if every copy holds more than {@code max} bytes (after reading at most {@code max + 1} of one)
     * @throws java.nio.file.NoSuchFileException if there is no object under {@code key}
     * @throws CorruptObjectException if the store refused every copy without {@code open} rejecting one (e.g. size mismatches)
     */
    static <T> T read(BlobStore store, BlobKey key, long max, String ceiling, String what, Function<byte[], T> open)
            throws IOException {
        long cap = Math.min(Integer.MAX_VALUE - 16, max);
        Object[] opened = new Object[1];
        Dr4jException[] rejected = new Dr4jException[1];
        try {
            store.getBytesVerified(key, cap, bytes -> {
                try {
                    opened[0] = open.apply(bytes);
                    return true;
                } catch (Dr4jException e) {
                    rejected[0] = e;
                    return false;
                }
            });
        } catch (RejectedBlobException e) {
            if (!e.tooLarge() && rejected[0] == null) {
                throw new CorruptObjectException(what + ": no copy could be read whole (" + e.getMessage() + ")", e);
            }
            Dr4jException refusal = e.tooLarge()
                    ? refused(what, "size", "more than " + cap + " bytes", cap + " bytes", ceiling) : rejected[0];
            refusal.addSuppressed(e);
            throw refusal;
        } catch (IOException e) {
            if (rejected[0] != null && !io.dr4j.storage.BlobStoreException.isTransient(e)
                    && !(e instanceof java.io.InterruptedIOException) && !(e instanceof java.nio.file.NoSuchFileException)) {
                // some copies failed the check, the others could not be read: the check's reason names the damage
                rejected[0].addSuppressed(e);
                throw rejected[0];
            }
            throw e;
        }
        @SuppressWarnings("unchecked")
        T result = (T) opened[0];
        return result;
    }

    /** A refusal naming what, the field, the value found, the ceiling and the setting that raises it. */
    public static ReaderLimitException refused(String what, String field, Object value, Object ceiling, String setting) {
        return new ReaderLimitException(what + ": " + field + " " + value + " exceeds the reader's ceiling of " + ceiling
                + " (refused before spending resources on it; if the repository is genuine, raise ReaderLimits."
                + setting + " through RepositoryOptions.builder().readerLimits(...))");
    }
}
