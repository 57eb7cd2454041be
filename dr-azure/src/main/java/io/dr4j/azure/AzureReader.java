package io.dr4j.azure;

import com.azure.core.util.Context;
import com.azure.storage.blob.BlobClient;
import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.models.BlobDownloadContentResponse;
import com.azure.storage.blob.models.BlobDownloadHeaders;
import com.azure.storage.blob.models.BlobDownloadResponse;
import com.azure.storage.blob.models.BlobRange;
import com.azure.storage.blob.models.BlobRequestConditions;
import com.azure.storage.blob.models.BlobStorageException;
import com.azure.storage.blob.models.DownloadRetryOptions;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.PermanentBlobStoreException;
import io.dr4j.storage.TransientBlobStoreException;
import io.dr4j.storage.transfer.ContentMd5;
import io.dr4j.storage.transfer.Crc32c;
import io.dr4j.storage.transfer.ParallelRangeReads;
import io.dr4j.storage.transfer.Ranges;
import io.dr4j.storage.transfer.ReadAheadInputStream;
import io.dr4j.storage.transfer.VerifyingInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.concurrent.ExecutorService;

/**
 * The reads of an {@link AzureBlobStore}. A stream fetches {@code rangeSize} ranges up to
 * {@code concurrency} ahead of the reader ({@link ReadAheadInputStream}), each pinned to the ETag
 * of the first response; a whole-object read checks dr4j's CRC-32C ({@link VerifyingInputStream}),
 * and a partial read with checksums on asks the service for each range's MD5 (ranges of at most
 * 4 MiB) and checks it. A read into a caller's buffer ({@link #readInto}) downloads each range
 * straight into its slice of the buffer ({@link ParallelRangeReads}). Thread-safe.
 */
final class AzureReader {

    /** Azure returns a range's MD5 only for ranges of at most 4 MiB. */
    private static final long MAX_MD5_RANGE = 4L << 20;

    /** The size of an object, for reads at or past its end. */
    @FunctionalInterface
    interface SizeOf {
        long size(BlobKey key) throws IOException;
    }

    private final BlobContainerClient container;
    private final AzureOptions options;
    private final String name;
    private final ExecutorService transfers;

    AzureReader(BlobContainerClient container, AzureOptions options, String name, ExecutorService transfers) {
        this.container = container;
        this.options = options;
        this.name = name;
        this.transfers = transfers;
    }

    /** Opens {@code [offset, offset + length)}; {@code whole} says it is the whole object. */
    InputStream open(BlobKey key, long offset, long length, boolean whole, SizeOf size) throws IOException {
        BlobClient blob = blob(key);
        boolean checkMd5 = !whole && options.verifyChecksums();
        long rangeSize = checkMd5 ? Math.min(options.rangeSize(), MAX_MD5_RANGE) : options.rangeSize();
        long firstLength = Math.min(length, rangeSize);
        BlobDownloadContentResponse first;
        try {
            first = blob.downloadContentWithResponse(retries(), null, new BlobRange(offset, firstLength), checkMd5, null,
                    Context.NONE);
        } catch (BlobStorageException e) {
            if (e.getStatusCode() != 416) {
                throw AzureFailures.map(name, "get", key, e, false);
            }
            // Ranges start past the end: the object is empty, or offset >= size.
            long total = size.size(key);
            if (offset > total) {
                throw Ranges.beyondEnd(name, key, offset, total);
            }
            return InputStream.nullInputStream();
        } catch (RuntimeException e) {
            throw AzureFailures.map(name, "get", key, e, false);
        }
        byte[] bytes = first.getValue().toBytes();
        BlobDownloadHeaders headers = first.getDeserializedHeaders();
        checkRange(key, offset, bytes, 0, bytes.length, headers, checkMd5);
        long total = Ranges.totalOf(headers.getContentRange(), name, key);
        long end = length >= total - offset ? total : offset + length;
        long headEnd = offset + bytes.length;
        String etag = headers.getETag();
        InputStream head = new ByteArrayInputStream(bytes);
        InputStream stream = headEnd >= end ? head
                : new ReadAheadInputStream(head, headEnd, end, (int) rangeSize, options.concurrency(),
                        (at, n) -> fetch(blob, key, at, n, etag, checkMd5), transfers, name, key);
        String crc = headers.getMetadata() == null ? null : headers.getMetadata().get(Crc32c.METADATA);
        if (options.verifyChecksums() && offset == 0 && end == total && crc != null) {
            return VerifyingInputStream.crc32c(stream, total, crc, name, key, "get");
        }
        return stream;
    }

    /** Reads {@code [offset, offset + dst.remaining())} into {@code dst}. */
    void readInto(BlobKey key, long offset, ByteBuffer dst) throws IOException {
        BlobClient blob = blob(key);
        boolean checkMd5 = options.verifyChecksums();
        long rangeSize = checkMd5 ? Math.min(options.rangeSize(), MAX_MD5_RANGE) : options.rangeSize();
        ParallelRangeReads.read(offset, dst, (int) rangeSize, options.concurrency(), transfers,
                (at, slice) -> download(blob, key, at, slice, null, checkMd5),
                (at, slice, etag) -> download(blob, key, at, slice, etag, checkMd5), name, key);
    }

    private byte[] fetch(BlobClient blob, BlobKey key, long offset, int count, String etag, boolean checkMd5)
            throws IOException {
        byte[] bytes = new byte[count];
        download(blob, key, offset, ByteBuffer.wrap(bytes), etag, checkMd5);
        return bytes;
    }

    /** Downloads exactly {@code slice.remaining()} bytes at {@code offset} into {@code slice}; returns the ETag. */
    private String download(BlobClient blob, BlobKey key, long offset, ByteBuffer slice, String etag, boolean checkMd5)
            throws IOException {
        int count = slice.remaining();
        int start = slice.position();
        BlobRequestConditions conditions = etag == null ? null : new BlobRequestConditions().setIfMatch(etag);
        BlobDownloadResponse response;
        try {
            response = blob.downloadStreamWithResponse(new SliceOutputStream(slice), new BlobRange(offset, (long) count),
                    retries(), conditions, checkMd5 && count <= MAX_MD5_RANGE, null, Context.NONE);
        } catch (BlobStorageException e) {
            if (e.getStatusCode() == 416) {
                throw Ranges.endsBefore(name, key, offset, count, 0);
            }
            throw AzureFailures.map(name, "get", key, e, false);
        } catch (RuntimeException e) {
            throw AzureFailures.map(name, "get", key, e, false);
        }
        int got = slice.position() - start;
        if (got < count) {
            throw Ranges.endsBefore(name, key, offset, count, got);
        }
        BlobDownloadHeaders headers = response.getDeserializedHeaders();
        if (slice.hasArray()) {
            checkRange(key, offset, slice.array(), slice.arrayOffset() + start, got, headers, checkMd5);
        } else {
            byte[] copy = new byte[got];
            slice.duplicate().position(start).get(copy);
            checkRange(key, offset, copy, 0, got, headers, checkMd5);
        }
        return headers.getETag();
    }

    /** Checks a range's length against the response's, and its MD5 where asked for and sent. */
    private void checkRange(BlobKey key, long offset, byte[] bytes, int at, int length, BlobDownloadHeaders headers,
            boolean checkMd5) throws IOException {
        long expected = headers.getContentLength() == null ? length : headers.getContentLength();
        if (length != expected) {
            throw new TransientBlobStoreException(name, key, "get: range at " + offset + " returned " + length + " of "
                    + expected + " bytes", null);
        }
        if (checkMd5 && length <= MAX_MD5_RANGE && headers.getContentMd5() != null
                && !MessageDigest.isEqual(headers.getContentMd5(), ContentMd5.of(bytes, at, length))) {
            throw new PermanentBlobStoreException(name, key, "get: MD5 mismatch in the range at " + offset
                    + ": the service returned bytes that do not match its own checksum", null);
        }
    }

    private DownloadRetryOptions retries() {
        return new DownloadRetryOptions().setMaxRetryRequests(options.sdkMaxTries() - 1);
    }

    private BlobClient blob(BlobKey key) {
        return container.getBlobClient(options.blobPrefix() + key.value());
    }

    /** Writes a download into a caller's buffer slice; refuses bytes beyond it. */
    private static final class SliceOutputStream extends OutputStream {
        private final ByteBuffer slice;

        SliceOutputStream(ByteBuffer slice) {
            this.slice = slice;
        }

        @Override
        public void write(int b) throws IOException {
            if (!slice.hasRemaining()) {
                throw new IOException("the service sent more bytes than the range asked for");
            }
            slice.put((byte) b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (len > slice.remaining()) {
                throw new IOException("the service sent more bytes than the range asked for");
            }
            slice.put(b, off, len);
        }
    }
}
