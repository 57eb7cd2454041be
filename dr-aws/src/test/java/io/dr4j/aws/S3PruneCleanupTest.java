package io.dr4j.aws;

import static org.assertj.core.api.Assertions.assertThat;

import io.dr4j.backup.ChunkerParameters;
import io.dr4j.backup.InitOptions;
import io.dr4j.backup.KeyProvider;
import io.dr4j.backup.Repository;
import io.dr4j.backup.RepositoryOptions;
import io.dr4j.replication.ReplicatedBlobStore;
import io.dr4j.storage.BlobStore;
import io.dr4j.storage.InMemoryBlobStore;
import io.dr4j.testing.MutableClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsRequest;
import software.amazon.awssdk.services.s3.S3Client;

/** Prune aborts the multipart uploads killed backups left open on S3 (S3Proxy lists and aborts them), once they are old enough. */
class S3PruneCleanupTest {

    @RegisterExtension
    static final S3ProxyServer server = new S3ProxyServer();

    @TempDir
    Path tmp;

    private static final KeyProvider KEY = KeyProvider.rawKey(new byte[32]);
    private static final InitOptions INIT = InitOptions.defaults().withChunker(new ChunkerParameters(16 << 10, 64 << 10, 256 << 10));

    /** An upload as a backup killed between two parts leaves it: created, one part, never completed or aborted. */
    private static void abandonUpload(S3Client client, String bucket, String key) {
        String id = client.createMultipartUpload(b -> b.bucket(bucket).key(key)).uploadId();
        client.uploadPart(b -> b.bucket(bucket).key(key).uploadId(id).partNumber(1), RequestBody.fromBytes(new byte[5 << 20]));
    }

    private static int openUploads(S3Client client, String bucket) {
        return client.listMultipartUploads(b -> b.bucket(bucket)).uploads().size();
    }

    private static RepositoryOptions grace(Duration grace) {
        return RepositoryOptions.builder().noCache().host("s3-test").pruneGracePeriod(grace).build();
    }

    /** Counts ListMultipartUploads requests: the cleanup hook was called. */
    private static final class ListingCounter implements ExecutionInterceptor {
        final AtomicInteger listings = new AtomicInteger();

        @Override
        public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
            if (context.request() instanceof ListMultipartUploadsRequest) {
                listings.incrementAndGet();
            }
        }
    }

    @Test
    void pruneCallsTheCleanupWithItsGracePeriodAndYoungUploadsSurvive() throws Exception {
        String bucket = server.newBucket();
        Path ckpt = Files.createDirectories(tmp.resolve("ckpt"));
        Files.writeString(ckpt.resolve("config.json"), "{\"step\": 1}");
        ListingCounter counter = new ListingCounter();
        try (S3Client client = server.client(counter);
             S3BlobStore store = S3BlobStore.builder(bucket).client(client).conditionalPuts(false).contentMd5(true).keyPrefix("dr4j/prod").build()) {
            try (Repository repo = Repository.init(store, KEY, INIT, grace(Duration.ofHours(1)))) {
                repo.backup(ckpt);
            }
            abandonUpload(client, bucket, "dr4j/prod/packs/ab/abandoned");
            abandonUpload(client, bucket, "elsewhere/not-ours"); // outside the store's prefix: never touched
            try (Repository repo = Repository.open(store, KEY, grace(Duration.ofHours(1)))) {
                repo.prune(true);
                assertThat(counter.listings).as("a dry run does not clean up").hasValue(0);
                repo.prune(false);
                assertThat(counter.listings).hasValue(1);
            }
            // the upload is seconds old: it may belong to a backup still running
            assertThat(openUploads(client, bucket)).isEqualTo(2);
            // S3Proxy reports every upload as initiated at the time of the listing, so an upload cannot be made to look
            // old on it: the age rule's other side is exercised with a cut-off in the future
            assertThat(store.abortIncompleteUploads(java.time.Instant.now().plusSeconds(60))).isEqualTo(1);
            assertThat(client.listMultipartUploads(b -> b.bucket(bucket)).uploads())
                    .singleElement().satisfies(u -> assertThat(u.key()).isEqualTo("elsewhere/not-ours"));
        }
    }

    @Test
    void theCleanupCutOffIsReadFromTheStoresClock() throws Exception {
        String bucket = server.newBucket();
        // two hours ahead of the host: the upload made now is older than one hour by the store's clock
        MutableClock clock = new MutableClock(java.time.Instant.now().plus(Duration.ofHours(2)));
        try (S3Client client = server.client();
             S3BlobStore store = S3BlobStore.builder(bucket).client(client).conditionalPuts(false).contentMd5(true)
                     .clock(clock).build()) {
            abandonUpload(client, bucket, "packs/ef/abandoned");
            assertThat(store.cleanupIncompleteUploads(Duration.ofHours(3))).as("younger than three hours").isZero();
            assertThat(store.cleanupIncompleteUploads(Duration.ofHours(1))).isEqualTo(1);
            assertThat(openUploads(client, bucket)).isZero();
        }
    }

    @Test
    void aReplicatedStoreFansTheCleanupOutToItsMembers() throws Exception {
        String bucket = server.newBucket();
        ListingCounter counter = new ListingCounter();
        try (S3Client client = server.client(counter);
             S3BlobStore s3 = S3BlobStore.builder(bucket).client(client).conditionalPuts(false).contentMd5(true).build();
             BlobStore replicated = ReplicatedBlobStore.builder().member("s3", s3).member("mem", InMemoryBlobStore.create("mem"))
                     .repairLog(InMemoryBlobStore.create("log")).build()) {
            abandonUpload(client, bucket, "packs/cd/abandoned");
            assertThat(replicated.cleanupIncompleteUploads(Duration.ofHours(1))).isZero();
            assertThat(counter.listings).hasValue(1);
            assertThat(openUploads(client, bucket)).isEqualTo(1);
        }
    }
}
