package io.dr4j.bench.s3;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;
import org.jclouds.blobstore.domain.Blob;
import org.jclouds.blobstore.domain.BlobMetadata;
import org.jclouds.blobstore.domain.MultipartPart;
import org.jclouds.blobstore.domain.MultipartUpload;
import org.jclouds.blobstore.options.GetOptions;
import org.jclouds.blobstore.options.PutOptions;
import org.jclouds.blobstore.util.ForwardingBlobStore;
import org.jclouds.io.Payload;

/**
 * The S3 server of the S3 side-by-side runners: one S3Proxy on loopback over
 * {@code filesystem-nio2} in a directory (each bucket a directory, each object a file below it),
 * with random credentials, that counts the requests it serves per bucket, so that every tool's
 * PUTs and GETs are counted the same way whatever the tool reports. Thread-safe.
 */
public final class BenchS3Server implements AutoCloseable {

    /** Requests served for one bucket since it was created; {@code puts} counts single PUTs and multipart part PUTs. */
    public record Requests(long puts, long objectsCreated, long gets, long heads) {

        /** The requests of this minus those of {@code before}. */
        public Requests minus(Requests before) {
            return new Requests(puts - before.puts, objectsCreated - before.objectsCreated, gets - before.gets,
                    heads - before.heads);
        }
    }

    private final Path directory;
    private final BlobStoreContext context;
    private final S3Proxy proxy;
    private final String accessKey;
    private final String secretKey;
    private final Map<String, LongAdder[]> counters = new ConcurrentHashMap<>();

    private BenchS3Server(Path directory) throws Exception {
        this.directory = directory;
        Properties properties = new Properties();
        properties.setProperty("jclouds.filesystem.basedir", directory.toString());
        SecureRandom random = new SecureRandom();
        this.accessKey = "bench-" + HexFormat.of().formatHex(random.generateSeed(4));
        this.secretKey = HexFormat.of().formatHex(random.generateSeed(16));
        this.context = ContextBuilder.newBuilder("filesystem-nio2").overrides(properties)
                .credentials("identity", "credential").build(BlobStoreContext.class);
        try {
            this.proxy = S3Proxy.builder().blobStore(new Counting(context.getBlobStore()))
                    .endpoint(URI.create("http://127.0.0.1:0"))
                    .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, accessKey, secretKey)
                    // the Transfer Manager's Java multipart client sends x-amz-mp-object-size,
                    // which S3Proxy otherwise refuses with 501
                    .ignoreUnknownHeaders(true)
                    .build();
            proxy.start();
        } catch (Exception e) {
            context.close();
            throw e;
        }
    }

    /** Starts a server keeping its objects below {@code directory} (which must exist). */
    public static BenchS3Server start(Path directory) throws Exception {
        return new BenchS3Server(directory);
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + proxy.getPort());
    }

    public String accessKey() {
        return accessKey;
    }

    public String secretKey() {
        return secretKey;
    }

    /** Creates {@code bucket} (empty, counters at zero). */
    public void createBucket(String bucket) {
        context.getBlobStore().createContainerInLocation(null, bucket);
        counters.remove(bucket);
    }

    /** Deletes {@code bucket} and everything in it. */
    public void deleteBucket(String bucket) {
        context.getBlobStore().deleteContainer(bucket);
    }

    /** Where the objects of {@code bucket} are on disk: object {@code a/b} is the file {@code a/b} below it. */
    public Path bucketDirectory(String bucket) {
        return directory.resolve(bucket);
    }

    /** The requests served for {@code bucket} so far. */
    public Requests requests(String bucket) {
        LongAdder[] c = counters(bucket);
        return new Requests(c[0].sum(), c[1].sum(), c[2].sum(), c[3].sum());
    }

    /**
     * The environment that makes {@code remote:} an rclone remote of this server (no config file
     * needed; pass {@code --config /dev/null} or an empty file so that the user's own config is not read).
     */
    public Map<String, String> rcloneEnv(String remote) {
        String p = "RCLONE_CONFIG_" + remote.toUpperCase(java.util.Locale.ROOT) + "_";
        return Map.of(p + "TYPE", "s3", p + "PROVIDER", "Other", p + "ENDPOINT", endpoint().toString(),
                p + "REGION", "us-east-1", p + "FORCE_PATH_STYLE", "true", p + "ACCESS_KEY_ID", accessKey,
                p + "SECRET_ACCESS_KEY", secretKey);
    }

    /** The environment that gives the {@code dr4j} CLI (or any AWS SDK client) this server's credentials. */
    public Map<String, String> awsEnv() {
        return Map.of("AWS_ACCESS_KEY_ID", accessKey, "AWS_SECRET_ACCESS_KEY", secretKey);
    }

    /** {@code dr4j} CLI options that point {@code s3://} URIs at this server. */
    public List<String> dr4jS3Options() {
        return List.of("--s3-endpoint", endpoint().toString(), "--s3-region", "us-east-1", "--s3-path-style",
                "--s3-compatible", "--s3-no-conditional-puts");
    }

    @Override
    public void close() throws IOException {
        try {
            proxy.stop();
        } catch (Exception e) {
            throw new IOException("stopping S3Proxy failed: " + e.getMessage(), e);
        } finally {
            context.close();
        }
    }

    private LongAdder[] counters(String bucket) {
        return counters.computeIfAbsent(bucket, b -> new LongAdder[] {new LongAdder(), new LongAdder(), new LongAdder(),
                new LongAdder()});
    }

    /**
     * Counts the S3 requests S3Proxy serves, per bucket. S3Proxy calls the store more than once
     * for some requests (a stub object at CreateMultipartUpload, metadata reads in UploadPart and
     * CompleteMultipartUpload), so a call counts only when the S3Proxy handler on the stack is
     * the request it stands for.
     */
    private final class Counting extends ForwardingBlobStore {

        private static final StackWalker STACK = StackWalker.getInstance();

        Counting(BlobStore delegate) {
            super(delegate);
        }

        @Override
        public String putBlob(String container, Blob blob) {
            countPut(container);
            return super.putBlob(container, blob);
        }

        @Override
        public String putBlob(String container, Blob blob, PutOptions options) {
            countPut(container);
            return super.putBlob(container, blob, options);
        }

        @Override
        public MultipartPart uploadMultipartPart(MultipartUpload mpu, int partNumber, Payload payload) {
            if (handler().equals("handleUploadPart")) {
                counters(mpu.containerName())[0].increment();
            }
            return super.uploadMultipartPart(mpu, partNumber, payload);
        }

        @Override
        public String completeMultipartUpload(MultipartUpload mpu, List<MultipartPart> parts) {
            if (handler().equals("handleCompleteMultipartUpload")) {
                counters(mpu.containerName())[1].increment();
            }
            return super.completeMultipartUpload(mpu, parts);
        }

        @Override
        public Blob getBlob(String container, String name) {
            countIf(container, "handleGetBlob", 2);
            return super.getBlob(container, name);
        }

        @Override
        public Blob getBlob(String container, String name, GetOptions options) {
            countIf(container, "handleGetBlob", 2);
            return super.getBlob(container, name, options);
        }

        @Override
        public BlobMetadata blobMetadata(String container, String name) {
            countIf(container, "handleBlobMetadata", 3);
            return super.blobMetadata(container, name);
        }

        private void countPut(String container) {
            if (handler().equals("handlePutBlob")) {
                LongAdder[] c = counters(container);
                c[0].increment();
                c[1].increment();
            }
        }

        private void countIf(String container, String expected, int counter) {
            if (handler().equals(expected)) {
                counters(container)[counter].increment();
            }
        }

        /** The innermost S3Proxy request handler method on the stack, or "". */
        private String handler() {
            return STACK.walk(frames -> frames.filter(f -> f.getClassName().startsWith("org.gaul.s3proxy.S3ProxyHandler")
                    && f.getMethodName().startsWith("handle")).map(StackWalker.StackFrame::getMethodName).findFirst().orElse(""));
        }
    }
}
