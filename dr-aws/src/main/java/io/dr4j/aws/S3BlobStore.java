package io.dr4j.aws;

import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.Capability;
import io.dr4j.storage.PermanentBlobStoreException;
import io.dr4j.storage.TransientBlobStoreException;
import io.dr4j.storage.transfer.CloudBlobStore;
import io.dr4j.storage.transfer.Crc32c;
import io.dr4j.storage.transfer.NamedThreadFactory;
import io.dr4j.storage.transfer.PagedListing;
import io.dr4j.storage.transfer.PartUpload;
import io.dr4j.storage.transfer.SourceFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A {@link io.dr4j.storage.BlobStore} on Amazon S3 or an S3-compatible server (MinIO, Ceph RGW, S3Proxy, ...),
 * built on the AWS SDK for Java v2. Objects live in one bucket under an optional key prefix:
 * key {@code chunks/ab/cd} of a store with prefix {@code backups/prod} is the S3 object
 * {@code backups/prod/chunks/ab/cd}.
 *
 * <pre>{@code
 * BlobStore store = S3BlobStore.builder("my-bucket")
 *         .region(Region.EU_WEST_1)
 *         .keyPrefix("dr4j/prod")
 *         .storageClass("snapshots/archive", S3StorageClass.GLACIER_IR)
 *         .build();
 * }</pre>
 *
 * <p>Objects up to the multipart threshold are one {@code PutObject}, larger ones a multipart
 * upload of up to {@code concurrency} parts in flight that is aborted, after the parts in flight
 * stopped, if anything fails ({@link S3Uploader}). Reads are ranged GETs fetched ahead in
 * parallel and pinned to the first response's ETag ({@link S3Reader}); every object carries the
 * CRC-32C of its bytes in its metadata ({@value Crc32c#METADATA}), checked on whole-object reads.
 * {@link #put(BlobKey, byte[], int, int)} sends the caller's array range without copying it and
 * {@link #read(BlobKey, long, ByteBuffer)} lands a range in the caller's buffer. The shared
 * transfer machinery is {@link io.dr4j.storage.transfer}; this module keeps what speaks the SDK.
 * How it verifies bodies on S3-compatible servers, which layer retries what, and the memory each
 * transfer holds are explained in {@code docs/guide.md} ("S3" and "Retry plan").
 *
 * <p>Failures: 404 is {@link java.nio.file.NoSuchFileException}; 412/409 of a conditional put is
 * {@link FileAlreadyExistsException}; throttling, 5xx, timeouts and I/O failures are
 * {@link TransientBlobStoreException}; access denied, a missing bucket and other client errors
 * are {@link PermanentBlobStoreException} ({@link S3Failures}). Messages name the bucket, the
 * operation and the key, never a credential. Object Lock writes first check that the bucket can
 * lock, and refuse to write unlocked.
 *
 * <p>Thread-safe. The store owns {@code concurrency} named daemon worker threads, shut down by
 * {@link #close()}, and the client it built (never one the application passed in). Listing
 * skips S3 objects under the prefix whose names are not valid {@link BlobKey}s.
 */
public final class S3BlobStore extends CloudBlobStore {

    /** Smallest part S3 accepts (except the last): 5 MiB. */
    public static final long MIN_PART_SIZE = 5L << 20;
    /** Largest part S3 accepts: 5 GiB; parts are buffered in memory, so the store caps them at 1 GiB. */
    public static final long MAX_PART_SIZE = 1L << 30;
    /** Most parts one multipart upload may have. */
    public static final int MAX_PARTS = 10_000;
    /** Default part size: 16 MiB. */
    public static final long DEFAULT_PART_SIZE = 16L << 20;
    /** Default number of parts transferred at once per operation: 8. */
    public static final int DEFAULT_CONCURRENCY = 8;
    /** Default attempts per request of a client the store builds (the SDK standard strategy's): 3. */
    public static final int DEFAULT_SDK_MAX_ATTEMPTS = 3;

    /** User-metadata entry ({@code x-amz-meta-dr4jcrc32c}) with the CRC-32C of the whole object; see {@link Crc32c}. */
    public static final String CRC_METADATA = Crc32c.METADATA;

    private final S3Client client;
    private final boolean ownsClient;
    private final S3Options options;
    private final String name;
    private final String prefix;
    private final ExecutorService workers;
    private final S3Uploader uploader;
    private final S3Reader reader;

    S3BlobStore(S3Options options, S3Client client, boolean ownsClient) {
        super(options.storeName(), capabilitiesOf(options), options.multipartThreshold());
        this.options = options;
        this.client = client;
        this.ownsClient = ownsClient;
        this.name = options.storeName();
        this.prefix = options.objectPrefix();
        this.workers = Executors.newFixedThreadPool(options.concurrency(),
                new NamedThreadFactory("dr4j-s3-" + options.bucket()));
        this.uploader = new S3Uploader(client, options, workers);
        this.reader = new S3Reader(client, options, workers);
    }

    private static Set<Capability> capabilitiesOf(S3Options options) {
        EnumSet<Capability> caps = EnumSet.noneOf(Capability.class);
        if (options.conditionalPuts()) {
            caps.add(Capability.CONDITIONAL_PUT);
        }
        if (!options.storageClasses().isEmpty()) {
            caps.add(Capability.STORAGE_TIERS);
        }
        if (!options.locks().isEmpty()) {
            caps.add(Capability.OBJECT_LOCK);
        }
        return caps;
    }

    /** Returns a builder of a store on {@code bucket}. */
    public static S3BlobStoreBuilder builder(String bucket) {
        return new S3BlobStoreBuilder(bucket);
    }

    /** The bucket. */
    public String bucket() {
        return options.bucket();
    }

    /** The key prefix inside the bucket, empty for none. */
    public String keyPrefix() {
        return options.keyPrefix();
    }

    /** Whether puts carry a {@code Content-MD5} (see {@link S3BlobStoreBuilder#contentMd5}). */
    boolean sendsContentMd5() {
        return options.contentMd5();
    }

    /** The client in use (the application's or the store's own): an escape hatch to the SDK. */
    public S3Client client() {
        return client;
    }

    // ------------------------------------------------------------------------------------ puts

    @Override
    public void put(BlobKey key, Path source) throws IOException {
        Objects.requireNonNull(key, "key");
        long size = SourceFiles.size(source, key);
        try (FileChannel channel = FileChannel.open(source, StandardOpenOption.READ)) {
            if (size <= options.multipartThreshold()) {
                byte[] data = new byte[(int) size];
                SourceFiles.readFully(Channels.newInputStream(channel), data, 0, (int) size, what(key));
                uploader.putSingle(key, data, 0, data.length, false);
                return;
            }
            // a multipart upload declares its metadata before the first part: hash the file first
            CRC32C crc = new CRC32C();
            SourceFiles.hash(channel, 0, size, ByteBuffer.allocateDirect(1 << 20), crc, null, what(key) + " (" + source + ")");
            InputStream in = Channels.newInputStream(channel.position(0));
            uploader.putMultipart(key, PartUpload.fromStream(in, null, what(key)), size, false, Crc32c.hex(crc));
        }
    }

    @Override
    protected void putSingle(BlobKey key, byte[] data, int offset, int length, boolean conditional) throws IOException {
        uploader.putSingle(key, data, offset, length, conditional);
    }

    @Override
    protected void putParts(BlobKey key, byte[] data, int offset, int length, boolean conditional) throws IOException {
        uploader.putMultipart(key, PartUpload.fromArray(data, offset, null), length, conditional,
                Crc32c.hexOf(data, offset, length));
    }

    /** The CRC of a stream is known only at its end, after the upload declared its metadata: checked for length only. */
    @Override
    protected void putParts(BlobKey key, InputStream data, long length) throws IOException {
        uploader.putMultipart(key, PartUpload.fromStream(data, null, what(key)), length, false, null);
    }

    @Override
    public void putIfAbsent(BlobKey key, byte[] data) throws IOException {
        Objects.requireNonNull(key, "key");
        if (!options.conditionalPuts()) {
            // The server ignores If-None-Match (declared by the builder): best effort, as documented.
            if (find(key).isPresent()) {
                throw new FileAlreadyExistsException(key.value(), null, name + ": object already exists");
            }
            put(key, data);
            return;
        }
        put(key, data, 0, data.length, true);
    }

    @Override
    protected void readInto(BlobKey key, long offset, ByteBuffer dst) throws IOException {
        reader.readInto(key, offset, dst);
    }

    // ------------------------------------------------------------------------------------ reads

    @Override
    protected InputStream openRange(BlobKey key, long offset, long length, boolean whole) throws IOException {
        return reader.open(key, offset, length, k -> stat(k).size());
    }

    @Override
    public BlobInfo stat(BlobKey key) throws IOException {
        Objects.requireNonNull(key, "key");
        try {
            HeadObjectResponse head = client.headObject(b -> b.bucket(options.bucket()).key(prefix + key.value()));
            return new BlobInfo(key, head.contentLength(), head.lastModified());
        } catch (SdkException e) {
            throw S3Failures.translate(name, "HeadObject", key, e, false);
        }
    }

    @Override
    public Stream<BlobInfo> list(String listPrefix) throws IOException {
        BlobKey.checkPrefix(listPrefix);
        String s3Prefix = prefix + (listPrefix.isEmpty() ? "" : listPrefix + "/");
        String operation = "ListObjectsV2 '" + s3Prefix + "'";
        try {
            return PagedListing.of(
                    client.listObjectsV2Paginator(b -> b.bucket(options.bucket()).prefix(s3Prefix)
                            .maxKeys(options.listPageSize())).iterator(),
                    page -> page.contents(), this::infoOrNull,
                    e -> e instanceof SdkException sdk ? S3Failures.translate(name, operation, null, sdk, false)
                            : new PermanentBlobStoreException(name, null, operation + " failed: " + e, e));
        } catch (SdkException e) {
            throw S3Failures.translate(name, operation, null, e, false);
        }
    }

    private BlobInfo infoOrNull(S3Object object) {
        String k = object.key().substring(Math.min(prefix.length(), object.key().length()));
        if (!object.key().startsWith(prefix) || !BlobKey.isValid(k)) {
            return null;
        }
        return new BlobInfo(BlobKey.of(k), object.size(), object.lastModified());
    }

    @Override
    public void delete(BlobKey key) throws IOException {
        Objects.requireNonNull(key, "key");
        try {
            client.deleteObject(b -> b.bucket(options.bucket()).key(prefix + key.value()));
        } catch (AwsServiceException e) {
            if (e.statusCode() == 404 && (e.awsErrorDetails() == null
                    || !"NoSuchBucket".equals(e.awsErrorDetails().errorCode()))) {
                return;
            }
            throw S3Failures.translate(name, "DeleteObject", key, e, false);
        } catch (SdkException e) {
            throw S3Failures.translate(name, "DeleteObject", key, e, false);
        }
    }

    /**
     * Aborts the multipart uploads under this store's prefix that were started before
     * {@code startedBefore} (uploads whose own abort failed because the server was unreachable)
     * and returns how many it aborted. Uploads started later may belong to puts in progress and
     * are left alone.
     */
    public int abortIncompleteUploads(Instant startedBefore) throws IOException {
        Objects.requireNonNull(startedBefore, "startedBefore");
        int aborted = 0;
        try {
            for (MultipartUpload upload : client.listMultipartUploadsPaginator(b -> b.bucket(options.bucket()).prefix(prefix))
                    .uploads()) {
                if (!upload.key().startsWith(prefix)) {
                    continue; // a server that ignores the prefix parameter
                }
                if (upload.initiated() == null || upload.initiated().isBefore(startedBefore)) {
                    client.abortMultipartUpload(b -> b.bucket(options.bucket()).key(upload.key()).uploadId(upload.uploadId()));
                    aborted++;
                }
            }
        } catch (SdkException e) {
            throw S3Failures.translate(name, "ListMultipartUploads/AbortMultipartUpload", null, e, false);
        }
        return aborted;
    }

    /**
     * Aborts the incomplete multipart uploads under this store's prefix started more than
     * {@code olderThan} ago by the store's clock ({@link S3BlobStoreBuilder#clock}; S3 keeps, and
     * bills, their parts until then; prune calls this with its grace period). See
     * {@link #abortIncompleteUploads(Instant)}.
     */
    @Override
    public int cleanupIncompleteUploads(java.time.Duration olderThan) throws IOException {
        return abortIncompleteUploads(options.clock().instant().minus(olderThan));
    }

    private String what(BlobKey key) {
        return name + ": " + key;
    }

    /** Stops the part workers and closes the client if the store built it (never the application's). */
    @Override
    public void close() throws IOException {
        workers.shutdownNow();
        try {
            workers.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (ownsClient) {
            client.close();
        }
    }

    @Override
    public String toString() {
        return "S3BlobStore[" + name + ", partSize=" + options.partSize() + ", concurrency=" + options.concurrency()
                + ", conditionalPuts=" + options.conditionalPuts() + "]";
    }
}
