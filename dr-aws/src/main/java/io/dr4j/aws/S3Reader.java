package io.dr4j.aws;

import io.dr4j.storage.BlobKey;
import io.dr4j.storage.PermanentBlobStoreException;
import io.dr4j.storage.TransientBlobStoreException;
import io.dr4j.storage.transfer.Crc32c;
import io.dr4j.storage.transfer.ParallelRangeReads;
import io.dr4j.storage.transfer.Ranges;
import io.dr4j.storage.transfer.ReadAheadInputStream;
import io.dr4j.storage.transfer.VerifyingInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutorService;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/**
 * The reads of an {@link S3BlobStore}. A stream starts with one ranged GET of the first part;
 * later parts are fetched by parallel ranged GETs pinned with {@code If-Match} to the first
 * response's ETag ({@link ReadAheadInputStream}), and a whole-object read checks dr4j's
 * CRC-32C when the last byte arrives ({@link VerifyingInputStream}; a mismatch where a HeadObject
 * shows another ETag than the response's is a race with a writer, reported as transient and read
 * again once by {@code getBytes}, not corruption). A read into a caller's
 * buffer ({@link #readInto}) sends the same ranged GETs and reads each response body straight
 * into its slice of the buffer ({@link ParallelRangeReads}). Thread-safe.
 */
final class S3Reader {

    private final S3Client client;
    private final S3Options options;
    private final String name;
    private final String prefix;
    private final ExecutorService workers;

    /** The size of an object, for reads at or past its end. */
    @FunctionalInterface
    interface SizeOf {
        long size(BlobKey key) throws IOException;
    }

    S3Reader(S3Client client, S3Options options, ExecutorService workers) {
        this.client = client;
        this.options = options;
        this.name = options.storeName();
        this.prefix = options.objectPrefix();
        this.workers = workers;
    }

    /** Opens {@code [offset, offset + length)}; {@code size} answers a stat for reads at or past the end. */
    InputStream open(BlobKey key, long offset, long length, SizeOf size) throws IOException {
        if (length == 0) {
            return emptyAt(key, offset, size, false);
        }
        long firstLength = Math.min(length, options.partSize());
        ResponseInputStream<GetObjectResponse> response;
        try {
            response = client.getObject(request(key, offset, firstLength, null));
        } catch (AwsServiceException e) {
            if (e.statusCode() == 416) {
                return emptyAt(key, offset, size, true); // at or past the end (or an empty object): decide by size
            }
            throw S3Failures.translate(name, "GetObject", key, e, false);
        } catch (SdkException e) {
            throw S3Failures.translate(name, "GetObject", key, e, false);
        }
        GetObjectResponse head = response.response();
        long total;
        long received = head.contentLength();
        if (head.contentRange() != null) {
            total = Ranges.totalOf(head.contentRange(), name, key);
        } else if (offset == 0) {
            total = received; // server ignored Range and sent the whole object
        } else {
            response.abort();
            throw new PermanentBlobStoreException(name, key, "GetObject ignored the Range header", null);
        }
        long end = length > total - offset ? total : offset + length;
        long headEnd = Math.min(end, offset + received);
        InputStream body = new ResponseBodyStream(response, headEnd - offset, name + ": " + key);
        InputStream whole = headEnd >= end ? body
                : new ReadAheadInputStream(body, headEnd, end, (int) options.partSize(), options.concurrency(),
                        (from, n) -> fetchRange(key, head.eTag(), from, n), workers, name, key);
        String crc = head.metadata() == null ? null : head.metadata().get(Crc32c.METADATA);
        if (offset == 0 && end == total && crc != null) {
            return VerifyingInputStream.crc32c(whole, total, crc, name, key, "GetObject",
                    () -> replacedSince(key, head.eTag()));
        }
        return whole;
    }

    /** Whether the object is no longer the version with {@code etag} (a HeadObject; a deleted object counts as replaced). */
    private boolean replacedSince(BlobKey key, String etag) throws IOException {
        if (etag == null) {
            return false;
        }
        try {
            return !etag.equals(client.headObject(b -> b.bucket(options.bucket()).key(prefix + key.value())).eTag());
        } catch (software.amazon.awssdk.services.s3.model.NoSuchKeyException e) {
            return true;
        } catch (AwsServiceException e) {
            if (e.statusCode() == 404) {
                return true;
            }
            throw S3Failures.translate(name, "HeadObject", key, e, false);
        } catch (SdkException e) {
            throw S3Failures.translate(name, "HeadObject", key, e, false);
        }
    }

    /** Reads {@code [offset, offset + dst.remaining())} into {@code dst}. */
    void readInto(BlobKey key, long offset, ByteBuffer dst) throws IOException {
        ParallelRangeReads.read(offset, dst, (int) options.partSize(), options.concurrency(), workers,
                (at, slice) -> readRange(key, null, at, slice), (at, slice, etag) -> readRange(key, etag, at, slice),
                name, key);
    }

    private byte[] fetchRange(BlobKey key, String etag, long offset, int length) throws IOException {
        byte[] bytes = new byte[length];
        readRange(key, etag, offset, ByteBuffer.wrap(bytes));
        return bytes;
    }

    /** One ranged GET into {@code slice}, pinned to {@code etag} if not null; returns the response's ETag. */
    private String readRange(BlobKey key, String etag, long offset, ByteBuffer slice) throws IOException {
        int length = slice.remaining();
        String operation = "GetObject (range at " + offset + ")";
        try (ResponseInputStream<GetObjectResponse> response = client.getObject(request(key, offset, length, etag))) {
            String got = response.response().eTag();
            if (etag != null && got != null && !etag.equals(got)) {
                response.abort();
                throw changed(key);
            }
            int n = fill(response, slice);
            if (n < length) {
                response.abort();
                throw Ranges.endsBefore(name, key, offset, length, n);
            }
            return got;
        } catch (AwsServiceException e) {
            if (e.statusCode() == 412) {
                throw changed(key);
            }
            if (e.statusCode() == 416) {
                throw Ranges.endsBefore(name, key, offset, length, 0);
            }
            throw S3Failures.translate(name, operation, key, e, false);
        } catch (SdkException e) {
            throw S3Failures.translate(name, operation, key, e, false);
        }
    }

    /** Reads the body into {@code slice} until it is full or the body ends; returns the bytes read. */
    private static int fill(InputStream in, ByteBuffer slice) throws IOException {
        int start = slice.position();
        if (slice.hasArray()) {
            int n = in.readNBytes(slice.array(), slice.arrayOffset() + start, slice.remaining());
            slice.position(start + n);
            return n;
        }
        byte[] chunk = new byte[Math.min(slice.remaining(), 64 << 10)];
        for (int r; slice.hasRemaining() && (r = in.read(chunk, 0, Math.min(chunk.length, slice.remaining()))) > 0; ) {
            slice.put(chunk, 0, r);
        }
        return slice.position() - start;
    }

    private GetObjectRequest request(BlobKey key, long offset, long length, String etag) {
        GetObjectRequest.Builder request = GetObjectRequest.builder().bucket(options.bucket()).key(prefix + key.value())
                .range("bytes=" + offset + "-" + (offset + length - 1));
        if (etag != null) {
            request.ifMatch(etag);
        }
        return request.build();
    }

    private TransientBlobStoreException changed(BlobKey key) {
        return new TransientBlobStoreException(name, key, "object was replaced while it was being read; read it again", null);
    }

    /** {@code refused}: a GET of bytes at {@code offset} just answered 416 (nothing there). */
    private InputStream emptyAt(BlobKey key, long offset, SizeOf size, boolean refused) throws IOException {
        long total = size.size(key);
        if (offset > total) {
            throw Ranges.beyondEnd(name, key, offset, total);
        }
        if (refused && offset < total) {
            // the GET found nothing at offset, the stat finds bytes there: the object was replaced in between
            throw VerifyingInputStream.replaced(name, key, "GetObject answered 416 at offset " + offset
                    + " but the object now has " + total + " bytes: it was replaced while it was read; read it again");
        }
        return InputStream.nullInputStream();
    }
}
