package io.dr4j.azure;

import com.azure.core.exception.HttpResponseException;
import com.azure.storage.blob.models.BlobErrorCode;
import com.azure.storage.blob.models.BlobStorageException;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.PermanentBlobStoreException;
import io.dr4j.storage.TransientBlobStoreException;
import io.dr4j.storage.transfer.TransferFailures;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.CancellationException;

/**
 * Turns what the Azure SDK throws into the SPI's exceptions (the SDK-independent half, shared
 * with the S3 store, is {@link TransferFailures}), so that no SDK type crosses
 * {@link io.dr4j.storage.BlobStore}. Messages name the operation, the store (account and
 * container) and the key; they never quote the request or, for authentication failures, the
 * service's text, which echoes the request signature.
 */
final class AzureFailures {

    private AzureFailures() {
    }

    /**
     * Maps {@code failure} of {@code operation} on {@code key} (null for container-level calls).
     * {@code conditionalCreate} says the request carried {@code If-None-Match: *}, so a failed
     * condition means "exists".
     */
    static IOException map(String store, String operation, BlobKey key, Throwable failure, boolean conditionalCreate) {
        Throwable t = unwrap(failure);
        if (t instanceof IOException io && !(t instanceof java.io.UncheckedIOException)) {
            if (t instanceof NoSuchFileException || t instanceof FileAlreadyExistsException
                    || t instanceof io.dr4j.storage.BlobStoreException || t instanceof InterruptedIOException) {
                return io;
            }
        }
        if (isInterruption(failure)) {
            return TransferFailures.interrupted(store, operation, key, failure);
        }
        if (t instanceof HttpResponseException http && http.getResponse() != null) {
            return mapStatus(store, operation, key, http, conditionalCreate);
        }
        Throwable io = TransferFailures.ioCause(failure);
        if (io != null) {
            return new TransientBlobStoreException(store, key, operation + " failed: " + TransferFailures.describe(io), failure);
        }
        return new PermanentBlobStoreException(store, key, operation + " failed unexpectedly: " + TransferFailures.describe(t),
                failure);
    }

    private static IOException mapStatus(String store, String operation, BlobKey key, HttpResponseException http,
            boolean conditionalCreate) {
        int status = http.getResponse().getStatusCode();
        String code = errorCode(http);
        boolean auth = status == 401 || status == 403;
        // The service text of an authentication failure quotes the request's signature: leave it
        // (and the SDK exception holding it) out.
        String detail = "HTTP " + status + (code.isEmpty() ? "" : " " + code)
                + (auth ? "" : serviceMessage(http));
        Throwable cause = auth ? null : http;

        if (BlobErrorCode.CONTAINER_NOT_FOUND.toString().equals(code)) {
            return new PermanentBlobStoreException(store, key, operation + ": the container does not exist ("
                    + detail + ")", cause);
        }
        if (status == 404) {
            NoSuchFileException e = new NoSuchFileException(key == null ? store : key.value(), null,
                    store + ": " + operation + ": no such object");
            e.initCause(http);
            return e;
        }
        if (BlobErrorCode.BLOB_ALREADY_EXISTS.toString().equals(code)
                || (conditionalCreate && (status == 409 || status == 412))) {
            FileAlreadyExistsException e = new FileAlreadyExistsException(key == null ? store : key.value(), null,
                    store + ": " + operation + ": object already exists");
            e.initCause(http);
            return e;
        }
        if (status == 412) {
            // Reads pin the first response's ETag: the object was replaced while it was read.
            return new TransientBlobStoreException(store, key, operation
                    + ": the object changed while it was being read (" + detail + "); read it again", cause);
        }
        if (auth) {
            return new PermanentBlobStoreException(store, key, operation
                    + ": access denied (" + detail + "): check the credential and its permissions on the container",
                    null);
        }
        if (BlobErrorCode.BLOB_ARCHIVED.toString().equals(code)) {
            return new PermanentBlobStoreException(store, key, operation
                    + ": the blob is in the Archive tier; rehydrate it before reading (" + detail + ")", cause);
        }
        if (BlobErrorCode.BLOB_IMMUTABLE_DUE_TO_POLICY.toString().equals(code)) {
            return new PermanentBlobStoreException(store, key, operation
                    + ": the blob is under an immutability policy or legal hold (" + detail + ")", cause);
        }
        if (status == 408 || status == 429 || status >= 500) {
            return new TransientBlobStoreException(store, key, operation + " failed: " + detail, cause);
        }
        return new PermanentBlobStoreException(store, key, operation + " failed: " + detail, cause);
    }

    private static String errorCode(HttpResponseException http) {
        if (http instanceof BlobStorageException storage && storage.getErrorCode() != null) {
            return storage.getErrorCode().toString();
        }
        String header = http.getResponse().getHeaders().getValue(com.azure.core.http.HttpHeaderName.fromString("x-ms-error-code"));
        return header == null ? "" : header;
    }

    private static String serviceMessage(HttpResponseException http) {
        if (http instanceof BlobStorageException storage && storage.getServiceMessage() != null) {
            String first = storage.getServiceMessage().lines().findFirst().orElse("").strip();
            return first.isEmpty() ? "" : ": " + (first.length() > 200 ? first.substring(0, 200) + "…" : first);
        }
        return "";
    }

    private static Throwable unwrap(Throwable failure) {
        Throwable t = TransferFailures.unwrap(failure);
        while ((t instanceof java.io.UncheckedIOException || t.getClass().getName().startsWith("reactor.core.Exceptions$"))
                && t.getCause() != null) {
            t = TransferFailures.unwrap(t.getCause());
        }
        return t;
    }

    private static boolean isInterruption(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof InterruptedException || t instanceof InterruptedIOException
                    || t instanceof CancellationException) {
                return true;
            }
        }
        return Thread.currentThread().isInterrupted();
    }
}
