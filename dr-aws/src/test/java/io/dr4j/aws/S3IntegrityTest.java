package io.dr4j.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.storage.BlobKey;
import io.dr4j.storage.PermanentBlobStoreException;
import io.dr4j.storage.TransientBlobStoreException;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.ExecutableHttpRequest;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Integrity on the way in and out, against S3Proxy. In: in S3-compatible mode over plain HTTP the
 * store's own client signs every body in full (a hex SHA-256 in {@code x-amz-content-sha256}, no
 * aws-chunked streaming, no redundant {@code Content-MD5}), and a body damaged between the SDK and
 * the server is refused by the server: the put fails as transient and nothing is stored, for
 * single puts and for multipart parts (the upload is aborted). Out: objects carry dr4j's CRC-32C
 * in their metadata, and a whole-object read of an object changed at rest fails naming both CRCs.
 */
class S3IntegrityTest {

    @RegisterExtension
    static final S3ProxyServer server = new S3ProxyServer();

    /** Records the payload-hash and MD5 headers of every PUT as sent. */
    private static final class Wire implements ExecutionInterceptor {
        final Map<String, List<String>> sha256 = new ConcurrentHashMap<>();
        final Map<String, List<String>> md5 = new ConcurrentHashMap<>();

        @Override
        public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
            if (context.httpRequest().method().name().equals("PUT")) {
                String request = context.httpRequest().encodedPath() + "?" + context.httpRequest().rawQueryParameters();
                sha256.put(request, context.httpRequest().matchingHeaders("x-amz-content-sha256"));
                md5.put(request, context.httpRequest().matchingHeaders("Content-MD5"));
            }
        }
    }

    /** An HTTP client that flips one bit of the 1000th byte of every request body while {@code damage} is set. */
    private static final class DamagingHttpClient implements SdkHttpClient {
        final SdkHttpClient delegate = ApacheHttpClient.builder().maxConnections(32).build();
        final AtomicBoolean damage = new AtomicBoolean();

        @Override
        public ExecutableHttpRequest prepareRequest(HttpExecuteRequest request) {
            if (!damage.get() || request.contentStreamProvider().isEmpty()) {
                return delegate.prepareRequest(request);
            }
            ContentStreamProvider original = request.contentStreamProvider().get();
            ContentStreamProvider damaged = () -> new FlipOneBit(original.newStream(), 999);
            return delegate.prepareRequest(HttpExecuteRequest.builder().request(request.httpRequest())
                    .contentStreamProvider(damaged).metricCollector(request.metricCollector().orElse(null)).build());
        }

        @Override
        public void close() {
            delegate.close();
        }
    }

    private static final class FlipOneBit extends FilterInputStream {
        private final long at;
        private long position;

        FlipOneBit(InputStream in, long at) {
            super(in);
            this.at = at;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0 && position++ == at) {
                b ^= 1;
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = super.read(buffer, offset, length);
            if (n > 0) {
                if (at >= position && at < position + n) {
                    buffer[offset + (int) (at - position)] ^= 1;
                }
                position += n;
            }
            return n;
        }
    }

    private static byte[] random(int size) {
        byte[] data = new byte[size];
        new Random(size).nextBytes(data);
        return data;
    }

    @Test
    void overPlainHttpEveryBodyIsSignedInFullAndNoMd5IsSent() throws IOException {
        String bucket = server.newBucket();
        Wire wire = new Wire();
        try (S3BlobStore store = server.storeBuilder(bucket).partSize(S3BlobStore.MIN_PART_SIZE)
                .customizeClient(b -> b.overrideConfiguration(o -> o.addExecutionInterceptor(wire))).build()) {
            assertThat(store.sendsContentMd5()).isFalse();
            byte[] small = random(10_000);
            byte[] large = random((int) (2 * S3BlobStore.MIN_PART_SIZE + 7));
            store.put(BlobKey.of("small"), small);
            store.put(BlobKey.of("large"), new ByteArrayInputStream(large), large.length);
            assertThat(store.getBytes(BlobKey.of("small"))).isEqualTo(small);
            assertThat(store.getBytes(BlobKey.of("large"))).isEqualTo(large);
        }
        // one PutObject and three UploadParts, each with the hex SHA-256 of its own body
        assertThat(wire.sha256).hasSize(4);
        assertThat(wire.sha256.values()).allSatisfy(v -> assertThat(v).singleElement().asString().matches("[0-9a-f]{64}"));
        assertThat(wire.md5.values()).allSatisfy(v -> assertThat(v).isEmpty());
    }

    @Test
    void aBodyDamagedOnTheWayIsRefusedByTheServerAndNothingIsStored() throws IOException {
        String bucket = server.newBucket();
        DamagingHttpClient http = new DamagingHttpClient();
        try (S3BlobStore store = server.storeBuilder(bucket).partSize(S3BlobStore.MIN_PART_SIZE).sdkMaxAttempts(1)
                .customizeClient(b -> b.httpClientBuilder(defaults -> http)).build()) {
            http.damage.set(true);
            assertThatThrownBy(() -> store.put(BlobKey.of("small"), random(10_000)))
                    .isInstanceOf(TransientBlobStoreException.class)
                    .hasMessageContaining(bucket)
                    .hasMessageContaining("damaged on its way")
                    .hasMessageContaining("nothing was stored");
            byte[] large = random((int) (2 * S3BlobStore.MIN_PART_SIZE + 7));
            assertThatThrownBy(() -> store.put(BlobKey.of("large"), new ByteArrayInputStream(large), large.length))
                    .isInstanceOf(TransientBlobStoreException.class)
                    .hasMessageContaining("UploadPart");
            http.damage.set(false);

            assertThat(store.find(BlobKey.of("small"))).isEmpty();
            assertThat(store.find(BlobKey.of("large"))).isEmpty();
            assertThat(store.client().listMultipartUploads(b -> b.bucket(bucket)).uploads()).isEmpty();
            // once the path is healthy again the same puts succeed
            store.put(BlobKey.of("large"), new ByteArrayInputStream(large), large.length);
            assertThat(store.getBytes(BlobKey.of("large"))).isEqualTo(large);
        } finally {
            http.close();
        }
    }

    @Test
    void md5IsSentByDefaultOnlyWhereNothingElseCoversTheBody() throws IOException {
        try (S3BlobStore https = S3BlobStore.builder("b1").endpoint(URI.create("https://s3.example.test"))
                        .s3Compatible(true).build();
                S3BlobStore http = S3BlobStore.builder("b2").endpoint(URI.create("http://127.0.0.1:1"))
                        .s3Compatible(true).build();
                S3BlobStore forced = S3BlobStore.builder("b3").endpoint(URI.create("http://127.0.0.1:1"))
                        .s3Compatible(true).contentMd5(true).build();
                S3BlobStore aws = S3BlobStore.builder("b4").region(software.amazon.awssdk.regions.Region.EU_WEST_1).build()) {
            assertThat(https.sendsContentMd5()).isTrue();
            assertThat(http.sendsContentMd5()).isFalse();
            assertThat(forced.sendsContentMd5()).isTrue();
            assertThat(aws.sendsContentMd5()).isFalse(); // the SDK's CRC32 flexible checksums cover AWS
        }
    }

    @Test
    void everyObjectWhoseCrcIsKnownInTimeCarriesIt(@TempDir Path tmp) throws IOException {
        String bucket = server.newBucket();
        byte[] large = random((int) (2 * S3BlobStore.MIN_PART_SIZE + 7));
        Path file = Files.write(tmp.resolve("shard"), large);
        try (S3BlobStore store = server.storeBuilder(bucket).partSize(S3BlobStore.MIN_PART_SIZE).build()) {
            store.put(BlobKey.of("single"), random(1000));
            store.put(BlobKey.of("from-file"), file);
            store.put(BlobKey.of("from-array"), large);
            store.put(BlobKey.of("from-stream"), new ByteArrayInputStream(large), large.length);

            String expected = String.format("%08x", crc32c(large));
            assertThat(metadata(store, bucket, "from-file")).containsEntry(S3BlobStore.CRC_METADATA, expected);
            assertThat(metadata(store, bucket, "from-array")).containsEntry(S3BlobStore.CRC_METADATA, expected);
            assertThat(metadata(store, bucket, "single")).containsKey(S3BlobStore.CRC_METADATA);
            // a stream uploaded in parts: its CRC is known only after the upload was created
            assertThat(metadata(store, bucket, "from-stream")).doesNotContainKey(S3BlobStore.CRC_METADATA);
            assertThat(store.getBytes(BlobKey.of("from-file"))).isEqualTo(large);
        }
    }

    @Test
    void aWholeReadOfAnObjectChangedAtRestFailsNamingBothCrcs(@TempDir Path tmp) throws IOException {
        String bucket = server.newBucket();
        byte[] small = random(1000);
        byte[] large = random((int) (2 * S3BlobStore.MIN_PART_SIZE + 7));
        Path file = Files.write(tmp.resolve("shard"), large);
        try (S3BlobStore store = server.storeBuilder(bucket).partSize(S3BlobStore.MIN_PART_SIZE).build()) {
            store.put(BlobKey.of("small"), small);
            store.put(BlobKey.of("large"), file);
            // the stored bytes change behind the store's back; their metadata stays
            rewriteWithOneBitFlipped(store.client(), bucket, "small", small);
            rewriteWithOneBitFlipped(store.client(), bucket, "large", large);

            for (String key : new String[] {"small", "large"}) {
                assertThatThrownBy(() -> store.getBytes(BlobKey.of(key)))
                        .isInstanceOf(PermanentBlobStoreException.class)
                        .hasMessageContaining(key)
                        .hasMessageContaining("CRC-32C mismatch")
                        .hasMessageContaining(String.format("%08x", crc32c(key.equals("small") ? small : large)));
                try (InputStream in = store.get(BlobKey.of(key))) {
                    assertThatThrownBy(in::readAllBytes).isInstanceOf(PermanentBlobStoreException.class);
                }
            }
            // a ranged read cannot be checked against the whole object's CRC, and is not failed by it
            assertThat(store.get(BlobKey.of("large"), 0, 100).readAllBytes()).isEqualTo(java.util.Arrays.copyOf(large, 100));
        }
    }

    /**
     * Makes the first GetObject of {@code key} look like a read that raced a writer: its response
     * carries a CRC-32C of another version (as a server reading metadata and body at two moments
     * does), and, if {@code overwrite} is set, the object is replaced before the body is read.
     */
    private static final class RacingWriter implements ExecutionInterceptor {
        final AtomicBoolean armed = new AtomicBoolean(true);
        final java.util.concurrent.atomic.AtomicInteger gets = new java.util.concurrent.atomic.AtomicInteger();
        volatile Runnable overwrite = () -> { };

        /** Arms the race to replace {@code key} with {@code bytes} through {@code writer}. */
        void overwriteWith(S3BlobStore writer, BlobKey key, byte[] bytes) {
            overwrite = () -> {
                try {
                    writer.put(key, bytes);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            };
        }

        @Override
        public software.amazon.awssdk.core.SdkResponse modifyResponse(Context.ModifyResponse context,
                ExecutionAttributes attributes) {
            if (!(context.response() instanceof software.amazon.awssdk.services.s3.model.GetObjectResponse get)) {
                return context.response();
            }
            gets.incrementAndGet();
            if (!armed.getAndSet(false)) {
                return get;
            }
            overwrite.run();
            return get.toBuilder().metadata(Map.of(S3BlobStore.CRC_METADATA, "00000000")).build();
        }
    }

    @Test
    void aWholeReadThatRacesAnOverwriteIsReadAgainAndReturnsOneWholeVersion() throws IOException {
        String bucket = server.newBucket();
        byte[] first = random(300_000);
        byte[] second = random(300_001);
        RacingWriter race = new RacingWriter();
        try (S3BlobStore writer = server.storeBuilder(bucket).build();
                S3BlobStore reader = server.storeBuilder(bucket)
                        .customizeClient(b -> b.overrideConfiguration(o -> o.addExecutionInterceptor(race))).build()) {
            writer.put(BlobKey.of("hot"), first);
            race.overwriteWith(writer, BlobKey.of("hot"), second);
            assertThat(reader.getBytes(BlobKey.of("hot"))).isEqualTo(second);
            assertThat(race.gets.get()).as("GetObject requests").isEqualTo(2);

            // the same mismatch without a writer is damage, and is reported as such
            race.overwrite = () -> { };
            race.armed.set(true);
            assertThatThrownBy(() -> reader.getBytes(BlobKey.of("hot")))
                    .isInstanceOf(PermanentBlobStoreException.class)
                    .hasMessageContaining("CRC-32C mismatch")
                    .hasMessageContaining("corrupt");
        }
    }

    @Test
    void aVerifiedReadThatRacesAnOverwriteIsReadAgainBeforeTheCheckSeesIt() throws IOException {
        String bucket = server.newBucket();
        byte[] first = random(300_000);
        byte[] second = random(300_001);
        RacingWriter race = new RacingWriter();
        try (S3BlobStore writer = server.storeBuilder(bucket).build();
                S3BlobStore reader = server.storeBuilder(bucket)
                        .customizeClient(b -> b.overrideConfiguration(o -> o.addExecutionInterceptor(race))).build()) {
            writer.put(BlobKey.of("config"), first);
            race.overwriteWith(writer, BlobKey.of("config"), second);
            java.util.List<Integer> seen = new java.util.ArrayList<>();
            byte[] got = reader.getBytesVerified(BlobKey.of("config"), 1 << 20, bytes -> seen.add(bytes.length));

            assertThat(got).isEqualTo(second);
            assertThat(seen).as("copies the check saw").containsExactly(second.length);
            assertThat(race.gets.get()).as("GetObject requests").isEqualTo(2);
        }
    }

    private static Map<String, String> metadata(S3BlobStore store, String bucket, String key) {
        return store.client().headObject(b -> b.bucket(bucket).key(key)).metadata();
    }

    private static void rewriteWithOneBitFlipped(S3Client client, String bucket, String key, byte[] original) {
        Map<String, String> metadata = client.headObject(b -> b.bucket(bucket).key(key)).metadata();
        byte[] damaged = original.clone();
        damaged[damaged.length / 2] ^= 1;
        client.putObject(b -> b.bucket(bucket).key(key).metadata(metadata),
                software.amazon.awssdk.core.sync.RequestBody.fromBytes(damaged));
    }

    private static long crc32c(byte[] data) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(data);
        return crc.getValue();
    }
}
