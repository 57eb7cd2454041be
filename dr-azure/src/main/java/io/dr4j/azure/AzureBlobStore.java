package io.dr4j.azure;

import com.azure.core.credential.AzureSasCredential;
import com.azure.core.credential.TokenCredential;
import com.azure.core.http.HttpClient;
import com.azure.core.http.netty.NettyAsyncHttpClientBuilder;
import com.azure.core.http.rest.PagedResponse;
import com.azure.core.util.BinaryData;
import com.azure.core.util.Context;
import com.azure.storage.blob.BlobClient;
import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.BlobContainerClientBuilder;
import com.azure.storage.blob.BlobServiceClient;
import com.azure.storage.blob.models.AccessTier;
import com.azure.storage.blob.models.BlobDownloadContentResponse;
import com.azure.storage.blob.models.BlobDownloadHeaders;
import com.azure.storage.blob.models.BlobHttpHeaders;
import com.azure.storage.blob.models.BlobImmutabilityPolicy;
import com.azure.storage.blob.models.BlobImmutabilityPolicyMode;
import com.azure.storage.blob.models.BlobItem;
import com.azure.storage.blob.models.BlobProperties;
import com.azure.storage.blob.models.BlobRange;
import com.azure.storage.blob.models.BlobRequestConditions;
import com.azure.storage.blob.models.BlobStorageException;
import com.azure.storage.blob.models.DeleteSnapshotsOptionType;
import com.azure.storage.blob.models.DownloadRetryOptions;
import com.azure.storage.blob.models.ListBlobsOptions;
import com.azure.storage.blob.options.BlockBlobCommitBlockListOptions;
import com.azure.storage.blob.options.BlockBlobSimpleUploadOptions;
import com.azure.storage.blob.options.BlockBlobStageBlockOptions;
import com.azure.storage.blob.specialized.BlockBlobClient;
import com.azure.storage.common.StorageSharedKeyCredential;
import com.azure.storage.common.policy.RequestRetryOptions;
import com.azure.storage.common.policy.RetryPolicyType;
import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStore;
import io.dr4j.storage.Capability;
import io.dr4j.storage.PermanentBlobStoreException;
import io.dr4j.storage.RetryingBlobStore;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Set;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import java.util.zip.CRC32C;
import reactor.netty.resources.ConnectionProvider;

/**
 * A {@link BlobStore} on Azure Blob Storage (azure-storage-blob), one container, with an optional
 * key prefix inside it: the key {@code chunks/ab/…} of a store with prefix {@code prod} is the
 * block blob {@code prod/chunks/ab/…}.
 *
 * <h2>Writes</h2>
 * An object up to {@link Builder#singlePutThreshold(long) the single-put threshold} is one Put
 * Blob. A larger one is cut into blocks of {@link Builder#blockSize(long) blockSize} bytes staged in
 * parallel ({@link Builder#concurrency(int) concurrency} at a time) under block ids unique to the
 * upload, then committed with one Put Block List: until that commit the key shows the previous
 * object (uncommitted blocks are invisible and Azure discards them after a week), so a failed or
 * interrupted put leaves the key as it was. Every request body carries a {@code Content-MD5} the
 * service checks ({@link Builder#contentMd5(boolean) by default}); the CRC-32C of the whole object is stored in the blob's metadata
 * ({@value #CRC_METADATA}) and checked when the whole object is read back. {@link #putIfAbsent}
 * sends {@code If-None-Match: *}, which Azure enforces atomically.
 *
 * <h2>Reads</h2>
 * Reads fetch {@link Builder#rangeSize(long) rangeSize} ranges, up to {@code concurrency} ahead of
 * the reader, each pinned to the ETag of the first response, so an object replaced during a read
 * fails the read (transiently) instead of mixing two versions. A partial read asks the service
 * for each range's MD5 (ranges up to 4 MiB) and checks it.
 *
 * <h2>Memory</h2>
 * An open read stream holds up to {@code concurrency × rangeSize} bytes; a large put from a
 * stream or byte array up to {@code concurrency × blockSize}; a put from a file sends blocks
 * straight from the file and holds a 1 MiB buffer; a single put from a stream holds the object
 * (at most {@link Builder#singlePutThreshold(long) the threshold}).
 *
 * <h2>Retries</h2>
 * When this class builds the Azure client itself (connection string, endpoint + credential), it
 * sets the SDK to {@link Builder#sdkMaxTries(int) one try per request} by default, because dr4j's
 * retries live in one place, {@link RetryingBlobStore}; raising it lets the SDK retry single block
 * and range requests as well, and the attempts of the two then multiply. A client the application
 * passes in keeps the retry policy the application gave it (the SDK's default is 4 tries).
 *
 * <h2>Resources</h2>
 * A store that built its own client owns its Netty event loop and connection pool; {@link #close()}
 * releases them and the store's transfer threads. A client the application passed in is never
 * closed. Secrets (connection strings, account keys, SAS tokens) are not kept in fields that
 * print, and appear in no message or {@link #name()}.
 *
 * <p>Thread-safe.
 */
public final class AzureBlobStore implements BlobStore {

    /** Metadata entry holding the CRC-32C (8 hex digits) of the whole object as written by dr4j. */
    public static final String CRC_METADATA = "dr4jcrc32c";

    /**
     * Default block size of a staged upload: 64 MiB. Fewer, larger Put Block requests cost the
     * service less per byte (measured against the SDK's defaults with {@code AzureSideBySide}: 8 MiB
     * blocks were 0.86–0.92x the SDK's upload speed, 64 MiB 1.09–1.30x); a put from a file sends
     * them straight from the file, a put from a stream buffers up to {@code concurrency} of them.
     */
    public static final long DEFAULT_BLOCK_SIZE = 64L << 20;
    /** Default number of blocks staged, or ranges fetched, in parallel per transfer: 4. */
    public static final int DEFAULT_CONCURRENCY = 4;
    /** Default size of one ranged download request: 8 MiB. */
    public static final long DEFAULT_RANGE_SIZE = 8L << 20;
    /** Default timeout of one HTTP request when the store builds its client: 60 s. */
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(60);

    private static final long MAX_BLOCK_SIZE = 4000L << 20;
    private static final long MIN_TRANSFER_SIZE = 64L << 10;
    private static final long MAX_BUFFERED = 256L << 20;
    private static final int MAX_BLOCKS = 50_000;
    /** Azure returns a range's MD5 only for ranges of at most 4 MiB. */
    private static final long MAX_MD5_RANGE = 4L << 20;
    /** Default number of blobs per listing page: 1,000. */
    public static final int DEFAULT_LIST_PAGE_SIZE = 1_000;

    private final BlobContainerClient container;
    private final String prefix;
    private final String name;
    private final long blockSize;
    private final long singlePutThreshold;
    private final long rangeSize;
    private final int concurrency;
    private final boolean verifyChecksums;
    private final boolean contentMd5;
    private final int sdkMaxTries;
    private final int listPageSize;
    private final NavigableMap<String, AzureAccessTier> tiers;
    private final NavigableMap<String, Immutability> immutability;
    private final Clock clock;
    private final ThreadPoolExecutor transfers;
    private final OwnedHttp ownedHttp;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile Boolean containerAllowsImmutability;

    private AzureBlobStore(Builder b, BlobContainerClient container, OwnedHttp ownedHttp) {
        this.container = container;
        this.prefix = b.prefix.isEmpty() ? "" : b.prefix + "/";
        this.name = "azure://" + container.getAccountName() + "/" + container.getBlobContainerName()
                + (b.prefix.isEmpty() ? "" : "/" + b.prefix);
        this.blockSize = b.blockSize;
        this.singlePutThreshold = b.singlePutThreshold < 0 ? Math.min(b.blockSize, MAX_BUFFERED) : b.singlePutThreshold;
        this.rangeSize = b.rangeSize;
        this.concurrency = b.concurrency;
        this.verifyChecksums = b.verifyChecksums;
        this.contentMd5 = b.contentMd5;
        this.sdkMaxTries = b.sdkMaxTries;
        this.listPageSize = b.listPageSize;
        this.tiers = Collections.unmodifiableNavigableMap(new TreeMap<>(b.tiers));
        this.immutability = Collections.unmodifiableNavigableMap(new TreeMap<>(b.immutability));
        this.clock = b.clock;
        this.ownedHttp = ownedHttp;
        AtomicInteger threads = new AtomicInteger();
        this.transfers = new ThreadPoolExecutor(concurrency, concurrency, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "dr4j-azure-transfer-" + threads.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        this.transfers.allowCoreThreadTimeOut(true);
    }

    /** Returns a builder; give it exactly one way to reach the container. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Set<Capability> capabilities() {
        Set<Capability> caps = EnumSet.of(Capability.CONDITIONAL_PUT);
        if (!tiers.isEmpty()) {
            caps.add(Capability.STORAGE_TIERS);
        }
        if (!immutability.isEmpty()) {
            caps.add(Capability.OBJECT_LOCK);
        }
        return Collections.unmodifiableSet(caps);
    }

    /** The container this store writes to (the application's own client, or the one the store built). */
    public BlobContainerClient containerClient() {
        return container;
    }

    // ------------------------------------------------------------------ writes

    @Override
    public void put(BlobKey key, Path source) throws IOException {
        Objects.requireNonNull(key, "key");
        checkOpen();
        long length;
        try {
            length = Files.size(source);
        } catch (NoSuchFileException e) {
            NoSuchFileException missing = new NoSuchFileException(source.toString(), null,
                    "source file for " + key + " does not exist");
            missing.initCause(e);
            throw missing;
        }
        if (length <= singlePutThreshold) {
            putSingleFromFile(key, source, length);
        } else {
            putFileBlocks(key, source, length);
        }
    }

    @Override
    public void put(BlobKey key, byte[] data) throws IOException {
        Objects.requireNonNull(key, "key");
        checkOpen();
        if (data.length <= singlePutThreshold) {
            putSingle(key, data, data.length, false);
        } else {
            write(key, new ByteArrayInputStream(data), data.length, false);
        }
    }

    @Override
    public void put(BlobKey key, InputStream data, long length) throws IOException {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(data, "data");
        if (length < 0) {
            throw new IllegalArgumentException("negative length " + length + " for " + key);
        }
        checkOpen();
        write(key, data, length, false);
    }

    @Override
    public void putIfAbsent(BlobKey key, byte[] data) throws IOException {
        Objects.requireNonNull(key, "key");
        checkOpen();
        if (data.length <= singlePutThreshold) {
            putSingle(key, data, data.length, true);
        } else {
            write(key, new ByteArrayInputStream(data), data.length, true);
        }
    }

    private void write(BlobKey key, InputStream in, long length, boolean ifAbsent) throws IOException {
        if (length <= singlePutThreshold) {
            byte[] body = new byte[(int) length];
            readFully(in, body, (int) length, key);
            putSingle(key, body, body.length, ifAbsent);
        } else {
            putBlocks(key, in, length, ifAbsent);
        }
    }

    private void putSingle(BlobKey key, byte[] body, int length, boolean ifAbsent) throws IOException {
        CRC32C crc = new CRC32C();
        crc.update(body, 0, length);
        byte[] md5 = contentMd5 ? md5(body, 0, length) : null;
        putSingle(key, BinaryData.fromByteBuffer(ByteBuffer.wrap(body, 0, length)), crc, md5, ifAbsent);
    }

    /**
     * One Put Blob streamed from the file, as the SDK's {@code uploadFromFile} does: no heap copy
     * of the object, one extra sequential read for its checksums.
     */
    private void putSingleFromFile(BlobKey key, Path source, long length) throws IOException {
        CRC32C crc = new CRC32C();
        MessageDigest md5 = contentMd5 ? newMd5() : null;
        ByteBuffer scratch = ByteBuffer.allocateDirect((int) Math.max(1, Math.min(length, 1 << 20)));
        try (FileChannel channel = FileChannel.open(source, StandardOpenOption.READ)) {
            long done = 0;
            while (done < length) {
                scratch.clear().limit((int) Math.min(scratch.capacity(), length - done));
                int r = channel.read(scratch, done);
                if (r < 0) {
                    throw new EOFException(name + ": " + key + ": " + source + " shrank to " + done
                            + " bytes during the put; nothing was stored");
                }
                scratch.flip();
                crc.update(scratch.duplicate());
                if (md5 != null) {
                    md5.update(scratch);
                }
                done += r;
            }
        }
        BinaryData body = length == 0 ? BinaryData.fromBytes(new byte[0])
                : BinaryData.fromFile(source, 0L, length, (int) Math.min(length, 1 << 20));
        putSingle(key, body, crc, md5 == null ? null : md5.digest(), false);
    }

    private void putSingle(BlobKey key, BinaryData body, CRC32C crc, byte[] md5, boolean ifAbsent) throws IOException {
        BlockBlobSimpleUploadOptions options = new BlockBlobSimpleUploadOptions(body)
                .setContentMd5(md5)
                .setMetadata(Map.of(CRC_METADATA, crcHex(crc)))
                .setRequestConditions(ifAbsent ? new BlobRequestConditions().setIfNoneMatch("*") : null);
        AzureAccessTier tier = ruleFor(tiers, key);
        if (tier != null) {
            options.setTier(AccessTier.fromString(tier.wireName()));
        }
        Immutability lock = ruleFor(immutability, key);
        if (lock != null) {
            requireImmutabilitySupport(key);
            options.setImmutabilityPolicy(policyOf(lock));
            if (lock.legalHold()) {
                options.setLegalHold(true);
            }
        }
        String operation = ifAbsent ? "putIfAbsent" : "put";
        try {
            blockBlob(key).uploadWithResponse(options, null, Context.NONE);
        } catch (RuntimeException e) {
            throw Failures.map(name, operation, key, e, ifAbsent);
        }
    }

    private void putBlocks(BlobKey key, InputStream in, long length, boolean ifAbsent) throws IOException {
        String operation = ifAbsent ? "putIfAbsent" : "put";
        Immutability lock = ruleFor(immutability, key);
        if (lock != null) {
            requireImmutabilitySupport(key);
        }
        BlockBlobClient blob = blockBlob(key);
        long size = blockSizeFor(key, length, operation);
        int blocks = (int) ((length + size - 1) / size);
        String uploadId = String.format("%016x", ThreadLocalRandom.current().nextLong());
        List<String> ids = new ArrayList<>(blocks);
        CRC32C crc = new CRC32C();
        ArrayDeque<Future<byte[]>> inFlight = new ArrayDeque<>();
        ArrayDeque<byte[]> free = new ArrayDeque<>();
        try {
            for (int i = 0; i < blocks; i++) {
                byte[] buffer;
                if (inFlight.size() >= concurrency) {
                    // Waiting for the oldest bounds memory and surfaces a failure before more is sent.
                    buffer = await(inFlight.removeFirst(), key, operation);
                } else {
                    buffer = free.isEmpty() ? null : free.removeFirst();
                }
                int n = (int) Math.min(size, length - (long) i * size);
                if (buffer == null || buffer.length < n) {
                    buffer = new byte[(int) size];
                }
                readFully(in, buffer, n, key);
                crc.update(buffer, 0, n);
                String id = blockId(uploadId, i);
                ids.add(id);
                byte[] body = buffer;
                inFlight.addLast(transfers.submit(() -> {
                    BlockBlobStageBlockOptions stage = new BlockBlobStageBlockOptions(id,
                            BinaryData.fromByteBuffer(ByteBuffer.wrap(body, 0, n)))
                            .setContentMd5(contentMd5 ? md5(body, 0, n) : null);
                    blob.stageBlockWithResponse(stage, null, Context.NONE);
                    return body;
                }));
            }
            while (!inFlight.isEmpty()) {
                free.addLast(await(inFlight.removeFirst(), key, operation));
            }
        } catch (IOException | RuntimeException | Error e) {
            for (Future<byte[]> f : inFlight) {
                f.cancel(true);
            }
            throw e;
        }
        commit(key, blob, ids, crc, lock, ifAbsent);
    }

    /**
     * Stages a file's blocks straight from the file (the HTTP client can send file regions without
     * copying them through the heap), while this thread reads the file once, in order, for the
     * whole-object CRC-32C and each block's MD5.
     */
    private void putFileBlocks(BlobKey key, Path source, long length) throws IOException {
        Immutability lock = ruleFor(immutability, key);
        if (lock != null) {
            requireImmutabilitySupport(key);
        }
        BlockBlobClient blob = blockBlob(key);
        long size = blockSizeFor(key, length, "put");
        int blocks = (int) ((length + size - 1) / size);
        String uploadId = String.format("%016x", ThreadLocalRandom.current().nextLong());
        List<String> ids = new ArrayList<>(blocks);
        CRC32C crc = new CRC32C();
        ArrayDeque<Future<Void>> inFlight = new ArrayDeque<>();
        ByteBuffer scratch = ByteBuffer.allocateDirect(1 << 20);
        try (FileChannel channel = FileChannel.open(source, StandardOpenOption.READ)) {
            for (int i = 0; i < blocks; i++) {
                if (inFlight.size() >= concurrency) {
                    await(inFlight.removeFirst(), key, "put");
                }
                long offset = (long) i * size;
                long n = Math.min(size, length - offset);
                MessageDigest md5 = contentMd5 ? newMd5() : null;
                long done = 0;
                while (done < n) {
                    scratch.clear().limit((int) Math.min(scratch.capacity(), n - done));
                    int r = channel.read(scratch, offset + done);
                    if (r < 0) {
                        throw new EOFException(name + ": " + key + ": " + source + " shrank to " + (offset + done)
                                + " bytes during the put; nothing was stored");
                    }
                    scratch.flip();
                    crc.update(scratch.duplicate());
                    if (md5 != null) {
                        md5.update(scratch);
                    }
                    done += r;
                }
                String id = blockId(uploadId, i);
                ids.add(id);
                byte[] digest = md5 == null ? null : md5.digest();
                inFlight.addLast(transfers.submit(() -> {
                    blob.stageBlockWithResponse(new BlockBlobStageBlockOptions(id,
                            BinaryData.fromFile(source, offset, n, (int) Math.min(n, 1 << 20))).setContentMd5(digest),
                            null, Context.NONE);
                    return null;
                }));
            }
            while (!inFlight.isEmpty()) {
                await(inFlight.removeFirst(), key, "put");
            }
        } catch (IOException | RuntimeException | Error e) {
            for (Future<Void> f : inFlight) {
                f.cancel(true);
            }
            throw e;
        }
        commit(key, blob, ids, crc, lock, false);
    }

    private long blockSizeFor(BlobKey key, long length, String operation) throws IOException {
        // Azure allows 50,000 blocks per blob: larger objects get larger blocks.
        long size = Math.max(blockSize, (length + MAX_BLOCKS - 1) / MAX_BLOCKS);
        if (size > MAX_BLOCK_SIZE) {
            throw new PermanentBlobStoreException(name, key, operation + ": " + length
                    + " bytes exceed Azure's largest block blob (50,000 blocks of 4000 MiB)", null);
        }
        return size;
    }

    private void commit(BlobKey key, BlockBlobClient blob, List<String> ids, CRC32C crc, Immutability lock,
            boolean ifAbsent) throws IOException {
        BlockBlobCommitBlockListOptions commit = new BlockBlobCommitBlockListOptions(ids)
                .setMetadata(Map.of(CRC_METADATA, crcHex(crc)))
                .setHeaders(new BlobHttpHeaders().setContentType("application/octet-stream"))
                .setRequestConditions(ifAbsent ? new BlobRequestConditions().setIfNoneMatch("*") : null);
        AzureAccessTier tier = ruleFor(tiers, key);
        if (tier != null) {
            commit.setTier(AccessTier.fromString(tier.wireName()));
        }
        if (lock != null) {
            commit.setImmutabilityPolicy(policyOf(lock));
            if (lock.legalHold()) {
                commit.setLegalHold(true);
            }
        }
        try {
            blob.commitBlockListWithResponse(commit, null, Context.NONE);
        } catch (RuntimeException e) {
            throw Failures.map(name, ifAbsent ? "putIfAbsent" : "put", key, e, ifAbsent);
        }
    }

    private <T> T await(Future<T> future, BlobKey key, String operation) throws IOException {
        try {
            return future.get();
        } catch (ExecutionException e) {
            throw Failures.map(name, operation, key, e.getCause(), false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            InterruptedIOException io = new InterruptedIOException(name + ": " + operation + " of " + key + " interrupted");
            io.initCause(e);
            throw io;
        }
    }

    private static String blockId(String uploadId, int index) {
        // Ids must have one length within a blob; the upload id keeps concurrent uploads of one key apart.
        return Base64.getEncoder().encodeToString(
                (uploadId + "-" + String.format("%06d", index)).getBytes(StandardCharsets.US_ASCII));
    }

    private BlobImmutabilityPolicy policyOf(Immutability lock) {
        if (lock.retention().isEmpty()) {
            return null;
        }
        OffsetDateTime until = OffsetDateTime.now(clock).withOffsetSameInstant(ZoneOffset.UTC)
                .plus(lock.retention().get());
        return new BlobImmutabilityPolicy().setExpiryTime(until)
                .setPolicyMode(lock.locked() ? BlobImmutabilityPolicyMode.LOCKED : BlobImmutabilityPolicyMode.UNLOCKED);
    }

    /**
     * Azure accepts immutability headers only where version-level immutability is enabled; asking
     * first gives a clear error instead of a bare 400 (or, on emulators, a silently ignored header).
     */
    private void requireImmutabilitySupport(BlobKey key) throws IOException {
        Boolean allowed = containerAllowsImmutability;
        if (allowed == null) {
            try {
                allowed = Boolean.TRUE.equals(container.getProperties().isImmutableStorageWithVersioningEnabled());
            } catch (RuntimeException e) {
                throw Failures.map(name, "put (checking the container's immutability support)", key, e, false);
            }
            containerAllowsImmutability = allowed;
        }
        if (!allowed) {
            throw new PermanentBlobStoreException(name, key, "put: this store keeps objects under '"
                    + immutability.floorKey(key.value()) + "' immutable, but container '"
                    + container.getBlobContainerName() + "' does not have version-level immutability enabled; "
                    + "enable immutable storage with versioning on the container, or drop the store's immutability "
                    + "option. Nothing was written.", null);
        }
    }

    private static <V> V ruleFor(NavigableMap<String, V> rules, BlobKey key) {
        // Longest matching prefix wins; prefixes match whole segments, as in list().
        for (Map.Entry<String, V> e = rules.floorEntry(key.value()); e != null; e = rules.lowerEntry(e.getKey())) {
            String p = e.getKey();
            if (p.isEmpty() || key.value().equals(p) || key.isUnder(p)) {
                return e.getValue();
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ reads

    @Override
    public InputStream get(BlobKey key) throws IOException {
        Objects.requireNonNull(key, "key");
        return open(key, 0, Long.MAX_VALUE, true);
    }

    @Override
    public InputStream get(BlobKey key, long offset, long length) throws IOException {
        Objects.requireNonNull(key, "key");
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("negative offset or length (" + offset + ", " + length + ") for " + key);
        }
        if (length == 0) {
            long size = stat(key).size();
            if (offset > size) {
                throw new EOFException(name + ": " + key + ": offset " + offset + " is beyond the end (" + size + " bytes)");
            }
            return InputStream.nullInputStream();
        }
        return open(key, offset, length, offset == 0 && length == Long.MAX_VALUE);
    }

    private InputStream open(BlobKey key, long offset, long length, boolean whole) throws IOException {
        checkOpen();
        BlobClient blob = blob(key);
        long partSize = whole || !verifyChecksums ? rangeSize : Math.min(rangeSize, MAX_MD5_RANGE);
        long firstLength = Math.min(length, partSize);
        Range first;
        try {
            first = fetch(blob, key, offset, firstLength, null, !whole && verifyChecksums);
        } catch (BlobStorageException e) {
            if (e.getStatusCode() != 416) {
                throw Failures.map(name, "get", key, e, false);
            }
            // Ranges start past the end: the object is empty, or offset >= size.
            long size = stat(key).size();
            if (offset > size) {
                throw new EOFException(name + ": " + key + ": offset " + offset + " is beyond the end (" + size + " bytes)");
            }
            return InputStream.nullInputStream();
        } catch (RuntimeException e) {
            throw Failures.map(name, "get", key, e, false);
        }
        long size = totalSize(first.headers, key);
        long end = length >= size - offset ? size : offset + length;
        String crc = null;
        if (verifyChecksums && offset == 0 && end == size && first.headers.getMetadata() != null) {
            crc = first.headers.getMetadata().get(CRC_METADATA);
        }
        return new RangeReadStream(this, blob, key, first, offset + first.bytes.length, end, partSize,
                !whole && verifyChecksums, first.headers.getETag(), crc);
    }

    /** One fetched range. */
    static final class Range {
        final byte[] bytes;
        final BlobDownloadHeaders headers;

        Range(byte[] bytes, BlobDownloadHeaders headers) {
            this.bytes = bytes;
            this.headers = headers;
        }
    }

    /** Downloads {@code [offset, offset + count)}; throws the SDK's exception unmapped. */
    Range fetch(BlobClient blob, BlobKey key, long offset, long count, String etag, boolean checkMd5)
            throws IOException {
        BlobRequestConditions conditions = etag == null ? null : new BlobRequestConditions().setIfMatch(etag);
        BlobDownloadContentResponse response = blob.downloadContentWithResponse(
                new DownloadRetryOptions().setMaxRetryRequests(sdkMaxTries - 1), conditions,
                new BlobRange(offset, count), checkMd5 && count <= MAX_MD5_RANGE, null, Context.NONE);
        byte[] bytes = response.getValue().toBytes();
        BlobDownloadHeaders headers = response.getDeserializedHeaders();
        long expected = headers.getContentLength() == null ? bytes.length : headers.getContentLength();
        if (bytes.length != expected) {
            throw new io.dr4j.storage.TransientBlobStoreException(name, key, "get: range at " + offset
                    + " returned " + bytes.length + " of " + expected + " bytes", null);
        }
        if (checkMd5 && count <= MAX_MD5_RANGE && headers.getContentMd5() != null
                && !MessageDigest.isEqual(headers.getContentMd5(), md5(bytes, 0, bytes.length))) {
            throw new PermanentBlobStoreException(name, key, "get: MD5 mismatch in the range at " + offset
                    + ": the service returned bytes that do not match its own checksum", null);
        }
        return new Range(bytes, headers);
    }

    Future<Range> fetchAsync(BlobClient blob, BlobKey key, long offset, long count, String etag, boolean checkMd5) {
        return transfers.submit(() -> fetch(blob, key, offset, count, etag, checkMd5));
    }

    int concurrencyForReads() {
        return concurrency;
    }

    IOException mapReadFailure(BlobKey key, Throwable failure) {
        return Failures.map(name, "get", key, failure, false);
    }

    private long totalSize(BlobDownloadHeaders headers, BlobKey key) throws IOException {
        String range = headers.getContentRange();
        int slash = range == null ? -1 : range.lastIndexOf('/');
        if (slash < 0 || range.endsWith("*")) {
            throw new PermanentBlobStoreException(name, key, "get: the service sent no object size (Content-Range '"
                    + range + "')", null);
        }
        return Long.parseLong(range.substring(slash + 1).trim());
    }

    @Override
    public BlobInfo stat(BlobKey key) throws IOException {
        Objects.requireNonNull(key, "key");
        checkOpen();
        try {
            BlobProperties p = blob(key).getPropertiesWithResponse(null, null, Context.NONE).getValue();
            return new BlobInfo(key, p.getBlobSize(), p.getLastModified().toInstant());
        } catch (RuntimeException e) {
            throw Failures.map(name, "stat", key, e, false);
        }
    }

    @Override
    public Stream<BlobInfo> list(String listPrefix) throws IOException {
        BlobKey.checkPrefix(listPrefix);
        checkOpen();
        String full = prefix + (listPrefix.isEmpty() ? "" : listPrefix + "/");
        ListBlobsOptions options = new ListBlobsOptions().setMaxResultsPerPage(listPageSize);
        if (!full.isEmpty()) {
            options.setPrefix(full);
        }
        Iterator<PagedResponse<BlobItem>> pages;
        PagedResponse<BlobItem> firstPage;
        try {
            pages = container.listBlobs(options, null).iterableByPage().iterator();
            // The first page is fetched now, so that a missing container or a denied listing fails here.
            firstPage = pages.hasNext() ? pages.next() : null;
        } catch (RuntimeException e) {
            throw Failures.map(name, "list '" + listPrefix + "'", null, e, false);
        }
        Iterator<BlobInfo> items = new Iterator<>() {
            private Iterator<BlobItem> page = firstPage == null ? Collections.emptyIterator() : firstPage.getValue().iterator();
            private BlobInfo next;

            @Override
            public boolean hasNext() {
                while (next == null) {
                    try {
                        while (!page.hasNext()) {
                            if (!pages.hasNext()) {
                                return false;
                            }
                            page = pages.next().getValue().iterator();
                        }
                    } catch (RuntimeException e) {
                        throw new UncheckedIOException(Failures.map(name, "list '" + listPrefix + "'", null, e, false));
                    }
                    next = toInfo(page.next());
                }
                return true;
            }

            @Override
            public BlobInfo next() {
                if (!hasNext()) {
                    throw new java.util.NoSuchElementException();
                }
                BlobInfo result = next;
                next = null;
                return result;
            }
        };
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(items, Spliterator.NONNULL), false);
    }

    /** Blobs whose names are not valid keys (written by other tools) are left out of listings. */
    private BlobInfo toInfo(BlobItem item) {
        String blobName = item.getName();
        if (!blobName.startsWith(prefix)) {
            return null;
        }
        String keyName = blobName.substring(prefix.length());
        if (!BlobKey.isValid(keyName) || item.getProperties() == null) {
            return null;
        }
        Long size = item.getProperties().getContentLength();
        return new BlobInfo(BlobKey.of(keyName), size == null ? 0 : size,
                item.getProperties().getLastModified().toInstant());
    }

    @Override
    public void delete(BlobKey key) throws IOException {
        Objects.requireNonNull(key, "key");
        checkOpen();
        try {
            blob(key).deleteIfExistsWithResponse(DeleteSnapshotsOptionType.INCLUDE, null, null, Context.NONE);
        } catch (RuntimeException e) {
            IOException mapped = Failures.map(name, "delete", key, e, false);
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
    public String toString() {
        return name;
    }

    private void checkOpen() throws IOException {
        if (closed.get()) {
            throw new PermanentBlobStoreException(name, null, "the store is closed", null);
        }
    }

    private BlobClient blob(BlobKey key) {
        return container.getBlobClient(prefix + key.value());
    }

    private BlockBlobClient blockBlob(BlobKey key) {
        return blob(key).getBlockBlobClient();
    }

    private void readFully(InputStream in, byte[] buffer, int n, BlobKey key) throws IOException {
        int read = 0;
        while (read < n) {
            int r = in.read(buffer, read, n - read);
            if (r < 0) {
                throw new EOFException(name + ": " + key + ": the source ended after " + read
                        + " bytes of a part of " + n + "; nothing was stored");
            }
            read += r;
        }
    }

    static byte[] md5(byte[] bytes, int offset, int length) {
        MessageDigest md = newMd5();
        md.update(bytes, offset, length);
        return md.digest();
    }

    private static MessageDigest newMd5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks MD5", e);
        }
    }

    static String crcHex(CRC32C crc) {
        return String.format("%08x", crc.getValue());
    }

    /** The Netty resources of a client the store built, released on close. */
    private static final class OwnedHttp {
        final EventLoopGroup loop;
        final ConnectionProvider connections;
        final HttpClient client;

        OwnedHttp(int concurrency) {
            this.loop = new NioEventLoopGroup(Math.max(1, Math.min(concurrency, Runtime.getRuntime().availableProcessors())),
                    new DefaultThreadFactory("dr4j-azure-netty", true));
            this.connections = ConnectionProvider.builder("dr4j-azure")
                    .maxConnections(Math.max(16, 2 * concurrency))
                    .maxIdleTime(Duration.ofSeconds(30))
                    .build();
            this.client = new NettyAsyncHttpClientBuilder()
                    .eventLoopGroup(loop)
                    .connectionProvider(connections)
                    .build();
        }

        void close() {
            try {
                connections.disposeLater().block(Duration.ofSeconds(10));
            } finally {
                loop.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * Builds an {@link AzureBlobStore}. Give exactly one of {@link #containerClient},
     * {@link #serviceClient}, {@link #connectionString}, or {@link #endpoint} with a credential;
     * every other option has a default and may be set once. Not thread-safe.
     */
    public static final class Builder {
        private BlobContainerClient containerClient;
        private BlobServiceClient serviceClient;
        private String containerName;
        private String connectionString;
        private String endpoint;
        private Object credential;
        private String prefix = "";
        private long blockSize = DEFAULT_BLOCK_SIZE;
        private long singlePutThreshold = -1;
        private long rangeSize = DEFAULT_RANGE_SIZE;
        private int concurrency = DEFAULT_CONCURRENCY;
        private boolean verifyChecksums = true;
        private boolean contentMd5 = true;
        private int sdkMaxTries = 1;
        private int listPageSize = DEFAULT_LIST_PAGE_SIZE;
        private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
        private Clock clock = Clock.systemUTC();
        private final Map<String, AzureAccessTier> tiers = new TreeMap<>();
        private final Map<String, Immutability> immutability = new TreeMap<>();
        private final Set<String> set = new java.util.HashSet<>();

        private Builder() {
        }

        private void once(String option) {
            if (!set.add(option)) {
                throw new IllegalStateException(option + " was already set");
            }
        }

        private void source(String what) {
            if (!set.isEmpty() && (set.contains("containerClient") || set.contains("serviceClient")
                    || set.contains("connectionString") || set.contains("endpoint"))) {
                throw new IllegalStateException("the container was already given; " + what
                        + " cannot be combined with another way to reach it");
            }
            once(what);
        }

        /** The application's container client; the store uses its pipeline (and retry policy) as is and never closes it. */
        public Builder containerClient(BlobContainerClient client) {
            source("containerClient");
            this.containerClient = Objects.requireNonNull(client, "client");
            return this;
        }

        /** The application's service client and the container to use in it; never closed by the store. */
        public Builder serviceClient(BlobServiceClient client, String container) {
            source("serviceClient");
            this.serviceClient = Objects.requireNonNull(client, "client");
            this.containerName = checkContainer(container);
            return this;
        }

        /**
         * A storage connection string (it holds the account key or a SAS: the store keeps it only
         * until {@link #build()} and never prints it) and the container to use.
         */
        public Builder connectionString(String connectionString, String container) {
            source("connectionString");
            this.connectionString = Objects.requireNonNull(connectionString, "connectionString");
            this.containerName = checkContainer(container);
            return this;
        }

        /** The account endpoint (e.g. {@code https://acct.blob.core.windows.net}) with a shared key. */
        public Builder endpoint(String accountEndpoint, String container, StorageSharedKeyCredential credential) {
            return endpoint(accountEndpoint, container, (Object) Objects.requireNonNull(credential, "credential"));
        }

        /**
         * The account endpoint with an Entra ID token credential, such as azure-identity's
         * {@code DefaultAzureCredential} (add {@code com.azure:azure-identity} to use it). Tokens need HTTPS.
         */
        public Builder endpoint(String accountEndpoint, String container, TokenCredential credential) {
            return endpoint(accountEndpoint, container, (Object) Objects.requireNonNull(credential, "credential"));
        }

        /** The account endpoint with a SAS token credential. */
        public Builder endpoint(String accountEndpoint, String container, AzureSasCredential credential) {
            return endpoint(accountEndpoint, container, (Object) Objects.requireNonNull(credential, "credential"));
        }

        private Builder endpoint(String accountEndpoint, String container, Object credential) {
            source("endpoint");
            Objects.requireNonNull(accountEndpoint, "accountEndpoint");
            java.net.URI uri;
            try {
                uri = java.net.URI.create(accountEndpoint);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("invalid Azure account endpoint (not a URI)");
            }
            if (uri.getScheme() == null || !(uri.getScheme().equals("https") || uri.getScheme().equals("http"))
                    || uri.getHost() == null) {
                throw new IllegalArgumentException("Azure account endpoint must be an http(s) URL with a host, was "
                        + uri.getScheme() + "://" + uri.getHost());
            }
            if (uri.getRawQuery() != null) {
                throw new IllegalArgumentException("Azure account endpoint must not carry a query (pass a SAS as an "
                        + "AzureSasCredential), for " + uri.getScheme() + "://" + uri.getHost() + uri.getPath());
            }
            this.endpoint = accountEndpoint;
            this.containerName = checkContainer(container);
            this.credential = credential;
            return this;
        }

        /** A key prefix inside the container (default none): {@code backups/prod} stores key {@code k} as blob {@code backups/prod/k}. */
        public Builder prefix(String prefix) {
            once("prefix");
            this.prefix = BlobKey.checkPrefix(prefix);
            return this;
        }

        /**
         * Size of one staged block (default 64 MiB, between 64 KiB and 4000 MiB). A put from a
         * stream or byte array holds up to {@code concurrency × blockSize} bytes (256 MiB by
         * default); lower it where memory is tight.
         */
        public Builder blockSize(long bytes) {
            once("blockSize");
            if (bytes < MIN_TRANSFER_SIZE || bytes > MAX_BLOCK_SIZE) {
                throw new IllegalArgumentException("blockSize must be between " + MIN_TRANSFER_SIZE + " and "
                        + MAX_BLOCK_SIZE + " bytes, was " + bytes);
            }
            this.blockSize = bytes;
            return this;
        }

        /**
         * Objects up to this size are written with one Put Blob (default: the block size, at most
         * 256 MiB); larger ones are staged in parallel blocks. A put from a stream holds such an
         * object in memory, hence the cap; a put from a file streams it from the file. The SDK's
         * {@code uploadFromFile} uses 256 MiB; a single request cannot be parallelised or resumed,
         * but costs the service less than blocks plus a commit (markedly so on Azurite).
         */
        public Builder singlePutThreshold(long bytes) {
            once("singlePutThreshold");
            if (bytes < 0 || bytes > MAX_BUFFERED) {
                throw new IllegalArgumentException("singlePutThreshold must be between 0 and " + MAX_BUFFERED
                        + " bytes, was " + bytes);
            }
            this.singlePutThreshold = bytes;
            return this;
        }

        /** Size of one ranged download request (default 8 MiB, between 64 KiB and 256 MiB). */
        public Builder rangeSize(long bytes) {
            once("rangeSize");
            if (bytes < MIN_TRANSFER_SIZE || bytes > MAX_BUFFERED) {
                throw new IllegalArgumentException("rangeSize must be between " + MIN_TRANSFER_SIZE + " and "
                        + MAX_BUFFERED + " bytes, was " + bytes);
            }
            this.rangeSize = bytes;
            return this;
        }

        /**
         * Blocks staged or ranges fetched in parallel per transfer, and the size of the store's
         * transfer thread pool (default 4, between 1 and 64).
         */
        public Builder concurrency(int concurrency) {
            once("concurrency");
            if (concurrency < 1 || concurrency > 64) {
                throw new IllegalArgumentException("concurrency must be between 1 and 64, was " + concurrency);
            }
            this.concurrency = concurrency;
            return this;
        }

        /**
         * Whether to check checksums on reads (default true): the whole object's CRC-32C against
         * {@value AzureBlobStore#CRC_METADATA}, and each range's service MD5 on partial reads.
         * Uploads always send a Content-MD5.
         */
        public Builder verifyChecksums(boolean verify) {
            once("verifyChecksums");
            this.verifyChecksums = verify;
            return this;
        }

        /**
         * Whether every upload request (Put Blob, Put Block) carries a {@code Content-MD5} that the
         * service checks before accepting the bytes (default true). Turning it off saves the MD5
         * computation (CPU-bound, roughly 0.5 to 1 GB/s per core); the whole-object CRC-32C is still
         * stored and checked on reads.
         */
        public Builder contentMd5(boolean send) {
            once("contentMd5");
            this.contentMd5 = send;
            return this;
        }

        /**
         * Tries per HTTP request that the SDK makes when the store builds the client (default 1: no
         * SDK retries, because {@link RetryingBlobStore} is where dr4j retries). Also bounds the
         * SDK's resumption of interrupted downloads. Between 1 and 10.
         */
        public Builder sdkMaxTries(int tries) {
            once("sdkMaxTries");
            if (tries < 1 || tries > 10) {
                throw new IllegalArgumentException("sdkMaxTries must be between 1 and 10, was " + tries);
            }
            this.sdkMaxTries = tries;
            return this;
        }

        /** Blobs per listing page, fetched as the listing is consumed (default 1,000, between 1 and 5,000). */
        public Builder listPageSize(int size) {
            once("listPageSize");
            if (size < 1 || size > 5_000) {
                throw new IllegalArgumentException("listPageSize must be between 1 and 5000, was " + size);
            }
            this.listPageSize = size;
            return this;
        }

        /** Timeout of one HTTP request when the store builds the client (default 60 s, whole seconds, at least 1 s). */
        public Builder requestTimeout(Duration timeout) {
            once("requestTimeout");
            if (timeout.compareTo(Duration.ofSeconds(1)) < 0) {
                throw new IllegalArgumentException("requestTimeout must be at least 1 s, was " + timeout);
            }
            this.requestTimeout = timeout;
            return this;
        }

        /**
         * Writes new objects under {@code keyPrefix} ({@code ""} for all) to {@code tier}; the
         * longest matching prefix wins. Default: the account's default tier.
         */
        public Builder accessTier(String keyPrefix, AzureAccessTier tier) {
            BlobKey.checkPrefix(keyPrefix);
            Objects.requireNonNull(tier, "tier");
            if (tiers.putIfAbsent(keyPrefix, tier) != null) {
                throw new IllegalStateException("an access tier for prefix '" + keyPrefix + "' was already set");
            }
            return this;
        }

        /**
         * Makes new objects under {@code keyPrefix} immutable as {@code policy} says; the longest
         * matching prefix wins. Needs version-level immutability on the container, otherwise those
         * puts fail with a permanent error naming the container. Default: none.
         */
        public Builder immutable(String keyPrefix, Immutability policy) {
            BlobKey.checkPrefix(keyPrefix);
            Objects.requireNonNull(policy, "policy");
            if (immutability.putIfAbsent(keyPrefix, policy) != null) {
                throw new IllegalStateException("immutability for prefix '" + keyPrefix + "' was already set");
            }
            return this;
        }

        /** The clock that dates immutability policies (default the system UTC clock). */
        public Builder clock(Clock clock) {
            once("clock");
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Builds the store. No request is made: a missing container or a bad credential shows in
         * the first operation, as a {@link PermanentBlobStoreException}.
         *
         * @throws IllegalStateException if no way to reach the container was given
         * @throws IllegalArgumentException if the connection string is invalid (its text is not quoted)
         */
        public AzureBlobStore build() {
            if (containerClient != null) {
                return new AzureBlobStore(this, containerClient, null);
            }
            if (serviceClient != null) {
                return new AzureBlobStore(this, serviceClient.getBlobContainerClient(containerName), null);
            }
            if (connectionString == null && endpoint == null) {
                throw new IllegalStateException("AzureBlobStore needs a container: give containerClient, serviceClient, "
                        + "connectionString or endpoint");
            }
            OwnedHttp http = new OwnedHttp(concurrency);
            try {
                BlobContainerClientBuilder b = new BlobContainerClientBuilder()
                        .containerName(containerName)
                        .httpClient(http.client)
                        .retryOptions(new RequestRetryOptions(RetryPolicyType.EXPONENTIAL, sdkMaxTries,
                                requestTimeout, Duration.ofMillis(200), Duration.ofSeconds(5), null));
                if (connectionString != null) {
                    try {
                        b.connectionString(connectionString);
                    } catch (RuntimeException e) {
                        // The SDK's message may quote the string, which holds the account key.
                        throw new IllegalArgumentException("invalid Azure Storage connection string (its text is not "
                                + "shown, since it holds a secret): it needs AccountName and AccountKey, or "
                                + "BlobEndpoint and SharedAccessSignature");
                    }
                } else {
                    b.endpoint(endpoint);
                    if (credential instanceof StorageSharedKeyCredential shared) {
                        b.credential(shared);
                    } else if (credential instanceof TokenCredential token) {
                        b.credential(token);
                    } else {
                        b.credential((AzureSasCredential) credential);
                    }
                }
                AzureBlobStore store = new AzureBlobStore(this, b.buildClient(), http);
                connectionString = null;
                credential = null;
                return store;
            } catch (RuntimeException e) {
                http.close();
                throw e;
            }
        }

        private static String checkContainer(String container) {
            Objects.requireNonNull(container, "container");
            if (!container.matches("[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}|\\$root")) {
                throw new IllegalArgumentException("invalid Azure container name '" + container
                        + "': 3-63 lowercase letters, digits and single hyphens, starting with a letter or digit");
            }
            return container;
        }
    }
}
