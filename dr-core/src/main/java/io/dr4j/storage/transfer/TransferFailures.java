package io.dr4j.storage.transfer;

import io.dr4j.storage.BlobKey;
import io.dr4j.storage.PermanentBlobStoreException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * The SDK-independent half of turning a backend's failures into the SPI's exceptions; each cloud
 * module keeps only the half that reads its SDK's exceptions (status codes, error codes).
 * Messages built here name the store, the operation and the key, and quote no request.
 * Stateless and thread-safe.
 */
public final class TransferFailures {

    private TransferFailures() {
    }

    /** The cause of an {@link ExecutionException} or {@link CompletionException}, else {@code failure}. */
    public static Throwable unwrap(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof ExecutionException || t instanceof CompletionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** Whether {@code failure} or one of its causes is an I/O failure or a timeout: worth a retry. */
    public static boolean hasIoCause(Throwable failure) {
        return ioCause(failure) != null;
    }

    /** The first {@link IOException} or {@link TimeoutException} among {@code failure} and its causes, or null. */
    public static Throwable ioCause(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof IOException || t instanceof TimeoutException) {
                return t;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return null;
    }

    /**
     * An {@link InterruptedIOException} for {@code operation} on {@code key} (null for none),
     * with {@code cause}; restores the thread's interrupt status, which the caller swallowed.
     */
    public static InterruptedIOException interrupted(String store, String operation, BlobKey key, Throwable cause) {
        Thread.currentThread().interrupt();
        InterruptedIOException e = new InterruptedIOException(store + (key == null ? "" : ": " + key) + ": " + operation
                + " interrupted");
        if (cause != null) {
            e.initCause(cause);
        }
        return e;
    }

    /**
     * {@code failure}'s own message followed by its root cause's (type and message), which is
     * where SDKs keep the useful part ("Connection refused").
     */
    public static String rootMessage(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        String self = failure.getMessage();
        if (root == failure || message == null) {
            return self == null ? failure.getClass().getSimpleName() : firstLine(self);
        }
        return (self == null ? "" : firstLine(self) + " (") + root.getClass().getSimpleName() + ": " + firstLine(message)
                + (self == null ? "" : ")");
    }

    /** {@code t}'s simple class name and the first line of its message. */
    public static String describe(Throwable t) {
        String message = t.getMessage();
        return t.getClass().getSimpleName() + (message == null || message.isBlank() ? "" : " (" + firstLine(message) + ")");
    }

    /** The first line of {@code s}, cut at 200 characters. */
    public static String firstLine(String s) {
        String line = s.lines().findFirst().orElse("");
        return line.length() > 200 ? line.substring(0, 200) + "…" : line;
    }

    /** The failure of a read that needed the store's transfer threads after {@code close()}. */
    public static PermanentBlobStoreException closedDuringRead(String store, BlobKey key, Throwable cause) {
        return new PermanentBlobStoreException(store, key, "get: the store was closed during the read", cause);
    }

    /** The failure of any call on a closed store. */
    public static PermanentBlobStoreException closed(String store) {
        return new PermanentBlobStoreException(store, null, "the store is closed", null);
    }
}
