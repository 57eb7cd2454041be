package io.dr4j.aws;

import io.dr4j.storage.BlobKey;
import io.dr4j.storage.PermanentBlobStoreException;
import io.dr4j.storage.TransientBlobStoreException;
import io.dr4j.storage.transfer.TransferFailures;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.AbortedException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * Turns SDK exceptions into the storage SPI's: 404 is "not found", 412 and 409 on a conditional
 * put are "already exists", throttling, 5xx, timeouts, I/O failures and a body the server found
 * damaged (checksum mismatch) are transient, the rest
 * (access denied, missing bucket, bad request, bad configuration) permanent.
 *
 * <p>Only what reads the SDK's exceptions is here; the SDK-independent half (interruption, I/O
 * causes, root messages) is {@link TransferFailures}, shared with the Azure store.
 *
 * <p>Messages name the operation, the bucket (through the store name) and the key, with the
 * service's error code and message. They never quote request headers, so no credential or
 * signature can leak into them. Stateless and thread-safe.
 */
final class S3Failures {

    private S3Failures() {
    }

    /** Status codes S3 uses for "try again": throttling (429, 503 SlowDown), server errors, request timeout. */
    static boolean isTransientStatus(int status) {
        return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
    }

    /**
     * Translates {@code failure} of {@code operation} on {@code key} (null for bucket-level
     * operations). {@code conditional} is true for a put with {@code If-None-Match: *}, where 412
     * and 409 mean "an object is already there".
     */
    static IOException translate(String store, String operation, BlobKey key, SdkException failure, boolean conditional) {
        if (failure instanceof AwsServiceException service) {
            int status = service.statusCode();
            String code = service.awsErrorDetails() == null ? null : service.awsErrorDetails().errorCode();
            String message = service.awsErrorDetails() == null ? null : service.awsErrorDetails().errorMessage();
            String detail = operation + " failed: HTTP " + status + (code == null ? "" : " " + code)
                    + (message == null || message.isBlank() ? "" : ": " + message);
            if (conditional && (status == 412 || status == 409)) {
                FileAlreadyExistsException exists = new FileAlreadyExistsException(
                        key == null ? "" : key.value(), null, store + ": object already exists");
                exists.initCause(failure);
                return exists;
            }
            if (status == 404 && key != null && !"NoSuchBucket".equals(code) && !"NoSuchUpload".equals(code)) {
                NoSuchFileException missing = new NoSuchFileException(key.value(), null, store + ": no such object");
                missing.initCause(failure);
                return missing;
            }
            if ("NoSuchBucket".equals(code)) {
                return new PermanentBlobStoreException(store, key,
                        message == null || message.isBlank() ? detail + " (the bucket does not exist)" : detail, failure);
            }
            if (status == 403) {
                return new PermanentBlobStoreException(store, key,
                        detail + " (check the credentials and the bucket policy)", failure);
            }
            if ("BadDigest".equals(code) || "XAmzContentSHA256Mismatch".equals(code)) {
                // the server received other bytes than were sent and refused them: sending again may succeed
                return new TransientBlobStoreException(store, key,
                        detail + " (the body was damaged on its way to the server, which refused it; nothing was stored)", failure);
            }
            if (isTransientStatus(status) || "RequestTimeout".equals(code) || "SlowDown".equals(code)) {
                return new TransientBlobStoreException(store, key, detail, failure);
            }
            return new PermanentBlobStoreException(store, key, detail, failure);
        }
        if (failure instanceof AbortedException && Thread.currentThread().isInterrupted()) {
            return TransferFailures.interrupted(store, operation, key, failure);
        }
        if (failure instanceof ApiCallTimeoutException || failure instanceof ApiCallAttemptTimeoutException
                || TransferFailures.hasIoCause(failure)) {
            return new TransientBlobStoreException(store, key,
                    operation + " failed: " + TransferFailures.rootMessage(failure) + " (after the SDK's own retries)", failure);
        }
        if (failure instanceof SdkClientException) {
            // no I/O underneath: credentials that cannot be loaded, a malformed endpoint, ...
            return new PermanentBlobStoreException(store, key, operation + " failed: " + TransferFailures.rootMessage(failure), failure);
        }
        return new PermanentBlobStoreException(store, key, operation + " failed: " + TransferFailures.rootMessage(failure), failure);
    }
}
