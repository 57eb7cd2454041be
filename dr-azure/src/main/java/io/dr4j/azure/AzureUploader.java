package io.dr4j.azure;

import com.azure.core.util.BinaryData;
import com.azure.core.util.Context;
import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.models.AccessTier;
import com.azure.storage.blob.models.BlobHttpHeaders;
import com.azure.storage.blob.models.BlobImmutabilityPolicy;
import com.azure.storage.blob.models.BlobImmutabilityPolicyMode;
import com.azure.storage.blob.models.BlobRequestConditions;
import com.azure.storage.blob.options.BlockBlobCommitBlockListOptions;
import com.azure.storage.blob.options.BlockBlobSimpleUploadOptions;
import com.azure.storage.blob.options.BlockBlobStageBlockOptions;
import com.azure.storage.blob.specialized.BlockBlobClient;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.PermanentBlobStoreException;
import io.dr4j.storage.transfer.ContentMd5;
import io.dr4j.storage.transfer.Crc32c;
import io.dr4j.storage.transfer.PartUpload;
import io.dr4j.storage.transfer.SourceFiles;
import io.dr4j.storage.transfer.TransferFailures;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.CRC32C;

/**
 * The writes of an {@link AzureBlobStore}. Up to the single-put threshold an object is one Put
 * Blob; above it, blocks staged in parallel by the shared {@link PartUpload} pipeline under ids
 * unique to the upload, then one Put Block List that makes them the blob (until that commit the
 * key shows the previous object, so a failed put leaves it as it was). Blocks come from the
 * caller's array (wrapped, not copied: {@link BinaryData#fromByteBuffer} keeps the buffer), from
 * pooled buffers filled from a stream, or straight from file regions
 * ({@link BinaryData#fromFile}) while this thread reads the file once for the checksums. Every
 * body carries a {@code Content-MD5} by default; the commit carries the CRC-32C metadata, the
 * access tier and the immutability policy. Thread-safe.
 */
final class AzureUploader {

    private static final long MAX_BLOCK_SIZE = AzureBlobStore.MAX_BLOCK_SIZE;
    private static final int MAX_BLOCKS = 50_000;

    private final BlobContainerClient container;
    private final AzureOptions options;
    private final String name;
    private final ExecutorService transfers;
    private volatile Boolean containerAllowsImmutability;

    AzureUploader(BlobContainerClient container, AzureOptions options, String name, ExecutorService transfers) {
        this.container = container;
        this.options = options;
        this.name = name;
        this.transfers = transfers;
    }

    /** One Put Blob of {@code data[offset, offset + length)}, sent in place. */
    void putSingle(BlobKey key, byte[] data, int offset, int length, boolean ifAbsent) throws IOException {
        CRC32C crc = new CRC32C();
        crc.update(data, offset, length);
        byte[] md5 = options.contentMd5() ? ContentMd5.of(data, offset, length) : null;
        putSingle(key, BinaryData.fromByteBuffer(ByteBuffer.wrap(data, offset, length)), crc, md5, ifAbsent);
    }

    /**
     * One Put Blob streamed from the file, as the SDK's {@code uploadFromFile} does: no heap copy
     * of the object, one extra sequential read for its checksums.
     */
    void putSingleFromFile(BlobKey key, Path source, long length) throws IOException {
        CRC32C crc = new CRC32C();
        MessageDigest md5 = options.contentMd5() ? ContentMd5.newDigest() : null;
        try (FileChannel channel = FileChannel.open(source, StandardOpenOption.READ)) {
            SourceFiles.hash(channel, 0, length, ByteBuffer.allocateDirect((int) Math.max(1, Math.min(length, 1 << 20))),
                    crc, md5, name + ": " + key + " (" + source + ")");
        }
        BinaryData body = length == 0 ? BinaryData.fromBytes(new byte[0])
                : BinaryData.fromFile(source, 0L, length, (int) Math.min(length, 1 << 20));
        putSingle(key, body, crc, md5 == null ? null : md5.digest(), false);
    }

    private void putSingle(BlobKey key, BinaryData body, CRC32C crc, byte[] md5, boolean ifAbsent) throws IOException {
        BlockBlobSimpleUploadOptions upload = new BlockBlobSimpleUploadOptions(body)
                .setContentMd5(md5)
                .setMetadata(Map.of(Crc32c.METADATA, Crc32c.hex(crc)))
                .setRequestConditions(ifAbsent ? new BlobRequestConditions().setIfNoneMatch("*") : null);
        options.tiers().forKey(key).ifPresent(t -> upload.setTier(AccessTier.fromString(t.wireName())));
        Optional<Immutability> lock = lockFor(key);
        lock.ifPresent(l -> {
            upload.setImmutabilityPolicy(policyOf(l));
            if (l.legalHold()) {
                upload.setLegalHold(true);
            }
        });
        try {
            blockBlob(key).uploadWithResponse(upload, null, Context.NONE);
        } catch (RuntimeException e) {
            throw AzureFailures.map(name, ifAbsent ? "putIfAbsent" : "put", key, e, ifAbsent);
        }
    }

    /** Stages {@code length} bytes from {@code parts} (which feed {@code crc}) as blocks, then commits them. */
    void putBlocks(BlobKey key, PartUpload.Parts<PartUpload.Part> parts, long length, CRC32C crc, boolean ifAbsent)
            throws IOException {
        String operation = ifAbsent ? "putIfAbsent" : "put";
        Optional<Immutability> lock = lockFor(key);
        BlockBlobClient blob = blockBlob(key);
        String uploadId = uploadId();
        List<String> ids = PartUpload.run(length, blockSizeFor(key, length, operation), options.concurrency(), transfers,
                parts, (index, part) -> {
                    String id = blockId(uploadId, index);
                    blob.stageBlockWithResponse(new BlockBlobStageBlockOptions(id,
                            BinaryData.fromByteBuffer(ByteBuffer.wrap(part.array(), part.offset(), part.length())))
                            .setContentMd5(options.contentMd5() ? ContentMd5.of(part.array(), part.offset(), part.length())
                                    : null), null, Context.NONE);
                    return id;
                }, failure -> mapFailure(key, operation, failure));
        commit(key, blob, ids, crc, lock, ifAbsent);
    }

    /** A file region to stage, hashed on the calling thread. */
    private record Region(long offset, long length, byte[] md5) {
    }

    /**
     * Stages a file's blocks straight from the file (the HTTP client can send file regions without
     * copying them through the heap), while this thread reads the file once, in order, for the
     * whole-object CRC-32C and each block's MD5.
     */
    void putFileBlocks(BlobKey key, Path source, long length) throws IOException {
        Optional<Immutability> lock = lockFor(key);
        BlockBlobClient blob = blockBlob(key);
        String uploadId = uploadId();
        CRC32C crc = new CRC32C();
        ByteBuffer scratch = ByteBuffer.allocateDirect(1 << 20);
        List<String> ids;
        try (FileChannel channel = FileChannel.open(source, StandardOpenOption.READ)) {
            PartUpload.Parts<Region> regions = (index, offset, n) -> {
                MessageDigest md5 = options.contentMd5() ? ContentMd5.newDigest() : null;
                SourceFiles.hash(channel, offset, n, scratch, crc, md5, name + ": " + key + " (" + source + ")");
                return new Region(offset, n, md5 == null ? null : md5.digest());
            };
            ids = PartUpload.run(length, blockSizeFor(key, length, "put"), options.concurrency(), transfers, regions,
                    (index, region) -> {
                        String id = blockId(uploadId, index);
                        blob.stageBlockWithResponse(new BlockBlobStageBlockOptions(id, BinaryData.fromFile(source,
                                region.offset(), region.length(), (int) Math.min(region.length(), 1 << 20)))
                                .setContentMd5(region.md5()), null, Context.NONE);
                        return id;
                    }, failure -> mapFailure(key, "put", failure));
        }
        commit(key, blob, ids, crc, lock, false);
    }

    private IOException mapFailure(BlobKey key, String operation, Throwable failure) {
        if (failure instanceof InterruptedException) {
            return TransferFailures.interrupted(name, operation, key, failure);
        }
        return AzureFailures.map(name, operation, key, failure, false);
    }

    private long blockSizeFor(BlobKey key, long length, String operation) throws IOException {
        // Azure allows 50,000 blocks per blob: larger objects get larger blocks.
        long size = Math.max(options.blockSize(), (length + MAX_BLOCKS - 1) / MAX_BLOCKS);
        if (size > MAX_BLOCK_SIZE) {
            throw new PermanentBlobStoreException(name, key, operation + ": " + length
                    + " bytes exceed Azure's largest block blob (50,000 blocks of 4000 MiB)", null);
        }
        return size;
    }

    private void commit(BlobKey key, BlockBlobClient blob, List<String> ids, CRC32C crc, Optional<Immutability> lock,
            boolean ifAbsent) throws IOException {
        BlockBlobCommitBlockListOptions commit = new BlockBlobCommitBlockListOptions(ids)
                .setMetadata(Map.of(Crc32c.METADATA, Crc32c.hex(crc)))
                .setHeaders(new BlobHttpHeaders().setContentType("application/octet-stream"))
                .setRequestConditions(ifAbsent ? new BlobRequestConditions().setIfNoneMatch("*") : null);
        options.tiers().forKey(key).ifPresent(t -> commit.setTier(AccessTier.fromString(t.wireName())));
        lock.ifPresent(l -> {
            commit.setImmutabilityPolicy(policyOf(l));
            if (l.legalHold()) {
                commit.setLegalHold(true);
            }
        });
        try {
            blob.commitBlockListWithResponse(commit, null, Context.NONE);
        } catch (RuntimeException e) {
            throw AzureFailures.map(name, ifAbsent ? "putIfAbsent" : "put", key, e, ifAbsent);
        }
    }

    private static String uploadId() {
        return String.format("%016x", ThreadLocalRandom.current().nextLong());
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
        OffsetDateTime until = OffsetDateTime.now(options.clock()).withOffsetSameInstant(ZoneOffset.UTC)
                .plus(lock.retention().get());
        return new BlobImmutabilityPolicy().setExpiryTime(until)
                .setPolicyMode(lock.locked() ? BlobImmutabilityPolicyMode.LOCKED : BlobImmutabilityPolicyMode.UNLOCKED);
    }

    /**
     * The immutability rule for {@code key}, after checking that the container accepts it: Azure
     * accepts immutability headers only where version-level immutability is enabled, and asking
     * first gives a clear error instead of a bare 400 (or, on emulators, a silently ignored header).
     */
    private Optional<Immutability> lockFor(BlobKey key) throws IOException {
        Optional<Immutability> lock = options.immutability().forKey(key);
        if (lock.isEmpty()) {
            return lock;
        }
        Boolean allowed = containerAllowsImmutability;
        if (allowed == null) {
            try {
                allowed = Boolean.TRUE.equals(container.getProperties().isImmutableStorageWithVersioningEnabled());
            } catch (RuntimeException e) {
                throw AzureFailures.map(name, "put (checking the container's immutability support)", key, e, false);
            }
            containerAllowsImmutability = allowed;
        }
        if (!allowed) {
            throw new PermanentBlobStoreException(name, key, "put: this store keeps objects under '"
                    + options.immutability().prefixFor(key).orElse("") + "' immutable, but container '"
                    + container.getBlobContainerName() + "' does not have version-level immutability enabled; "
                    + "enable immutable storage with versioning on the container, or drop the store's immutability "
                    + "option. Nothing was written.", null);
        }
        return lock;
    }

    private BlockBlobClient blockBlob(BlobKey key) {
        return container.getBlobClient(options.blobPrefix() + key.value()).getBlockBlobClient();
    }
}
