package io.dr4j.azure;

import com.azure.core.util.Context;
import com.azure.storage.blob.BlobClient;
import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.models.BlobItem;
import com.azure.storage.blob.models.BlobProperties;
import com.azure.storage.blob.models.DeleteSnapshotsOptionType;
import com.azure.storage.blob.models.ListBlobsOptions;
import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.Capability;
import io.dr4j.storage.transfer.CloudBlobStore;
import io.dr4j.storage.transfer.Crc32c;
import io.dr4j.storage.transfer.NamedThreadFactory;
import io.dr4j.storage.transfer.PagedListing;
import io.dr4j.storage.transfer.PartUpload;
import io.dr4j.storage.transfer.SourceFiles;
import io.dr4j.storage.transfer.TransferFailures;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * A {@link io.dr4j.storage.BlobStore} on Azure Blob Storage (azure-storage-blob), one container, with an optional
 * key prefix inside it: the key {@code chunks/ab/…} of a store with prefix {@code prod} is the
 * block blob {@code prod/chunks/ab/…}.
 *
 * <p>Up to the single-put threshold an object is one Put Blob; larger ones are blocks staged in
 * parallel and committed with one Put Block List, so a failed or interrupted put leaves the key
 * as it was ({@link AzureUploader}). The blocks an interrupted put staged stay uncommitted; Azure
 * discards uncommitted blocks by itself 7 days after they were staged, so
 * {@link #cleanupIncompleteUploads} has nothing to do here (it returns 0) and a killed backup's
 * blocks cost storage for at most a week. Reads are ranges fetched ahead in parallel, pinned to the
 * first response's ETag, with the CRC-32C of whole objects ({@value Crc32c#METADATA} metadata)
 * and the service's MD5 of partial ranges checked ({@link AzureReader}).
 * {@link #put(BlobKey, byte[], int, int)} sends the caller's array range without copying it and
 * {@link #read(BlobKey, long, ByteBuffer)} lands a range in the caller's buffer. The shared
 * transfer machinery is {@link io.dr4j.storage.transfer}; this module keeps what speaks the SDK.
 *
 * <p>Memory: an open read stream holds up to {@code concurrency × rangeSize} bytes; a large put
 * from a stream up to {@code (concurrency + 1) × blockSize}; a put from a file or a byte array
 * sends from the caller's data. Retries: a client the store builds makes one try per request by
 * default ({@link AzureBlobStoreBuilder#sdkMaxTries}), since dr4j's retries live in
 * {@link io.dr4j.storage.RetryingBlobStore}; see the retry plan in {@code docs/guide.md}.
 *
 * <p>Resources: a store that built its own client owns its Netty event loop and connection pool;
 * {@link #close()} releases them and the store's named transfer threads. A client the application
 * passed in is never closed. Secrets (connection strings, account keys, SAS tokens) are not kept
 * in fields that print, and appear in no message or {@link #name()}.
 *
 * <p>Thread-safe.
 */
public final class AzureBlobStore extends CloudBlobStore {

    /** Metadata entry holding the CRC-32C (8 hex digits) of the whole object as written by dr4j; see {@link Crc32c}. */
    public static final String CRC_METADATA = Crc32c.METADATA;

    /**
     * Default block size of a staged upload: 64 MiB. Fewer, larger Put Block requests cost the
     * service less per byte (measured against the SDK's defaults with {@code AzureSideBySide}: 8 MiB
     * blocks were 0.86–0.92x the SDK's upload speed, 64 MiB 1.09–1.30x).
     */
    public static final long DEFAULT_BLOCK_SIZE = 64L << 20;
    /** Default number of blocks staged, or ranges fetched, in parallel per transfer: 4. */
    public static final int DEFAULT_CONCURRENCY = 4;
    /** Default size of one ranged download request: 8 MiB. */
    public static final long DEFAULT_RANGE_SIZE = 8L << 20;
    /** Default timeout of one HTTP request when the store builds its client: 60 s. */
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(60);
    /** Default number of blobs per listing page: 1,000. */
    public static final int DEFAULT_LIST_PAGE_SIZE = 1_000;

    static final long MAX_BLOCK_SIZE = 4000L << 20;
    static final long MIN_TRANSFER_SIZE = 64L << 10;
    static final long MAX_BUFFERED = 256L << 20;

    private final BlobContainerClient container;
    private final AzureOptions options;
    private final String prefix;
    private final String name;
    private final ThreadPoolExecutor transfers;
    private final AzureHttp ownedHttp;
    private final AzureUploader uploader;
    private final AzureReader reader;
    private final AtomicBoolean closed = new AtomicBoolean();

    AzureBlobStore(AzureOptions options, BlobContainerClient container, AzureHttp ownedHttp) {
        super(nameOf(options, container), capabilitiesOf(options), options.singlePutThreshold());
        this.container = container;
        this.options = options;
        this.prefix = options.blobPrefix();
        this.name = name();
        this.ownedHttp = ownedHttp;
        this.transfers = new ThreadPoolExecutor(options.concurrency(), options.concurrency(), 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), new NamedThreadFactory("dr4j-azure-" + container.getBlobContainerName()));
        this.transfers.allowCoreThreadTimeOut(true);
        this.uploader = new AzureUploader(container, options, name, transfers);
        this.reader = new AzureReader(container, options, name, transfers);
    }

    private static String nameOf(AzureOptions options, BlobContainerClient container) {
        return "azure://" + container.getAccountName() + "/" + container.getBlobContainerName()
                + (options.prefix().isEmpty() ? "" : "/" + options.prefix());
    }

    private static Set<Capability> capabilitiesOf(AzureOptions options) {
        Set<Capability> caps = EnumSet.of(Capability.CONDITIONAL_PUT);
        if (!options.tiers().isEmpty()) {
            caps.add(Capability.STORAGE_TIERS);
        }
        if (!options.immutability().isEmpty()) {
            caps.add(Capability.OBJECT_LOCK);
        }
        return caps;
    }

    /** Returns a builder; give it exactly one way to reach the container. */
    public static AzureBlobStoreBuilder builder() {
        return new AzureBlobStoreBuilder();
    }

    /** The container this store writes to (the application's own client, or the one the store built): an escape hatch to the SDK. */
    public BlobContainerClient containerClient() {
        return container;
    }

    // ------------------------------------------------------------------ writes

    @Override
    public void put(BlobKey key, Path source) throws IOException {
        Objects.requireNonNull(key, "key");
        checkOpen();
        long length = SourceFiles.size(source, key);
        if (length <= options.singlePutThreshold()) {
            uploader.putSingleFromFile(key, source, length);
        } else {
            uploader.putFileBlocks(key, source, length);
        }
    }

    @Override
    protected void putSingle(BlobKey key, byte[] data, int offset, int length, boolean ifAbsent) throws IOException {
        uploader.putSingle(key, data, offset, length, ifAbsent);
    }

    @Override
    protected void putParts(BlobKey key, byte[] data, int offset, int length, boolean ifAbsent) throws IOException {
        CRC32C crc = new CRC32C();
        uploader.putBlocks(key, PartUpload.fromArray(data, offset, crc), length, crc, ifAbsent);
    }

    @Override
    protected void putParts(BlobKey key, InputStream data, long length) throws IOException {
        CRC32C crc = new CRC32C();
        uploader.putBlocks(key, PartUpload.fromStream(data, crc, name + ": " + key), length, crc, false);
    }

    // ------------------------------------------------------------------ reads

    @Override
    protected InputStream openRange(BlobKey key, long offset, long length, boolean whole) throws IOException {
        return reader.open(key, offset, length, whole, k -> stat(k).size());
    }

    @Override
    protected void readInto(BlobKey key, long offset, ByteBuffer dst) throws IOException {
        reader.readInto(key, offset, dst);
    }

    @Override
    public BlobInfo stat(BlobKey key) throws IOException {
        Objects.requireNonNull(key, "key");
        checkOpen();
        try {
            BlobProperties p = blob(key).getPropertiesWithResponse(null, null, Context.NONE).getValue();
            return new BlobInfo(key, p.getBlobSize(), p.getLastModified().toInstant());
        } catch (RuntimeException e) {
            throw AzureFailures.map(name, "stat", key, e, false);
        }
    }

    @Override
    public Stream<BlobInfo> list(String listPrefix) throws IOException {
        BlobKey.checkPrefix(listPrefix);
        checkOpen();
        String full = prefix + (listPrefix.isEmpty() ? "" : listPrefix + "/");
        ListBlobsOptions listing = new ListBlobsOptions().setMaxResultsPerPage(options.listPageSize());
        if (!full.isEmpty()) {
            listing.setPrefix(full);
        }
        String operation = "list '" + listPrefix + "'";
        try {
            return PagedListing.of(container.listBlobs(listing, null).iterableByPage().iterator(), page -> page.getValue(),
                    this::infoOrNull, e -> AzureFailures.map(name, operation, null, e, false));
        } catch (RuntimeException e) {
            throw AzureFailures.map(name, operation, null, e, false);
        }
    }

    /** Blobs whose names are not valid keys (written by other tools) are left out of listings. */
    private BlobInfo infoOrNull(BlobItem item) {
        String blobName = item.getName();
        if (!blobName.startsWith(prefix)) {
            return null;
        }
        String keyName = blobName.substring(prefix.length());
        if (!BlobKey.isValid(keyName) || item.getProperties() == null) {
            return null;
        }
        Long size = item.getProperties().getContentLength();
        return new BlobInfo(BlobKey.of(keyName), size == null ? 0 : size, item.getProperties().getLastModified().toInstant());
    }

    @Override
    public void delete(BlobKey key) throws IOException {
        Objects.requireNonNull(key, "key");
        checkOpen();
        try {
            blob(key).deleteIfExistsWithResponse(DeleteSnapshotsOptionType.INCLUDE, null, null, Context.NONE);
        } catch (RuntimeException e) {
            IOException mapped = AzureFailures.map(name, "delete", key, e, false);
            if (mapped instanceof NoSuchFileException) {
                return;
            }
            throw mapped;
        }
    }

    /**
     * Releases the transfer threads and, if this store built the Azure client, its Netty event loop
     * and connection pool. Streams still open fail on their next range. Idempotent.
     */
    @Override
    public void close() throws IOException {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        transfers.shutdownNow();
        try {
            transfers.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (ownedHttp != null) {
            ownedHttp.close();
        }
    }

    @Override
    protected void checkOpen() throws IOException {
        if (closed.get()) {
            throw TransferFailures.closed(name);
        }
    }

    private BlobClient blob(BlobKey key) {
        return container.getBlobClient(prefix + key.value());
    }
}
