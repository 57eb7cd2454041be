package io.dr4j.aws;

import io.dr4j.storage.BlobKey;
import io.dr4j.storage.PermanentBlobStoreException;
import io.dr4j.storage.transfer.ContentMd5;
import io.dr4j.storage.transfer.Crc32c;
import io.dr4j.storage.transfer.PartUpload;
import io.dr4j.storage.transfer.PartUpload.Part;
import io.dr4j.storage.transfer.TransferFailures;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.GetObjectLockConfigurationResponse;
import software.amazon.awssdk.services.s3.model.ObjectLockEnabled;
import software.amazon.awssdk.services.s3.model.ObjectLockMode;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.StorageClass;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

/**
 * The writes of an {@link S3BlobStore}: one {@code PutObject} up to the multipart threshold, a
 * multipart upload above it (parts sent by the shared {@link PartUpload} pipeline, then
 * completed, or aborted after the parts in flight stopped), with the storage class, Object Lock
 * retention, {@code Content-MD5} and the CRC-32C metadata each object gets. Bodies are handed to
 * the SDK with {@link RequestBody#fromContentProvider}, which reads the caller's array in place
 * (no copy, unlike {@code fromBytes} or {@code fromByteBuffer}) and gives each SDK retry a fresh
 * stream. Thread-safe.
 */
final class S3Uploader {

    private static final String OCTET_STREAM = "application/octet-stream";

    private final S3Client client;
    private final S3Options options;
    private final String name;
    private final String prefix;
    private final ExecutorService workers;
    private volatile boolean bucketLockVerified;

    S3Uploader(S3Client client, S3Options options, ExecutorService workers) {
        this.client = client;
        this.options = options;
        this.name = options.storeName();
        this.prefix = options.objectPrefix();
        this.workers = workers;
    }

    /** One PutObject of {@code data[offset, offset + length)}. */
    void putSingle(BlobKey key, byte[] data, int offset, int length, boolean conditional) throws IOException {
        PutObjectRequest.Builder request = PutObjectRequest.builder()
                .bucket(options.bucket()).key(prefix + key.value()).contentLength((long) length).contentType(OCTET_STREAM)
                .metadata(Map.of(Crc32c.METADATA, Crc32c.hexOf(data, offset, length)));
        options.storageClasses().forKey(key).ifPresent(c -> request.storageClass(StorageClass.fromValue(c.wireName())));
        Optional<S3Options.LockRule> lock = lockFor(key);
        lock.ifPresent(rule -> request.objectLockMode(sdkMode(rule)).objectLockRetainUntilDate(retainUntil(rule)));
        if (options.contentMd5() || lock.isPresent()) {
            request.contentMD5(ContentMd5.base64(data, offset, length));
        }
        if (conditional) {
            request.ifNoneMatch("*");
        }
        try {
            client.putObject(request.build(), body(data, offset, length));
        } catch (SdkException e) {
            throw S3Failures.translate(name, "PutObject", key, e, conditional);
        }
    }

    private static RequestBody body(byte[] data, int offset, int length) {
        return RequestBody.fromContentProvider(() -> new ByteArrayInputStream(data, offset, length), length, OCTET_STREAM);
    }

    /**
     * A multipart upload of {@code length} bytes from {@code parts}. {@code crc}: the whole
     * object's CRC-32C for the upload's metadata, or null if unknown in time (a stream).
     */
    void putMultipart(BlobKey key, PartUpload.Parts<Part> parts, long length, boolean conditional, String crc)
            throws IOException {
        long size = partSizeFor(length);
        int count = (int) ((length + size - 1) / size);
        String objectKey = prefix + key.value();
        Optional<S3Options.LockRule> lock = lockFor(key);
        CreateMultipartUploadRequest.Builder create = CreateMultipartUploadRequest.builder()
                .bucket(options.bucket()).key(objectKey).contentType(OCTET_STREAM);
        if (crc != null) {
            create.metadata(Map.of(Crc32c.METADATA, crc));
        }
        options.storageClasses().forKey(key).ifPresent(c -> create.storageClass(StorageClass.fromValue(c.wireName())));
        lock.ifPresent(rule -> create.objectLockMode(sdkMode(rule)).objectLockRetainUntilDate(retainUntil(rule)));
        String uploadId;
        try {
            uploadId = client.createMultipartUpload(create.build()).uploadId();
        } catch (SdkException e) {
            throw S3Failures.translate(name, "CreateMultipartUpload", key, e, false);
        }
        boolean md5 = options.contentMd5() || lock.isPresent();
        try {
            List<CompletedPart> completed = PartUpload.run(length, size, options.concurrency(), workers, parts,
                    (index, part) -> uploadPart(key, objectKey, uploadId, index + 1, count, part, md5),
                    failure -> asIOException(failure, key));
            try {
                client.completeMultipartUpload(b -> {
                    b.bucket(options.bucket()).key(objectKey).uploadId(uploadId).multipartUpload(m -> m.parts(completed));
                    if (conditional) {
                        b.ifNoneMatch("*");
                    }
                });
            } catch (SdkException e) {
                throw S3Failures.translate(name, "CompleteMultipartUpload", key, e, conditional);
            }
        } catch (IOException | RuntimeException | Error failure) {
            IOException reported = failure instanceof IOException io ? io : asIOException(failure, key);
            abort(key, objectKey, uploadId, reported);
            throw reported;
        }
    }

    private CompletedPart uploadPart(BlobKey key, String objectKey, String uploadId, int partNumber, int parts, Part part,
            boolean md5) throws IOException {
        UploadPartRequest.Builder request = UploadPartRequest.builder().bucket(options.bucket()).key(objectKey)
                .uploadId(uploadId).partNumber(partNumber).contentLength((long) part.length());
        if (md5) {
            request.contentMD5(ContentMd5.base64(part.array(), part.offset(), part.length()));
        }
        try {
            String etag = client.uploadPart(request.build(), body(part.array(), part.offset(), part.length())).eTag();
            return CompletedPart.builder().partNumber(partNumber).eTag(etag).build();
        } catch (SdkException e) {
            throw S3Failures.translate(name, "UploadPart " + partNumber + " of " + parts, key, e, false);
        }
    }

    private IOException asIOException(Throwable cause, BlobKey key) {
        if (cause instanceof IOException io) {
            return io;
        }
        if (cause instanceof InterruptedException) {
            InterruptedIOException interrupted = TransferFailures.interrupted(name, "upload", key, cause);
            return new InterruptedIOException(interrupted.getMessage() + "; aborted");
        }
        if (cause instanceof SdkException sdk) {
            return S3Failures.translate(name, "multipart upload", key, sdk, false);
        }
        if (cause instanceof Error error) {
            throw error;
        }
        return new PermanentBlobStoreException(name, key, "multipart upload failed: " + cause, cause);
    }

    private void abort(BlobKey key, String objectKey, String uploadId, IOException reported) {
        try {
            client.abortMultipartUpload(b -> b.bucket(options.bucket()).key(objectKey).uploadId(uploadId));
        } catch (SdkException e) {
            reported.addSuppressed(S3Failures.translate(name,
                    "AbortMultipartUpload of upload " + uploadId + " (left open; abortIncompleteUploads removes it)",
                    key, e, false));
        }
    }

    private long partSizeFor(long length) {
        long minimum = (length + S3BlobStore.MAX_PARTS - 1) / S3BlobStore.MAX_PARTS;
        if (minimum <= options.partSize()) {
            return options.partSize();
        }
        long mib = 1L << 20;
        long size = (minimum + mib - 1) / mib * mib;
        if (size > S3BlobStore.MAX_PART_SIZE) {
            throw new IllegalArgumentException("object of " + length + " bytes is too large for " + S3BlobStore.MAX_PARTS
                    + " parts of at most " + S3BlobStore.MAX_PART_SIZE + " bytes");
        }
        return size;
    }

    private Optional<S3Options.LockRule> lockFor(BlobKey key) throws IOException {
        Optional<S3Options.LockRule> rule = options.locks().forKey(key);
        if (rule.isPresent() && !bucketLockVerified) {
            verifyBucketCanLock(key);
        }
        return rule;
    }

    private void verifyBucketCanLock(BlobKey key) throws IOException {
        String refusal = "Object Lock is configured for " + key + " but bucket '" + options.bucket()
                + "' cannot lock objects, so nothing was written (an unlocked backup would look immutable but not be)";
        GetObjectLockConfigurationResponse config;
        try {
            config = client.getObjectLockConfiguration(b -> b.bucket(options.bucket()));
        } catch (AwsServiceException e) {
            if (S3Failures.isTransientStatus(e.statusCode())) {
                throw S3Failures.translate(name, "GetObjectLockConfiguration", key, e, false);
            }
            String code = e.awsErrorDetails() == null ? "" : e.awsErrorDetails().errorCode();
            throw new PermanentBlobStoreException(name, key,
                    refusal + ": GetObjectLockConfiguration answered HTTP " + e.statusCode() + " " + code, e);
        } catch (SdkException e) {
            throw S3Failures.translate(name, "GetObjectLockConfiguration", key, e, false);
        }
        if (config.objectLockConfiguration() == null
                || config.objectLockConfiguration().objectLockEnabled() != ObjectLockEnabled.ENABLED) {
            throw new PermanentBlobStoreException(name, key, refusal + ": Object Lock is not enabled on the bucket", null);
        }
        bucketLockVerified = true;
    }

    private static ObjectLockMode sdkMode(S3Options.LockRule rule) {
        return rule.mode() == S3ObjectLockMode.COMPLIANCE ? ObjectLockMode.COMPLIANCE : ObjectLockMode.GOVERNANCE;
    }

    private Instant retainUntil(S3Options.LockRule rule) {
        return options.clock().instant().plus(rule.retention());
    }
}
