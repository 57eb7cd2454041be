package io.dr4j.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.azure.core.http.HttpMethod;
import com.azure.core.http.HttpPipelineCallContext;
import com.azure.core.http.policy.HttpPipelineSyncPolicy;
import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.BlobContainerClientBuilder;
import com.azure.storage.common.policy.RequestRetryOptions;
import com.azure.storage.common.policy.RetryPolicyType;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.PermanentBlobStoreException;
import io.dr4j.storage.RetryingBlobStore;
import io.dr4j.storage.TransientBlobStoreException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Azurite killed (SIGKILL) in the middle of a staged upload, then restarted on the same port with
 * the same data: the failure is transient, nothing is committed, and {@link RetryingBlobStore}
 * rides out the outage; permanent failures are not retried. The kill is triggered from inside the
 * SDK pipeline when the N-th block is about to be sent, so it always lands mid-upload.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class AzureBlobStoreRestartTest {

    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    private Azurite azurite;
    private BlobContainerClient container;
    private final KillSwitch killSwitch = new KillSwitch();

    @BeforeEach
    void startAzurite() throws IOException {
        azurite = Azurite.start(dir.resolve("azurite"));
        container = new BlobContainerClientBuilder()
                .connectionString(azurite.connectionString())
                .containerName("restarts")
                .addPolicy(killSwitch)
                // One try per request: RetryingBlobStore is the only retry layer under test.
                .retryOptions(new RequestRetryOptions(RetryPolicyType.FIXED, 1, Duration.ofSeconds(30),
                        Duration.ofMillis(100), Duration.ofMillis(100), null))
                .buildClient();
        container.create();
        // A graceful restart makes Azurite save its metadata, so the container survives the SIGKILL below.
        azurite.stop();
        azurite.restart();
        assertThat(container.exists()).as("container survives a graceful restart").isTrue();
    }

    @AfterEach
    void stopAzurite() throws Exception {
        killSwitch.awaitRestart();
        azurite.close();
    }

    private AzureBlobStore store() {
        return AzureBlobStore.builder().containerClient(container).blockSize(MIB).concurrency(2).build();
    }

    @Test
    void serverKilledMidUploadFailsTransientlyAndCommitsNothing() throws Exception {
        byte[] data = randomBytes(1, 8 * MIB);
        try (AzureBlobStore store = store()) {
            killSwitch.killOnBlock(3, false);
            assertThatThrownBy(() -> store.put(BlobKey.of("ckpt/shard-1"), new ByteArrayInputStream(data), data.length))
                    .isInstanceOf(TransientBlobStoreException.class)
                    .hasMessageContaining("restarts").hasMessageContaining("ckpt/shard-1").hasMessageContaining("put");
            assertThat(killSwitch.kills.get()).isEqualTo(1);

            assertThatThrownBy(() -> store.stat(BlobKey.of("ckpt/shard-1")))
                    .as("while the server is down").isInstanceOf(TransientBlobStoreException.class);

            azurite.restart();
            assertThat(store.find(BlobKey.of("ckpt/shard-1"))).isEmpty();
            try (var listing = store.list("")) {
                assertThat(listing).isEmpty();
            }
            store.put(BlobKey.of("ckpt/shard-1"), data);
            assertThat(store.getBytes(BlobKey.of("ckpt/shard-1"))).isEqualTo(data);
        }
    }

    // Was disabled on 2026-12-01 as "Azurite restarted after SIGKILL stops listening": the restart
    // never ran. With concurrency 2, the other part failing on the killed server made PartUpload
    // cancel (interrupt) the part whose thread was still in Azurite.kill() waiting for the exit; the
    // wait threw, the restart was never scheduled and every retry met a closed port. Azurite.kill()
    // now waits for the exit uninterruptibly.
    @Test
    void retryingStoreRidesOutAKillAndRestart() throws Exception {
        byte[] data = randomBytes(2, 8 * MIB);
        Path file = dir.resolve("shard.bin");
        Files.write(file, data);
        try (RetryingBlobStore store = RetryingBlobStore.builder(store())
                .maxAttempts(150).backoff(Duration.ofMillis(100), Duration.ofSeconds(1)).build()) { // up to ~2.5 min: a restart after SIGKILL can be slow on a loaded machine
            killSwitch.killOnBlock(3, true);
            store.put(BlobKey.of("ckpt/shard-2"), file);

            assertThat(killSwitch.kills.get()).isEqualTo(1);
            assertThat(killSwitch.blocksSent.get()).as("blocks sent, counting the retried upload")
                    .isGreaterThan(8);
            assertThat(store.getBytes(BlobKey.of("ckpt/shard-2"))).isEqualTo(data);
            assertThat(store.stat(BlobKey.of("ckpt/shard-2")).size()).isEqualTo(data.length);
        }
    }

    @Test
    void permanentFailuresAreSurfacedWithoutRetrying() throws Exception {
        AtomicInteger requests = new AtomicInteger();
        BlobContainerClient missing = new BlobContainerClientBuilder()
                .connectionString(azurite.connectionString())
                .containerName("never-created")
                .addPolicy(new HttpPipelineSyncPolicy() {
                    @Override
                    protected void beforeSendingRequest(HttpPipelineCallContext context) {
                        requests.incrementAndGet();
                    }
                })
                .retryOptions(new RequestRetryOptions(RetryPolicyType.FIXED, 1, Duration.ofSeconds(30),
                        Duration.ofMillis(100), Duration.ofMillis(100), null))
                .buildClient();
        try (RetryingBlobStore store = RetryingBlobStore.builder(AzureBlobStore.builder().containerClient(missing).build())
                .maxAttempts(5).backoff(Duration.ofMillis(10), Duration.ofMillis(20)).build()) {
            assertThatThrownBy(() -> store.put(BlobKey.of("k"), new byte[] {1}))
                    .isInstanceOf(PermanentBlobStoreException.class)
                    .hasMessageContaining("never-created").hasMessageContaining("container does not exist");
            assertThat(requests.get()).isEqualTo(1);
            assertThatThrownBy(() -> store.list("")).isInstanceOf(PermanentBlobStoreException.class);
            assertThat(requests.get()).isEqualTo(2);
        }
    }

    private static byte[] randomBytes(long seed, int size) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** Kills Azurite just before the N-th Put Block request leaves, optionally restarting it in the background. */
    private final class KillSwitch extends HttpPipelineSyncPolicy {
        final AtomicInteger blocksSent = new AtomicInteger();
        final AtomicInteger kills = new AtomicInteger();
        private volatile int killAt = -1;
        private volatile boolean restart;
        private volatile CompletableFuture<Void> restarted = CompletableFuture.completedFuture(null);

        void killOnBlock(int n, boolean restartAfter) {
            blocksSent.set(0);
            restart = restartAfter;
            killAt = n;
        }

        void awaitRestart() throws Exception {
            restarted.get(2, TimeUnit.MINUTES);
        }

        @Override
        protected void beforeSendingRequest(HttpPipelineCallContext context) {
            var request = context.getHttpRequest();
            String query = request.getUrl().getQuery();
            if (request.getHttpMethod() != HttpMethod.PUT || query == null || !query.contains("comp=block")
                    || query.contains("comp=blocklist")) {
                return;
            }
            if (blocksSent.incrementAndGet() == killAt) {
                killAt = -1;
                synchronized (this) {
                    try {
                        azurite.kill();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    kills.incrementAndGet();
                    if (restart) {
                        // on a thread of its own: the common pool has one thread on two cores, and
                        // whatever else queues there would delay the restart past the retry budget
                        CompletableFuture<Void> done = new CompletableFuture<>();
                        Thread restarter = new Thread(() -> {
                            try {
                                azurite.restart();
                                done.complete(null);
                            } catch (IOException | RuntimeException e) {
                                done.completeExceptionally(e);
                            }
                        }, "azurite-restarter");
                        restarter.setDaemon(true);
                        restarter.start();
                        restarted = done;
                    }
                }
            }
        }
    }
}
