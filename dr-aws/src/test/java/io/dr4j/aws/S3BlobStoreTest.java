package io.dr4j.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.storage.BlobStore;
import io.dr4j.storage.BlobStoreContract;
import io.dr4j.storage.Capability;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.MultipartUpload;

/**
 * The {@link BlobStoreContract} against a real S3 server (S3Proxy, in-process on loopback), plus
 * the multipart behaviour: large objects round-trip through parallel parts and ranged reads, and
 * a failed upload leaves neither an object nor an open multipart upload.
 */
class S3BlobStoreTest extends BlobStoreContract {

    static final int PART = (int) S3BlobStore.MIN_PART_SIZE;

    @RegisterExtension
    static final S3ProxyServer server = new S3ProxyServer();
    private String bucket;

    @Override
    protected BlobStore newStore() {
        bucket = server.newBucket();
        return server.storeBuilder(bucket).keyPrefix("dr4j/test").partSize(PART).concurrency(4)
                .listPageSize(LIST_PAGE)
                // the contract's capability tests: S3Proxy keeps storage classes but cannot lock, so locked puts are refused
                .storageClass(TIERED_PREFIX, S3StorageClass.STANDARD_IA)
                .objectLock(LOCKED_PREFIX, S3ObjectLockMode.GOVERNANCE, java.time.Duration.ofDays(1))
                .build();
    }


    @Override
    protected java.util.Optional<String> tierOf(io.dr4j.storage.BlobKey key) {
        var head = s3().headObject(b -> b.bucket(bucket).key("dr4j/test/" + key.value()));
        return java.util.Optional.ofNullable(head.storageClassAsString()).filter(c -> !c.equals("STANDARD"));
    }

    /** Pages of 100 keys: the pagination test then crosses pages with a few hundred puts instead of 1,050. */
    static final int LIST_PAGE = 100;

    @Override
    protected int paginationKeyCount() {
        return 2 * LIST_PAGE + 50;
    }

    @AfterEach
    void dropBucket() {
        server.deleteBucket(bucket); // the in-memory server would otherwise keep every test's objects
    }

    private S3Client s3() {
        return ((S3BlobStore) store).client();
    }

    private List<MultipartUpload> openUploads() {
        return s3().listMultipartUploads(b -> b.bucket(bucket)).uploads();
    }

    @Test
    void declaresNoConditionalPutForAServerThatIgnoresIfNoneMatch() {
        assertThat(store.capabilities()).doesNotContain(Capability.CONDITIONAL_PUT);
        assertThat(store.name()).isEqualTo("s3://" + bucket + "/dr4j/test");
    }

    @Test
    void keysLiveUnderTheKeyPrefixInTheBucket() throws IOException {
        store.put(key("a/b"), new byte[] {1, 2, 3});
        assertThat(s3().listObjectsV2(b -> b.bucket(bucket)).contents())
                .extracting(o -> o.key()).containsExactly("dr4j/test/a/b");
    }

    @Test
    void objectSpanningManyPartsRoundTripsByteExactly() throws IOException {
        byte[] data = randomBytes(42, 4 * PART + 12_345);
        store.put(key("big/shard"), new ByteArrayInputStream(data), data.length);
        assertThat(store.stat(key("big/shard")).size()).isEqualTo(data.length);
        assertThat(store.getBytes(key("big/shard"))).isEqualTo(data);
        // a range crossing part boundaries, served by the first response plus parallel ranged reads
        assertThat(readRange("big/shard", PART - 7, 2L * PART + 100))
                .isEqualTo(java.util.Arrays.copyOfRange(data, PART - 7, 3 * PART + 93));
        assertThat(openUploads()).isEmpty();
    }

    @Test
    void uploadFailingMidwayLeavesNoObjectAndNoOpenUpload() throws IOException {
        byte[] data = randomBytes(43, 3 * PART);
        InputStream failing = new InputStream() {
            private final InputStream in = new ByteArrayInputStream(data);
            private long read;

            @Override
            public int read() throws IOException {
                throw new IllegalStateException("unused");
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (read >= 2L * PART + 1000) {
                    throw new IOException("disk read error in the source");
                }
                int n = in.read(b, off, (int) Math.min(len, 2L * PART + 1000 - read));
                read += Math.max(0, n);
                return n;
            }
        };
        assertThatThrownBy(() -> store.put(key("broken"), failing, data.length))
                .isInstanceOf(IOException.class).hasMessageContaining("disk read error");
        assertThat(store.find(key("broken"))).isEmpty();
        assertThat(openUploads()).isEmpty();
    }

    @Test
    void shortStreamAboveThePartSizeLeavesNoOpenUpload() throws IOException {
        byte[] data = randomBytes(44, 2 * PART);
        assertThatThrownBy(() -> store.put(key("short-multipart"), new ByteArrayInputStream(data), 3L * PART))
                .isInstanceOf(java.io.EOFException.class).hasMessageContaining("short-multipart");
        assertThat(store.find(key("short-multipart"))).isEmpty();
        assertThat(openUploads()).isEmpty();
    }

    @Test
    void interruptedUploadIsAbortedAndLeavesNothing() throws Exception {
        byte[] data = randomBytes(45, 3 * PART);
        CountDownLatch inSecondPart = new CountDownLatch(1);
        CountDownLatch never = new CountDownLatch(1);
        InputStream blocking = new InputStream() {
            private final InputStream in = new ByteArrayInputStream(data);
            private long read;

            @Override
            public int read() {
                throw new IllegalStateException("unused");
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (read >= PART + 10) {
                    inSecondPart.countDown();
                    try {
                        never.await();
                    } catch (InterruptedException e) {
                        throw new InterruptedIOException("source interrupted");
                    }
                }
                int n = in.read(b, off, (int) Math.min(len, PART + 10 - read));
                read += Math.max(0, n);
                return n;
            }
        };
        AtomicReference<Throwable> outcome = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            try {
                store.put(key("interrupted"), blocking, data.length);
            } catch (Throwable t) {
                outcome.set(t);
            }
        });
        writer.start();
        inSecondPart.await();
        writer.interrupt();
        writer.join();
        assertThat(outcome.get()).isInstanceOf(InterruptedIOException.class);
        assertThat(store.find(key("interrupted"))).isEmpty();
        assertThat(openUploads()).isEmpty();
    }

    @Test
    void readerClosingALargeObjectEarlyDoesNotBlockTheStore() throws IOException {
        byte[] data = randomBytes(46, 3 * PART + 5);
        store.put(key("early-close"), data);
        try (InputStream in = store.get(key("early-close"))) {
            assertThat(in.readNBytes(100)).isEqualTo(java.util.Arrays.copyOf(data, 100));
        }
        assertThat(store.getBytes(key("early-close"))).isEqualTo(data);
    }
}
