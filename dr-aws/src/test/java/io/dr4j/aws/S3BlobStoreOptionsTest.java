package io.dr4j.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.storage.BlobKey;
import io.dr4j.storage.Capability;
import io.dr4j.storage.PermanentBlobStoreException;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.StorageClass;

/**
 * Builder options against S3Proxy: storage classes per prefix and conditional-put headers are
 * checked on the wire (what the server does with them is the server's business), Object Lock on
 * a bucket that cannot lock is refused, the application's client is left open, and bad
 * configuration fails at build time with a message naming the option.
 */
class S3BlobStoreOptionsTest {

    @RegisterExtension
    static final S3ProxyServer server = new S3ProxyServer();

    /** Records selected headers of every request as sent, by object key. */
    private static final class Wire implements ExecutionInterceptor {
        final Map<String, Map<String, List<String>>> headersByPath = new ConcurrentHashMap<>();

        @Override
        public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
            String path = context.httpRequest().encodedPath();
            String query = context.httpRequest().rawQueryParameters().keySet().toString();
            headersByPath.put(context.httpRequest().method() + " " + path + " " + query, context.httpRequest().headers());
        }

        List<String> header(String method, String pathSuffix, String name) {
            return headersByPath.entrySet().stream()
                    .filter(e -> e.getKey().startsWith(method + " ") && e.getKey().contains(pathSuffix + " "))
                    .flatMap(e -> e.getValue().entrySet().stream())
                    .filter(h -> h.getKey().equalsIgnoreCase(name))
                    .flatMap(h -> h.getValue().stream())
                    .toList();
        }
    }

    @Test
    void storageClassIsChosenByTheLongestMatchingPrefix() throws IOException {
        String bucket = server.newBucket();
        Wire wire = new Wire();
        try (S3Client client = server.client(wire);
                S3BlobStore store = S3BlobStore.builder(bucket).client(client).conditionalPuts(false).contentMd5(true)
                        .partSize(S3BlobStore.MIN_PART_SIZE)
                        .storageClass("snapshots", S3StorageClass.STANDARD_IA)
                        .storageClass("snapshots/archive", S3StorageClass.GLACIER_IR)
                        .build()) {
            assertThat(store.capabilities()).contains(Capability.STORAGE_TIERS);
            store.put(BlobKey.of("snapshots/s1/manifest"), new byte[] {1});
            store.put(BlobKey.of("snapshots/archive/s0/manifest"), new byte[] {2});
            store.put(BlobKey.of("snapshots/archive/big"), new byte[(int) (2 * S3BlobStore.MIN_PART_SIZE) + 1]); // multipart
            store.put(BlobKey.of("chunks/ab"), new byte[] {3});

            assertThat(wire.header("PUT", "/snapshots/s1/manifest", "x-amz-storage-class")).containsExactly("STANDARD_IA");
            assertThat(wire.header("PUT", "/snapshots/archive/s0/manifest", "x-amz-storage-class")).containsExactly("GLACIER_IR");
            // a multipart upload carries the class on its CreateMultipartUpload (POST ?uploads)
            assertThat(wire.header("POST", "/snapshots/archive/big", "x-amz-storage-class")).containsExactly("GLACIER_IR");
            assertThat(wire.header("PUT", "/chunks/ab", "x-amz-storage-class")).isEmpty();
            assertThat(store.getBytes(BlobKey.of("snapshots/archive/s0/manifest"))).containsExactly(2);
            // S3Proxy also keeps the class it was given
            assertThat(client.headObject(b -> b.bucket(bucket).key("snapshots/s1/manifest")).storageClass())
                    .isEqualTo(StorageClass.STANDARD_IA);
        }
    }

    @Test
    void objectLockOnABucketThatCannotLockIsRefusedAndWritesNothing() throws IOException {
        String bucket = server.newBucket();
        try (S3BlobStore store = server.storeBuilder(bucket)
                .objectLock("snapshots", S3ObjectLockMode.COMPLIANCE, Duration.ofDays(30)).build()) {
            assertThat(store.capabilities()).contains(Capability.OBJECT_LOCK);
            assertThatThrownBy(() -> store.put(BlobKey.of("snapshots/s1/manifest"), new byte[] {1}))
                    .isInstanceOf(PermanentBlobStoreException.class)
                    .hasMessageContaining("Object Lock")
                    .hasMessageContaining(bucket)
                    .hasMessageContaining("nothing was written");
            assertThatThrownBy(() -> store.put(BlobKey.of("snapshots/big"),
                    new java.io.ByteArrayInputStream(new byte[(int) (3 * S3BlobStore.DEFAULT_PART_SIZE)]),
                    3 * S3BlobStore.DEFAULT_PART_SIZE)) // above the multipart threshold
                    .isInstanceOf(PermanentBlobStoreException.class).hasMessageContaining("Object Lock");
            assertThat(store.client().listObjectsV2(b -> b.bucket(bucket)).contents()).isEmpty();
            assertThat(store.client().listMultipartUploads(b -> b.bucket(bucket)).uploads()).isEmpty();

            store.put(BlobKey.of("chunks/unlocked-by-design"), new byte[] {2});
            assertThat(store.getBytes(BlobKey.of("chunks/unlocked-by-design"))).containsExactly(2);
        }
    }

    @Test
    void conditionalPutsAreDeclaredByDefaultAndSendIfNoneMatch() throws IOException {
        String bucket = server.newBucket();
        Wire wire = new Wire();
        try (S3Client client = server.client(wire);
                S3BlobStore store = S3BlobStore.builder(bucket).client(client).contentMd5(true).build()) {
            assertThat(store.capabilities()).containsExactly(Capability.CONDITIONAL_PUT);
            store.putIfAbsent(BlobKey.of("locks/owner"), new byte[] {1});
            assertThat(wire.header("PUT", "/locks/owner", "If-None-Match")).containsExactly("*");
            assertThat(wire.header("PUT", "/locks/owner", "Content-MD5")).hasSize(1);
        }
    }

    @Test
    void theApplicationsClientIsLeftOpen() throws IOException {
        String bucket = server.newBucket();
        try (S3Client client = server.client()) {
            S3BlobStore store = S3BlobStore.builder(bucket).client(client).conditionalPuts(false).build();
            store.close();
            assertThat(client.listObjectsV2(b -> b.bucket(bucket)).contents()).isEmpty();
        }
    }

    @Test
    void badConfigurationFailsAtBuildTimeNamingTheOption() {
        assertThatThrownBy(() -> S3BlobStore.builder("bkt").partSize(1024))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("partSize");
        assertThatThrownBy(() -> S3BlobStore.builder("bkt").concurrency(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("concurrency");
        assertThatThrownBy(() -> S3BlobStore.builder("bkt").keyPrefix("a/").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Invalid blob key");
        assertThatThrownBy(() -> S3BlobStore.builder("bkt").region(Region.EU_WEST_1).region(Region.EU_WEST_2))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("region was already set");
        assertThatThrownBy(() -> S3BlobStore.builder("bkt").objectLock("x", S3ObjectLockMode.GOVERNANCE, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("retention");
        assertThatThrownBy(() -> S3BlobStore.builder("b/x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bucket");
        try (S3Client client = server.client()) {
            assertThatThrownBy(() -> S3BlobStore.builder("bkt").client(client).endpoint(URI.create("http://127.0.0.1:1")).build())
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("endpoint");
        }
    }
}
