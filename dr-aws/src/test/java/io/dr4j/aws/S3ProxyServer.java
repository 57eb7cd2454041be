package io.dr4j.aws;

import java.net.URI;
import java.util.concurrent.atomic.AtomicInteger;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/**
 * An in-process S3Proxy on an ephemeral loopback port over jclouds' in-memory
 * {@code transient-nio2} store, with static test credentials. {@link #stop()} and
 * {@link #start()} restart it on the same port with the same contents, for outage tests.
 * Everything is explicit (http endpoint, static credentials, region) so that no AWS environment
 * variable or profile of the machine running the tests has any effect.
 *
 * <p>Shipped in dr-aws's test-jar: the one S3 test server of dr4j's tests (dr-azure's
 * replicated contract test and the examples' CLI tests use it too).
 *
 * <p>A test class registers one as a JUnit extension,
 * {@code @RegisterExtension static final S3ProxyServer server = new S3ProxyServer();}: it starts
 * before the class's first test and is closed after its last.
 */
public final class S3ProxyServer implements AutoCloseable, BeforeAllCallback, AfterAllCallback {

    public static final String ACCESS_KEY = "dr4j-test-access";
    public static final String SECRET_KEY = "dr4j-test-secret-0123456789";

    private static final AtomicInteger BUCKETS = new AtomicInteger();

    private final BlobStoreContext context;
    private volatile S3Proxy proxy;
    private int port;

    public S3ProxyServer() {
        context = ContextBuilder.newBuilder("transient-nio2").credentials("identity", "credential")
                .build(BlobStoreContext.class);
    }

    @Override
    public void beforeAll(ExtensionContext extension) throws Exception {
        start();
    }

    @Override
    public void afterAll(ExtensionContext extension) throws Exception {
        close();
    }

    /** Starts the server, on the port of the previous start if there was one. */
    public synchronized void start() throws Exception {
        if (proxy != null) {
            return;
        }
        S3Proxy started = S3Proxy.builder()
                .blobStore(context.getBlobStore())
                .endpoint(URI.create("http://127.0.0.1:" + port))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                .build();
        started.start();
        port = started.getPort();
        proxy = started;
    }

    /** Stops the server; its contents survive for the next {@link #start()}. */
    public synchronized void stop() throws Exception {
        if (proxy != null) {
            proxy.stop();
            proxy = null;
        }
    }

    public boolean isRunning() {
        return proxy != null;
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /** Creates a new, empty bucket with a unique name and returns the name. */
    public String newBucket() {
        String bucket = "bucket-" + BUCKETS.incrementAndGet();
        context.getBlobStore().createContainerInLocation(null, bucket);
        return bucket;
    }

    /** Creates a new, empty bucket named {@code bucket}. */
    public void createBucket(String bucket) {
        context.getBlobStore().createContainerInLocation(null, bucket);
    }

    /** Deletes {@code bucket} and everything in it. */
    public void deleteBucket(String bucket) {
        context.getBlobStore().deleteContainer(bucket);
    }

    /** A client of this server, in S3-compatible checksum mode, owned by the caller. */
    public S3Client client(ExecutionInterceptor... interceptors) {
        return clientBuilder(SECRET_KEY, interceptors).build();
    }

    public S3ClientBuilder clientBuilder(String secret, ExecutionInterceptor... interceptors) {
        return S3Client.builder()
                .endpointOverride(endpoint())
                .region(Region.US_EAST_1)
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, secret)))
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .httpClientBuilder(ApacheHttpClient.builder().maxConnections(64))
                .overrideConfiguration(o -> {
                    for (ExecutionInterceptor i : interceptors) {
                        o.addExecutionInterceptor(i);
                    }
                });
    }

    /** A store builder for {@code bucket} on this server, configured as S3Proxy needs. */
    public S3BlobStoreBuilder storeBuilder(String bucket) {
        return S3BlobStore.builder(bucket)
                .endpoint(endpoint())
                .pathStyle(true)
                .s3Compatible(true)
                .conditionalPuts(false) // S3Proxy ignores If-None-Match
                .credentials(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)));
    }

    @Override
    public void close() throws java.io.IOException {
        try {
            stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while stopping S3Proxy");
        } catch (Exception e) {
            throw new java.io.IOException("stopping S3Proxy failed: " + e, e);
        } finally {
            context.close();
        }
    }
}
