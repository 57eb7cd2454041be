package io.dr4j.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStore;
import io.dr4j.storage.PermanentBlobStoreException;
import io.dr4j.storage.RetryingBlobStore;
import io.dr4j.storage.TransientBlobStoreException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

/**
 * Outages and misconfiguration against a real server: S3Proxy stopped in the middle of a
 * multipart upload and started again, wrong credentials, a missing bucket. Transient failures
 * are retried by {@link RetryingBlobStore} on top of the SDK's own per-request retries;
 * permanent ones surface at once with a message naming the bucket and operation.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class S3BlobStoreFaultTest {

    private static final int PART = (int) S3BlobStore.MIN_PART_SIZE;

    @RegisterExtension
    static final S3ProxyServer server = new S3ProxyServer();

    @TempDir
    Path tempDir;

    /** Counts requests by type and runs test hooks at chosen points of the SDK pipeline. */
    private static final class Hooks implements ExecutionInterceptor {
        final AtomicInteger creates = new AtomicInteger();
        final AtomicInteger requests = new AtomicInteger();
        final AtomicBoolean stopAtSecondPart = new AtomicBoolean();

        @Override
        public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
            requests.incrementAndGet();
            SdkRequest request = context.request();
            if (request instanceof CreateMultipartUploadRequest) {
                creates.incrementAndGet();
                if (!server.isRunning()) {
                    // the outage ends before the next attempt of the whole upload
                    run(server::start);
                }
            }
        }

        @Override
        public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
            if (context.request() instanceof UploadPartRequest part && part.partNumber() == 2
                    && stopAtSecondPart.compareAndSet(true, false)) {
                run(server::stop);
            }
        }

        private static void run(ThrowingAction action) {
            try {
                action.run();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    @FunctionalInterface
    private interface ThrowingAction {
        void run() throws Exception;
    }

    @Test
    void serverStoppedMidUploadThenRestartedIsRiddenOutByRetries() throws Exception {
        String bucket = server.newBucket();
        Hooks hooks = new Hooks();
        byte[] data = new byte[3 * PART + 777];
        new Random(7).nextBytes(data);
        Path source = tempDir.resolve("shard.bin");
        Files.write(source, data);
        Instant start = Instant.now();
        try (S3Client client = server.client(hooks);
                S3BlobStore s3 = S3BlobStore.builder(bucket).client(client).partSize(PART)
                        // one part at a time: the server stops between parts, never inside one
                        // (S3Proxy's in-memory store can be left with a torn part otherwise)
                        .concurrency(1).conditionalPuts(false).contentMd5(true).build();
                BlobStore store = RetryingBlobStore.builder(s3).maxAttempts(4)
                        .backoff(Duration.ofMillis(50), Duration.ofMillis(200)).build()) {
            hooks.stopAtSecondPart.set(true);
            store.put(BlobKey.of("ckpt/shard.bin"), source);

            assertThat(hooks.creates.get()).as("the first upload failed and was retried as a whole").isEqualTo(2);
            assertThat(store.getBytes(BlobKey.of("ckpt/shard.bin"))).isEqualTo(data);
            // the first attempt's abort could not reach the stopped server: its upload is still open
            assertThat(client.listMultipartUploads(b -> b.bucket(bucket)).uploads()).hasSize(1);
            assertThat(s3.abortIncompleteUploads(Instant.now().plusSeconds(1))).isEqualTo(1);
            assertThat(client.listMultipartUploads(b -> b.bucket(bucket)).uploads()).isEmpty();
            assertThat(Instant.now()).isAfter(start);
        } finally {
            server.start();
        }
    }

    @Test
    void outageOutlastingTheSdkRetriesIsATransientErrorNamingBucketAndOperation() throws Exception {
        String bucket = server.newBucket();
        try (S3BlobStore store = server.storeBuilder(bucket).sdkMaxAttempts(2).build()) {
            server.stop();
            assertThatThrownBy(() -> store.put(BlobKey.of("during/outage"), new byte[] {1, 2, 3}))
                    .isInstanceOf(TransientBlobStoreException.class)
                    .hasMessageContaining("s3://" + bucket)
                    .hasMessageContaining("PutObject")
                    .hasMessageContaining("during/outage");
            assertThatThrownBy(() -> store.stat(BlobKey.of("during/outage")))
                    .isInstanceOf(TransientBlobStoreException.class);
            server.start();
            store.put(BlobKey.of("during/outage"), new byte[] {1, 2, 3});
            assertThat(store.getBytes(BlobKey.of("during/outage"))).containsExactly(1, 2, 3);
        } finally {
            server.start();
        }
    }

    @Test
    void wrongCredentialsArePermanentNotRetriedAndNeverQuoteTheSecret() throws IOException {
        String bucket = server.newBucket();
        Hooks hooks = new Hooks();
        String wrongSecret = "wrong-secret-do-not-print-42";
        try (S3Client client = server.clientBuilder(wrongSecret, hooks).build();
                BlobStore store = RetryingBlobStore.builder(S3BlobStore.builder(bucket).client(client)
                        .conditionalPuts(false).contentMd5(true).build())
                        .maxAttempts(5).backoff(Duration.ofMillis(10), Duration.ofMillis(20)).build()) {
            assertThatThrownBy(() -> store.put(BlobKey.of("k"), new byte[] {1}))
                    .isInstanceOf(PermanentBlobStoreException.class)
                    .hasMessageContaining("s3://" + bucket)
                    .hasMessageContaining("PutObject")
                    .hasMessageContaining("403")
                    .hasMessageNotContaining(wrongSecret)
                    .hasMessageNotContaining(S3ProxyServer.SECRET_KEY);
            assertThat(hooks.requests.get()).as("neither dr4j nor the SDK retries access denied").isEqualTo(1);
        }
    }

    @Test
    void missingBucketIsPermanentForWritesAndListings() throws IOException {
        try (BlobStore store = server.storeBuilder("no-such-bucket").build()) {
            assertThatThrownBy(() -> store.put(BlobKey.of("k"), new byte[] {1}))
                    .isInstanceOf(PermanentBlobStoreException.class)
                    .hasMessageContaining("s3://no-such-bucket")
                    .hasMessageContaining("PutObject")
                    .hasMessageContaining("NoSuchBucket");
            assertThatThrownBy(() -> store.list(""))
                    .isInstanceOf(PermanentBlobStoreException.class)
                    .hasMessageContaining("ListObjectsV2")
                    .hasMessageContaining("does not exist");
        }
    }
}
