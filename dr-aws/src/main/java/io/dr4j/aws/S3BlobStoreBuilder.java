package io.dr4j.aws;

import io.dr4j.storage.BlobKey;
import io.dr4j.storage.Capability;
import io.dr4j.storage.transfer.BuilderChecks;
import io.dr4j.storage.transfer.KeyPrefixRules;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/**
 * Builds an {@link S3BlobStore} (from {@link S3BlobStore#builder(String)}). Every option may be
 * set at most once; setting one twice is an {@link IllegalStateException}, as is mixing
 * {@link #client} with the options that configure a client the store builds. The AWS SDK types
 * taken here ({@link S3Client}, {@link Region}, {@link AwsCredentialsProvider},
 * {@link S3ClientBuilder}) are the documented escape hatch to the application's own SDK setup;
 * everything else is dr4j's. Not thread-safe.
 */
public final class S3BlobStoreBuilder {

    private static final List<String> CLIENT_OPTIONS = List.of("region", "endpoint", "pathStyle", "credentials",
            "s3Compatible", "sdkMaxAttempts", "customizeClient");

    private final String bucket;
    private final BuilderChecks checks = new BuilderChecks();
    S3Client client;
    Region region;
    URI endpoint;
    boolean pathStyle;
    AwsCredentialsProvider credentials;
    boolean s3Compatible;
    int sdkMaxAttempts = S3BlobStore.DEFAULT_SDK_MAX_ATTEMPTS;
    Consumer<S3ClientBuilder> clientCustomizer;
    private String keyPrefix = "";
    private long partSize = S3BlobStore.DEFAULT_PART_SIZE;
    private long multipartThreshold = -1;
    int concurrency = S3BlobStore.DEFAULT_CONCURRENCY;
    private boolean conditionalPuts = true;
    private Boolean contentMd5;
    private int listPageSize = 1000;
    private final KeyPrefixRules.Builder<S3StorageClass> storageClasses = KeyPrefixRules.builder("storage class");
    private final KeyPrefixRules.Builder<S3Options.LockRule> locks = KeyPrefixRules.builder("Object Lock");
    private Clock clock = Clock.systemUTC();

    S3BlobStoreBuilder(String bucket) {
        Objects.requireNonNull(bucket, "bucket");
        if (!bucket.matches("[a-zA-Z0-9][a-zA-Z0-9._-]{1,254}")) {
            throw new IllegalArgumentException("Invalid S3 bucket name '" + bucket + "'");
        }
        this.bucket = bucket;
    }

    /**
     * Uses the application's client, which the store never closes (escape hatch: its retry,
     * checksum and connection settings are the application's). Excludes region, endpoint,
     * pathStyle, credentials, s3Compatible, sdkMaxAttempts and customizeClient.
     */
    public S3BlobStoreBuilder client(S3Client client) {
        checks.once("client");
        this.client = Objects.requireNonNull(client, "client");
        return this;
    }

    /** Region of a client the store builds; default: the SDK's region chain, or us-east-1 with an {@link #endpoint}. */
    public S3BlobStoreBuilder region(Region region) {
        checks.once("region");
        this.region = Objects.requireNonNull(region, "region");
        return this;
    }

    /** Endpoint of an S3-compatible server, e.g. {@code http://127.0.0.1:9000}; default: AWS's. */
    public S3BlobStoreBuilder endpoint(URI endpoint) {
        checks.once("endpoint");
        Objects.requireNonNull(endpoint, "endpoint");
        if (endpoint.getScheme() == null || endpoint.getHost() == null) {
            throw new IllegalArgumentException("endpoint needs a scheme and a host, was " + endpoint);
        }
        this.endpoint = endpoint;
        return this;
    }

    /** Path-style addressing ({@code host/bucket/key}), which most S3-compatible servers need; default false. */
    public S3BlobStoreBuilder pathStyle(boolean pathStyle) {
        checks.once("pathStyle");
        this.pathStyle = pathStyle;
        return this;
    }

    /** Credentials of a client the store builds; default: the SDK's default chain. */
    public S3BlobStoreBuilder credentials(AwsCredentialsProvider credentials) {
        checks.once("credentials");
        this.credentials = Objects.requireNonNull(credentials, "credentials");
        return this;
    }

    /**
     * S3-compatible mode (default false): the built client computes and validates checksums
     * only when an operation requires them ({@code WHEN_REQUIRED}) and sends plain (not
     * aws-chunked) bodies, and {@link #contentMd5} defaults to true over HTTPS (over HTTP the
     * signed SHA-256 of every body verifies uploads; see {@link S3BlobStore}). Needed for
     * servers that reject the SDK's default flexible checksums.
     */
    public S3BlobStoreBuilder s3Compatible(boolean s3Compatible) {
        checks.once("s3Compatible");
        this.s3Compatible = s3Compatible;
        return this;
    }

    /**
     * Adjusts a client the store builds, after the store's own settings (escape hatch): an HTTP
     * proxy, timeouts, metric publishers, interceptors. The store still owns and closes that client.
     */
    public S3BlobStoreBuilder customizeClient(Consumer<S3ClientBuilder> customizer) {
        checks.once("customizeClient");
        this.clientCustomizer = Objects.requireNonNull(customizer, "customizer");
        return this;
    }

    /**
     * Attempts per request (SDK standard retry strategy) of a client the store builds; default 3;
     * 1 disables SDK retries. See the retry plan in {@code docs/guide.md}.
     */
    public S3BlobStoreBuilder sdkMaxAttempts(int sdkMaxAttempts) {
        checks.once("sdkMaxAttempts");
        if (sdkMaxAttempts < 1) {
            throw new IllegalArgumentException("sdkMaxAttempts must be at least 1, was " + sdkMaxAttempts);
        }
        this.sdkMaxAttempts = sdkMaxAttempts;
        return this;
    }

    /** A prefix inside the bucket under which all keys live (a valid {@link BlobKey}); default none. */
    public S3BlobStoreBuilder keyPrefix(String keyPrefix) {
        checks.once("keyPrefix");
        this.keyPrefix = BlobKey.checkPrefix(keyPrefix);
        return this;
    }

    /**
     * Size of multipart parts and of parallel download ranges, 5 MiB to 1 GiB; default 16 MiB.
     * Raised automatically for an object that would need more than {@value S3BlobStore#MAX_PARTS} parts.
     */
    public S3BlobStoreBuilder partSize(long partSize) {
        checks.once("partSize");
        this.partSize = BuilderChecks.between("partSize", partSize, S3BlobStore.MIN_PART_SIZE, S3BlobStore.MAX_PART_SIZE,
                "bytes");
        return this;
    }

    /**
     * Objects larger than this are uploaded in parts; at least 0, at most 1 GiB; default: twice the
     * part size (at most 1 GiB). An object a little larger than one part, such as a repository
     * pack (a 16 MiB target, filled up to a chunk past it), is then one PutObject rather than a
     * multipart upload of four requests whose second part is a small tail.
     */
    public S3BlobStoreBuilder multipartThreshold(long multipartThreshold) {
        checks.once("multipartThreshold");
        this.multipartThreshold = BuilderChecks.between("multipartThreshold", multipartThreshold, 0,
                S3BlobStore.MAX_PART_SIZE, "bytes");
        return this;
    }

    /** Parts uploaded or ranges downloaded at once per operation, and worker threads of the store; 1 to 256, default 8. */
    public S3BlobStoreBuilder concurrency(int concurrency) {
        checks.once("concurrency");
        this.concurrency = BuilderChecks.between("concurrency", concurrency, 1, 256);
        return this;
    }

    /**
     * Whether the server enforces {@code If-None-Match: *} on puts (default true, as AWS S3
     * does since 2024). Set false for servers that ignore it, such as S3Proxy: then
     * {@code putIfAbsent} is a check followed by a put and {@link Capability#CONDITIONAL_PUT}
     * is not declared.
     */
    public S3BlobStoreBuilder conditionalPuts(boolean conditionalPuts) {
        checks.once("conditionalPuts");
        this.conditionalPuts = conditionalPuts;
        return this;
    }

    /**
     * Whether to send {@code Content-MD5} with every object and part. Default: true in
     * {@link #s3Compatible} mode over HTTPS; false over HTTP in that mode (the signed body
     * hash covers uploads), false with AWS's flexible checksums and with an application's
     * {@link #client} (whose checksum settings are the application's).
     */
    public S3BlobStoreBuilder contentMd5(boolean contentMd5) {
        checks.once("contentMd5");
        this.contentMd5 = contentMd5;
        return this;
    }

    /**
     * Writes objects under {@code keyPrefix} ({@code ""} for all) in {@code storageClass};
     * the longest matching prefix wins; default: the bucket's default class. Declares
     * {@link Capability#STORAGE_TIERS}.
     */
    public S3BlobStoreBuilder storageClass(String keyPrefix, S3StorageClass storageClass) {
        storageClasses.add(keyPrefix, Objects.requireNonNull(storageClass, "storageClass"));
        return this;
    }

    /**
     * Writes objects under {@code keyPrefix} ({@code ""} for all) with Object Lock: in
     * {@code mode} and retained until the time of the write plus {@code retention} (positive).
     * The bucket must have Object Lock enabled, or locked writes fail. Declares
     * {@link Capability#OBJECT_LOCK}.
     */
    public S3BlobStoreBuilder objectLock(String keyPrefix, S3ObjectLockMode mode, Duration retention) {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(retention, "retention");
        if (retention.isNegative() || retention.isZero()) {
            throw new IllegalArgumentException("Object Lock retention must be positive, was " + retention);
        }
        locks.add(keyPrefix, new S3Options.LockRule(mode, retention));
        return this;
    }

    /** Keys per listing request ({@code max-keys}), 1 to 1000; default 1000, S3's maximum. */
    public S3BlobStoreBuilder listPageSize(int listPageSize) {
        checks.once("listPageSize");
        this.listPageSize = BuilderChecks.between("listPageSize", listPageSize, 1, 1000);
        return this;
    }

    /**
     * Clock for Object Lock retain-until times and the age cutoff of
     * {@link S3BlobStore#cleanupIncompleteUploads}; default the system UTC clock.
     */
    public S3BlobStoreBuilder clock(Clock clock) {
        checks.once("clock");
        this.clock = Objects.requireNonNull(clock, "clock");
        return this;
    }

    /** Builds the store. No request is made. */
    public S3BlobStore build() {
        if (client != null) {
            checks.refuse(CLIENT_OPTIONS, "configures the client the store builds; it cannot be"
                    + " combined with client(...): configure your own client instead");
        }
        if (multipartThreshold > partSize * S3BlobStore.MAX_PARTS) {
            throw new IllegalStateException("multipartThreshold " + multipartThreshold + " exceeds what parts can hold");
        }
        boolean md5 = contentMd5 != null ? contentMd5 : s3Compatible && !bodiesAreSigned();
        S3Options options = new S3Options(bucket, keyPrefix, partSize, multipartThreshold < 0
                ? Math.min(2 * partSize, S3BlobStore.MAX_PART_SIZE) : multipartThreshold,
                concurrency, conditionalPuts, md5, listPageSize, storageClasses.build(), locks.build(), clock);
        return client != null ? new S3BlobStore(options, client, false)
                : new S3BlobStore(options, S3ClientFactory.build(this), true);
    }

    /**
     * Whether the client the store builds signs every request body in full (SHA-256 in
     * {@code x-amz-content-sha256}): in S3-compatible mode (no aws-chunked encoding) over plain
     * HTTP, where the SDK always signs payloads.
     */
    private boolean bodiesAreSigned() {
        return client == null && s3Compatible && endpoint != null && "http".equalsIgnoreCase(endpoint.getScheme());
    }
}
