package io.dr4j.aws;

import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStore;
import io.dr4j.storage.Capability;
import io.dr4j.storage.PermanentBlobStoreException;
import io.dr4j.storage.TransientBlobStoreException;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import java.util.zip.CRC32C;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.GetObjectLockConfigurationResponse;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.ObjectLockEnabled;
import software.amazon.awssdk.services.s3.model.ObjectLockMode;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.StorageClass;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

/**
 * A {@link BlobStore} on Amazon S3 or an S3-compatible server (MinIO, Ceph RGW, S3Proxy, ...),
 * built on the AWS SDK for Java v2. Objects live in one bucket under an optional key prefix:
 * key {@code chunks/ab/cd} of a store with prefix {@code backups/prod} is the S3 object
 * {@code backups/prod/chunks/ab/cd}.
 *
 * <pre>{@code
 * BlobStore store = S3BlobStore.builder("my-bucket")
 *         .region(Region.EU_WEST_1)
 *         .keyPrefix("dr4j/prod")
 *         .storageClass("snapshots/archive", StorageClass.GLACIER_IR)
 *         .build();
 * }</pre>
 *
 * <h2>Transfers</h2>
 * Objects up to {@link Builder#multipartThreshold} are written with one {@code PutObject};
 * larger ones with a multipart upload whose parts ({@link Builder#partSize}) are sent by up to
 * {@link Builder#concurrency} threads at once. The calling thread reads the source into part
 * buffers while workers upload earlier parts, so a put holds at most {@code concurrency} part
 * buffers ({@code partSize × concurrency} bytes). If anything fails, or the caller is
 * interrupted, the store waits for the parts in flight and aborts the upload: no object appears
 * and no parts are left to pay for. Only when the abort itself cannot reach the server (the
 * server is down) does the upload stay open; the exception then names its upload id, and
 * {@link #abortIncompleteUploads(Instant)} (or a bucket lifecycle rule) removes it later.
 *
 * <p>Reads start with one ranged GET of the first part. If more is wanted, later parts are
 * fetched by parallel ranged GETs, each pinned with {@code If-Match} to the ETag of the first
 * response (so a concurrently replaced object fails the read instead of mixing versions) while
 * the caller streams the first. Memory per read is bounded by {@code partSize × concurrency}.
 *
 * <p>dr4j's own hash covers what the server's checks do not: every object written in one
 * PutObject, and every multipart upload from a file or byte array, carries the CRC-32C of the
 * whole object in its user metadata ({@value #CRC_METADATA}; a file is hashed in one extra
 * sequential pass before its upload starts, as S3 takes metadata only when an upload is created).
 * A read of a whole object checks that CRC when the last byte arrives and fails with a
 * {@link PermanentBlobStoreException} naming both values instead of ending normally; ranged reads
 * and objects uploaded from a stream in parts (whose CRC is not known in time) are checked for
 * length only.
 *
 * <p><b>Why the synchronous client and a thread pool</b> rather than {@code S3AsyncClient}: the
 * SPI is blocking and stream-based, reading a caller's {@code InputStream} must block anyway,
 * and a bounded pool of part workers makes the memory bound, the abort-after-in-flight-parts
 * rule and interruption simple and exact. The pool has {@code concurrency} threads, is owned by
 * the store and shut down by {@link #close()}.
 *
 * <h2>Clients, retries and checksums</h2>
 * Pass the application's own {@link S3Client} with {@link Builder#client} (the store never
 * closes it; its retry, checksum and connection settings are the application's, and its
 * connection pool should allow {@code concurrency} connections per concurrent transfer), or let the store build one
 * from {@link Builder#region}, {@link Builder#endpoint}, {@link Builder#pathStyle} and
 * {@link Builder#credentials}; that client is closed by {@link #close()}. A built client uses
 * the SDK's <em>standard</em> retry strategy with {@link Builder#sdkMaxAttempts} attempts (3 by
 * default): each request (each part, not the whole upload) is retried on throttling, 5xx and
 * I/O errors with jittered exponential backoff. This store adds no retries of its own; a
 * failure that outlasts the SDK's few attempts (a server restarting) surfaces as a
 * {@link TransientBlobStoreException}, and wrapping the store in
 * {@link io.dr4j.storage.RetryingBlobStore} retries whole operations on top, knowingly: at most
 * {@code sdkMaxAttempts × retryingAttempts} requests per part.
 *
 * <p>{@link Builder#s3Compatible(boolean) S3-compatible mode} sets the SDK's request checksum
 * calculation and response checksum validation to {@code WHEN_REQUIRED}: SDK 2.30 and later
 * otherwise send CRC32 "flexible checksums" with aws-chunked bodies, which many S3-compatible
 * servers reject (S3Proxy answers "x-amz-content-sha256 does not match"). The mode also turns
 * off the SDK's aws-chunked streaming signatures, whose per-chunk signatures several servers
 * parse without checking (S3Proxy among them). Uploads stay verified by the server:
 * <ul>
 * <li>over plain {@code http://} the SDK then signs each request's whole body: it sends the
 *     SHA-256 of the body in {@code x-amz-content-sha256}, covered by the signature, and a
 *     SigV4 server refuses a body that does not match it ({@code XAmzContentSHA256Mismatch},
 *     reported as transient: sending again may succeed). A {@code Content-MD5} would hash every
 *     byte a second time on both sides for no added protection, so it is off by default;</li>
 * <li>over {@code https://} the body is sent unsigned (TLS protects the transport), and the store
 *     sends a {@code Content-MD5} of every object and part ({@link Builder#contentMd5}), which
 *     the server checks ({@code BadDigest}).</li>
 * </ul>
 * Against AWS (default mode) the SDK's CRC32 checksums verify uploads. Downloads are checked
 * against dr4j's own CRC-32C (see Reads), and the backup layer above authenticates every chunk
 * it reads.
 *
 * <h2>Conditional puts, storage classes, Object Lock</h2>
 * {@link #putIfAbsent} sends {@code If-None-Match: *}, which AWS S3 enforces atomically; servers
 * that ignore it (S3Proxy, older MinIO) must be configured with
 * {@link Builder#conditionalPuts conditionalPuts(false)}, and then {@code putIfAbsent} is a
 * check followed by a put and {@link Capability#CONDITIONAL_PUT} is not declared.
 * {@link Builder#storageClass} chooses a storage class per key prefix. {@link Builder#objectLock}
 * writes objects under a prefix with an Object Lock retention (mode and retain-until = now +
 * retention). Before the first locked write the store checks that the bucket has Object Lock
 * enabled and refuses to write (a {@link PermanentBlobStoreException}) if it has not, or if the
 * server cannot say: a backup meant to be immutable is never silently written unlocked.
 *
 * <h2>Errors</h2>
 * 404 is {@link NoSuchFileException}; 412/409 of a conditional put is
 * {@link java.nio.file.FileAlreadyExistsException}; throttling, 5xx, timeouts and I/O failures
 * are {@link TransientBlobStoreException}; access denied, a missing bucket and other client
 * errors are {@link PermanentBlobStoreException}. Messages name the bucket (in the store name),
 * the operation and the key, never a credential.
 *
 * <p>Thread-safe. Listing skips S3 objects under the prefix whose names are not valid
 * {@link BlobKey}s (e.g. "folder" markers ending in {@code /}), since no key can name them.
 */
public final class S3BlobStore implements BlobStore {

    /** Smallest part S3 accepts (except the last): 5 MiB. */
    public static final long MIN_PART_SIZE = 5L << 20;
    /** Largest part S3 accepts: 5 GiB; parts are buffered in memory, so the store caps them at 1 GiB. */
    public static final long MAX_PART_SIZE = 1L << 30;
    /** Most parts one multipart upload may have. */
    public static final int MAX_PARTS = 10_000;
    /** Default part size: 16 MiB. */
    public static final long DEFAULT_PART_SIZE = 16L << 20;
    /** Default number of parts transferred at once per operation: 8. */
    public static final int DEFAULT_CONCURRENCY = 8;
    /** Default attempts per request of a client the store builds (the SDK standard strategy's): 3. */
    public static final int DEFAULT_SDK_MAX_ATTEMPTS = 3;

    /**
     * User-metadata entry ({@code x-amz-meta-dr4jcrc32c}) with the CRC-32C (8 hex digits) of the
     * whole object as dr4j wrote it; the same name as the Azure store's.
     */
    public static final String CRC_METADATA = "dr4jcrc32c";

    private static final String OCTET_STREAM = "application/octet-stream";

    private final S3Client client;
    private final boolean ownsClient;
    private final String bucket;
    private final String prefix;
    private final String name;
    private final long partSize;
    private final long multipartThreshold;
    private final int concurrency;
    private final boolean conditionalPuts;
    private final boolean contentMd5;
    private final int listPageSize;
    private final PrefixRules<StorageClass> storageClasses;
    private final PrefixRules<LockRule> locks;
    private final Clock clock;
    private final ExecutorService workers;
    private final Set<Capability> capabilities;
    private volatile boolean bucketLockVerified;

    /** An Object Lock rule: objects are retained in {@code mode} until the write time plus {@code retention}. */
    record LockRule(ObjectLockMode mode, Duration retention) {
    }

    private S3BlobStore(Builder b) {
        this.bucket = b.bucket;
        this.prefix = b.keyPrefix.isEmpty() ? "" : b.keyPrefix + "/";
        this.name = "s3://" + bucket + (b.keyPrefix.isEmpty() ? "" : "/" + b.keyPrefix);
        this.partSize = b.partSize;
        this.multipartThreshold = b.multipartThreshold < 0 ? b.partSize : b.multipartThreshold;
        this.concurrency = b.concurrency;
        this.conditionalPuts = b.conditionalPuts;
        this.listPageSize = b.listPageSize;
        this.contentMd5 = b.contentMd5 != null ? b.contentMd5 : b.s3Compatible && !bodiesAreSigned(b);
        this.storageClasses = PrefixRules.of(b.storageClasses);
        this.locks = PrefixRules.of(b.locks);
        this.clock = b.clock;
        EnumSet<Capability> caps = EnumSet.noneOf(Capability.class);
        if (conditionalPuts) {
            caps.add(Capability.CONDITIONAL_PUT);
        }
        if (!storageClasses.isEmpty()) {
            caps.add(Capability.STORAGE_TIERS);
        }
        if (!locks.isEmpty()) {
            caps.add(Capability.OBJECT_LOCK);
        }
        this.capabilities = Collections.unmodifiableSet(caps);
        if (b.client != null) {
            this.client = b.client;
            this.ownsClient = false;
        } else {
            this.client = buildClient(b);
            this.ownsClient = true;
        }
        AtomicInteger threads = new AtomicInteger();
        ThreadFactory factory = r -> {
            Thread t = new Thread(r, "dr4j-s3-" + bucket + "-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        this.workers = Executors.newFixedThreadPool(concurrency, factory);
    }

    /**
     * Whether the client the store builds signs every request body in full (SHA-256 in
     * {@code x-amz-content-sha256}): in S3-compatible mode (no aws-chunked encoding) over plain
     * HTTP, where the SDK always signs payloads.
     */
    private static boolean bodiesAreSigned(Builder b) {
        return b.client == null && b.s3Compatible && b.endpoint != null && "http".equalsIgnoreCase(b.endpoint.getScheme());
    }

    private static S3Client buildClient(Builder b) {
        S3ClientBuilder builder = S3Client.builder()
                .httpClientBuilder(ApacheHttpClient.builder().maxConnections(Math.max(50, 4 * b.concurrency)))
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder()
                        .maxAttempts(b.sdkMaxAttempts).build()))
                .forcePathStyle(b.pathStyle);
        if (b.region != null) {
            builder.region(b.region);
        } else if (b.endpoint != null) {
            builder.region(Region.US_EAST_1); // S3-compatible servers ignore the region but the signer needs one
        }
        if (b.endpoint != null) {
            builder.endpointOverride(b.endpoint);
        }
        if (b.credentials != null) {
            builder.credentialsProvider(b.credentials);
        }
        if (b.s3Compatible) {
            builder.requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                    .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                    .serviceConfiguration(S3Configuration.builder().chunkedEncodingEnabled(false).build());
        }
        if (b.clientCustomizer != null) {
            b.clientCustomizer.accept(builder);
        }
        return builder.build();
    }

    /** Returns a builder of a store on {@code bucket}. */
    public static Builder builder(String bucket) {
        return new Builder(bucket);
    }

    /**
     * Builds an {@link S3BlobStore}. Every option may be set at most once; setting one twice is
     * an {@link IllegalStateException}, as is mixing {@link #client} with the options that
     * configure a client the store builds. Not thread-safe.
     */
    public static final class Builder {
        private final String bucket;
        private final Set<String> set = new java.util.HashSet<>();
        private S3Client client;
        private Region region;
        private URI endpoint;
        private boolean pathStyle;
        private AwsCredentialsProvider credentials;
        private boolean s3Compatible;
        private int sdkMaxAttempts = DEFAULT_SDK_MAX_ATTEMPTS;
        private String keyPrefix = "";
        private long partSize = DEFAULT_PART_SIZE;
        private long multipartThreshold = -1;
        private int concurrency = DEFAULT_CONCURRENCY;
        private boolean conditionalPuts = true;
        private Boolean contentMd5;
        private int listPageSize = 1000;
        private final Map<String, StorageClass> storageClasses = new LinkedHashMap<>();
        private final Map<String, LockRule> locks = new LinkedHashMap<>();
        private Clock clock = Clock.systemUTC();
        private Consumer<S3ClientBuilder> clientCustomizer;

        private Builder(String bucket) {
            Objects.requireNonNull(bucket, "bucket");
            if (!bucket.matches("[a-zA-Z0-9][a-zA-Z0-9._-]{1,254}")) {
                throw new IllegalArgumentException("Invalid S3 bucket name '" + bucket + "'");
            }
            this.bucket = bucket;
        }

        private void once(String option) {
            if (!set.add(option)) {
                throw new IllegalStateException(option + " was already set");
            }
        }

        /**
         * Uses the application's client, which the store never closes. Excludes region, endpoint,
         * pathStyle, credentials, s3Compatible, sdkMaxAttempts and customizeClient.
         */
        public Builder client(S3Client client) {
            once("client");
            this.client = Objects.requireNonNull(client, "client");
            return this;
        }

        /** Region of a client the store builds; default: the SDK's region chain, or us-east-1 with an {@link #endpoint}. */
        public Builder region(Region region) {
            once("region");
            this.region = Objects.requireNonNull(region, "region");
            return this;
        }

        /** Endpoint of an S3-compatible server, e.g. {@code http://127.0.0.1:9000}; default: AWS's. */
        public Builder endpoint(URI endpoint) {
            once("endpoint");
            Objects.requireNonNull(endpoint, "endpoint");
            if (endpoint.getScheme() == null || endpoint.getHost() == null) {
                throw new IllegalArgumentException("endpoint needs a scheme and a host, was " + endpoint);
            }
            this.endpoint = endpoint;
            return this;
        }

        /** Path-style addressing ({@code host/bucket/key}), which most S3-compatible servers need; default false. */
        public Builder pathStyle(boolean pathStyle) {
            once("pathStyle");
            this.pathStyle = pathStyle;
            return this;
        }

        /** Credentials of a client the store builds; default: the SDK's default chain. */
        public Builder credentials(AwsCredentialsProvider credentials) {
            once("credentials");
            this.credentials = Objects.requireNonNull(credentials, "credentials");
            return this;
        }

        /**
         * S3-compatible mode (default false): the built client computes and validates checksums
         * only when an operation requires them ({@code WHEN_REQUIRED}) and sends plain (not
         * aws-chunked) bodies, and {@link #contentMd5} defaults to true over HTTPS (over HTTP the
         * signed SHA-256 of every body verifies uploads; see the class documentation). Needed for
         * servers that reject the SDK's default flexible checksums.
         */
        public Builder s3Compatible(boolean s3Compatible) {
            once("s3Compatible");
            this.s3Compatible = s3Compatible;
            return this;
        }

        /**
         * Adjusts a client the store builds, after the store's own settings: an HTTP proxy,
         * timeouts, metric publishers, interceptors. The store still owns and closes that client.
         */
        public Builder customizeClient(Consumer<S3ClientBuilder> customizer) {
            once("customizeClient");
            this.clientCustomizer = Objects.requireNonNull(customizer, "customizer");
            return this;
        }

        /** Attempts per request (SDK standard retry strategy) of a client the store builds; default 3; 1 disables SDK retries. */
        public Builder sdkMaxAttempts(int sdkMaxAttempts) {
            once("sdkMaxAttempts");
            if (sdkMaxAttempts < 1) {
                throw new IllegalArgumentException("sdkMaxAttempts must be at least 1, was " + sdkMaxAttempts);
            }
            this.sdkMaxAttempts = sdkMaxAttempts;
            return this;
        }

        /** A prefix inside the bucket under which all keys live (a valid {@link BlobKey}); default none. */
        public Builder keyPrefix(String keyPrefix) {
            once("keyPrefix");
            this.keyPrefix = BlobKey.checkPrefix(keyPrefix);
            return this;
        }

        /**
         * Size of multipart parts and of parallel download ranges, 5 MiB to 1 GiB; default 16 MiB.
         * Raised automatically for an object that would need more than {@value #MAX_PARTS} parts.
         */
        public Builder partSize(long partSize) {
            once("partSize");
            if (partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE) {
                throw new IllegalArgumentException("partSize must be between " + MIN_PART_SIZE + " and " + MAX_PART_SIZE
                        + " bytes, was " + partSize);
            }
            this.partSize = partSize;
            return this;
        }

        /** Objects larger than this are uploaded in parts; at least 0, at most 1 GiB; default: the part size. */
        public Builder multipartThreshold(long multipartThreshold) {
            once("multipartThreshold");
            if (multipartThreshold < 0 || multipartThreshold > MAX_PART_SIZE) {
                throw new IllegalArgumentException("multipartThreshold must be between 0 and " + MAX_PART_SIZE
                        + " bytes, was " + multipartThreshold);
            }
            this.multipartThreshold = multipartThreshold;
            return this;
        }

        /** Parts uploaded or ranges downloaded at once per operation, and worker threads of the store; 1 to 256, default 8. */
        public Builder concurrency(int concurrency) {
            once("concurrency");
            if (concurrency < 1 || concurrency > 256) {
                throw new IllegalArgumentException("concurrency must be between 1 and 256, was " + concurrency);
            }
            this.concurrency = concurrency;
            return this;
        }

        /**
         * Whether the server enforces {@code If-None-Match: *} on puts (default true, as AWS S3
         * does since 2024). Set false for servers that ignore it, such as S3Proxy: then
         * {@code putIfAbsent} is a check followed by a put and {@link Capability#CONDITIONAL_PUT}
         * is not declared.
         */
        public Builder conditionalPuts(boolean conditionalPuts) {
            once("conditionalPuts");
            this.conditionalPuts = conditionalPuts;
            return this;
        }

        /**
         * Whether to send {@code Content-MD5} with every object and part. Default: true in
         * {@link #s3Compatible} mode over HTTPS; false over HTTP in that mode (the signed body
         * hash covers uploads), false with AWS's flexible checksums and with an application's
         * {@link #client} (whose checksum settings are the application's).
         */
        public Builder contentMd5(boolean contentMd5) {
            once("contentMd5");
            this.contentMd5 = contentMd5;
            return this;
        }

        /**
         * Writes objects under {@code keyPrefix} ({@code ""} for all) in {@code storageClass};
         * the longest matching prefix wins; default: the bucket's default class.
         */
        public Builder storageClass(String keyPrefix, StorageClass storageClass) {
            Objects.requireNonNull(storageClass, "storageClass");
            if (storageClass == StorageClass.UNKNOWN_TO_SDK_VERSION) {
                throw new IllegalArgumentException("unknown storage class");
            }
            if (storageClasses.putIfAbsent(BlobKey.checkPrefix(keyPrefix), storageClass) != null) {
                throw new IllegalStateException("storage class for prefix '" + keyPrefix + "' was already set");
            }
            return this;
        }

        /**
         * Writes objects under {@code keyPrefix} ({@code ""} for all) with Object Lock: in
         * {@code mode} and retained until the time of the write plus {@code retention} (positive).
         * The bucket must have Object Lock enabled, or locked writes fail.
         */
        public Builder objectLock(String keyPrefix, ObjectLockMode mode, Duration retention) {
            Objects.requireNonNull(mode, "mode");
            Objects.requireNonNull(retention, "retention");
            if (mode == ObjectLockMode.UNKNOWN_TO_SDK_VERSION) {
                throw new IllegalArgumentException("unknown Object Lock mode");
            }
            if (retention.isNegative() || retention.isZero()) {
                throw new IllegalArgumentException("Object Lock retention must be positive, was " + retention);
            }
            if (locks.putIfAbsent(BlobKey.checkPrefix(keyPrefix), new LockRule(mode, retention)) != null) {
                throw new IllegalStateException("Object Lock for prefix '" + keyPrefix + "' was already set");
            }
            return this;
        }

        /** Keys per listing request ({@code max-keys}), 1 to 1000; default 1000, S3's maximum. */
        public Builder listPageSize(int listPageSize) {
            once("listPageSize");
            if (listPageSize < 1 || listPageSize > 1000) {
                throw new IllegalArgumentException("listPageSize must be between 1 and 1000, was " + listPageSize);
            }
            this.listPageSize = listPageSize;
            return this;
        }

        /** Clock for Object Lock retain-until times; default the system UTC clock. */
        public Builder clock(Clock clock) {
            once("clock");
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** Builds the store. */
        public S3BlobStore build() {
            if (client != null) {
                for (String option : List.of("region", "endpoint", "pathStyle", "credentials", "s3Compatible", "sdkMaxAttempts",
                        "customizeClient")) {
                    if (set.contains(option)) {
                        throw new IllegalStateException(option + " configures the client the store builds; it cannot be"
                                + " combined with client(...): configure your own client instead");
                    }
                }
            }
            if (multipartThreshold > partSize * MAX_PARTS) {
                throw new IllegalStateException("multipartThreshold " + multipartThreshold + " exceeds what parts can hold");
            }
            return new S3BlobStore(this);
        }
    }

    /** The bucket. */
    public String bucket() {
        return bucket;
    }

    /** The key prefix inside the bucket, empty for none. */
    public String keyPrefix() {
        return prefix.isEmpty() ? "" : prefix.substring(0, prefix.length() - 1);
    }

    /** Whether puts carry a {@code Content-MD5} (see {@link Builder#contentMd5}). */
    boolean sendsContentMd5() {
        return contentMd5;
    }

    /** The client in use (the application's or the store's own). */
    public S3Client client() {
        return client;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Set<Capability> capabilities() {
        return capabilities;
    }

    // ------------------------------------------------------------------------------------ puts

    @Override
    public void put(BlobKey key, Path source) throws IOException {
        Objects.requireNonNull(key, "key");
        long size;
        try {
            size = Files.size(source);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(source.toString(), null, "source file for " + key + " does not exist");
        }
        try (FileChannel channel = FileChannel.open(source, StandardOpenOption.READ)) {
            // a multipart upload declares its metadata before the first part: hash the file first
            String crc = size > multipartThreshold ? crcOf(channel, size, key, source) : null;
            InputStream in = java.nio.channels.Channels.newInputStream(channel.position(0));
            write(key, in, size, false, crc);
        }
    }

    private String crcOf(FileChannel channel, long size, BlobKey key, Path source) throws IOException {
        CRC32C crc = new CRC32C();
        ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
        long done = 0;
        while (done < size) {
            buffer.clear().limit((int) Math.min(buffer.capacity(), size - done));
            int n = channel.read(buffer, done);
            if (n < 0) {
                throw new EOFException(name + ": " + key + ": " + source + " shrank to " + done
                        + " bytes during the put; nothing was stored");
            }
            buffer.flip();
            crc.update(buffer);
            done += n;
        }
        return crcHex(crc);
    }

    static String crcHex(CRC32C crc) {
        return String.format("%08x", crc.getValue());
    }

    private static String crcOf(byte[] data, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(data, offset, length);
        return crcHex(crc);
    }

    @Override
    public void put(BlobKey key, byte[] data) throws IOException {
        Objects.requireNonNull(key, "key");
        if (data.length <= multipartThreshold) {
            putSingle(key, data, data.length, false);
        } else {
            write(key, new ByteArrayInputStream(data), data.length, false, crcOf(data, 0, data.length));
        }
    }

    @Override
    public void put(BlobKey key, InputStream data, long length) throws IOException {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(data, "data");
        if (length < 0) {
            throw new IllegalArgumentException("negative length " + length + " for " + key);
        }
        write(key, data, length, false, null);
    }

    @Override
    public void putIfAbsent(BlobKey key, byte[] data) throws IOException {
        Objects.requireNonNull(key, "key");
        if (!conditionalPuts) {
            // The server ignores If-None-Match (declared by the builder): best effort, as documented.
            if (find(key).isPresent()) {
                throw new java.nio.file.FileAlreadyExistsException(key.value(), null, name + ": object already exists");
            }
            put(key, data);
            return;
        }
        if (data.length <= multipartThreshold) {
            putSingle(key, data, data.length, true);
        } else {
            write(key, new ByteArrayInputStream(data), data.length, true, crcOf(data, 0, data.length));
        }
    }

    /** {@code crc}: the whole object's CRC-32C for a multipart upload's metadata, or null if unknown (a stream). */
    private void write(BlobKey key, InputStream data, long length, boolean conditional, String crc) throws IOException {
        if (length <= multipartThreshold) {
            byte[] buffer = new byte[(int) length];
            readFully(data, buffer, (int) length, key);
            putSingle(key, buffer, (int) length, conditional);
        } else {
            putMultipart(key, data, length, conditional, crc);
        }
    }

    private static void readFully(InputStream in, byte[] buffer, int length, BlobKey key) throws IOException {
        int n = in.readNBytes(buffer, 0, length);
        if (n < length) {
            throw new EOFException("source of " + key + " ended after " + n + " of " + length + " bytes; nothing was stored");
        }
    }

    private void putSingle(BlobKey key, byte[] data, int length, boolean conditional) throws IOException {
        PutObjectRequest.Builder request = PutObjectRequest.builder()
                .bucket(bucket).key(objectKey(key)).contentLength((long) length).contentType(OCTET_STREAM)
                .metadata(Map.of(CRC_METADATA, crcOf(data, 0, length)));
        storageClasses.forKey(key).ifPresent(request::storageClass);
        Optional<LockRule> lock = lockFor(key);
        lock.ifPresent(rule -> request.objectLockMode(rule.mode()).objectLockRetainUntilDate(retainUntil(rule)));
        if (contentMd5 || lock.isPresent()) {
            request.contentMD5(md5(data, 0, length));
        }
        if (conditional) {
            request.ifNoneMatch("*");
        }
        try {
            client.putObject(request.build(), body(data, length));
        } catch (SdkException e) {
            throw S3Failures.translate(name, "PutObject", key, e, conditional);
        }
    }

    private static RequestBody body(byte[] data, int length) {
        // fromContentProvider does not copy the array (fromBytes does), and hands the SDK a fresh
        // stream for each of its retries.
        return RequestBody.fromContentProvider(() -> new ByteArrayInputStream(data, 0, length), length, OCTET_STREAM);
    }

    private void putMultipart(BlobKey key, InputStream data, long length, boolean conditional, String crc) throws IOException {
        long size = partSizeFor(length);
        int parts = (int) ((length + size - 1) / size);
        String objectKey = objectKey(key);
        Optional<LockRule> lock = lockFor(key);
        CreateMultipartUploadRequest.Builder create = CreateMultipartUploadRequest.builder()
                .bucket(bucket).key(objectKey).contentType(OCTET_STREAM);
        if (crc != null) {
            create.metadata(Map.of(CRC_METADATA, crc));
        }
        storageClasses.forKey(key).ifPresent(create::storageClass);
        lock.ifPresent(rule -> create.objectLockMode(rule.mode()).objectLockRetainUntilDate(retainUntil(rule)));
        String uploadId;
        try {
            uploadId = client.createMultipartUpload(create.build()).uploadId();
        } catch (SdkException e) {
            throw S3Failures.translate(name, "CreateMultipartUpload", key, e, false);
        }
        boolean md5 = contentMd5 || lock.isPresent();
        Semaphore permits = new Semaphore(concurrency);
        ConcurrentLinkedQueue<byte[]> buffers = new ConcurrentLinkedQueue<>();
        AtomicBoolean failed = new AtomicBoolean();
        List<Future<CompletedPart>> futures = new ArrayList<>(parts);
        try {
            for (int part = 1; part <= parts; part++) {
                permits.acquire();
                boolean submitted = false;
                try {
                    failFast(futures);
                    long offset = (part - 1) * size;
                    int n = (int) Math.min(size, length - offset);
                    byte[] buffer = buffers.poll();
                    if (buffer == null || buffer.length < n) {
                        buffer = new byte[(int) Math.min(size, length)];
                    }
                    readFully(data, buffer, n, key);
                    byte[] partBuffer = buffer;
                    int partNumber = part;
                    futures.add(workers.submit(() -> {
                        try {
                            return uploadPart(key, objectKey, uploadId, partNumber, parts, partBuffer, n, md5, failed);
                        } finally {
                            buffers.offer(partBuffer);
                            permits.release();
                        }
                    }));
                    submitted = true;
                } finally {
                    if (!submitted) {
                        permits.release();
                    }
                }
            }
            List<CompletedPart> completed = new ArrayList<>(parts);
            for (Future<CompletedPart> f : futures) {
                completed.add(f.get());
            }
            try {
                client.completeMultipartUpload(b -> {
                    b.bucket(bucket).key(objectKey).uploadId(uploadId).multipartUpload(m -> m.parts(completed));
                    if (conditional) {
                        b.ifNoneMatch("*");
                    }
                });
            } catch (SdkException e) {
                throw S3Failures.translate(name, "CompleteMultipartUpload", key, e, conditional);
            }
        } catch (Throwable failure) {
            failed.set(true);
            awaitAll(futures);
            IOException reported = asIOException(failure, key);
            abort(key, objectKey, uploadId, reported);
            throw reported;
        }
    }

    private CompletedPart uploadPart(BlobKey key, String objectKey, String uploadId, int partNumber, int parts,
            byte[] buffer, int length, boolean md5, AtomicBoolean failed) throws IOException {
        if (failed.get()) {
            throw new IOException("upload of " + key + " already failed; part " + partNumber + " not sent");
        }
        UploadPartRequest.Builder request = UploadPartRequest.builder()
                .bucket(bucket).key(objectKey).uploadId(uploadId).partNumber(partNumber).contentLength((long) length);
        if (md5) {
            request.contentMD5(md5(buffer, 0, length));
        }
        try {
            String etag = client.uploadPart(request.build(), body(buffer, length)).eTag();
            return CompletedPart.builder().partNumber(partNumber).eTag(etag).build();
        } catch (SdkException e) {
            throw S3Failures.translate(name, "UploadPart " + partNumber + " of " + parts, key, e, false);
        }
    }

    /** Rethrows the failure of an already finished part, so a dead upload stops reading its source. */
    private static void failFast(List<Future<CompletedPart>> futures) throws ExecutionException, InterruptedException {
        for (int i = futures.size() - 1; i >= 0 && i >= futures.size() - 64; i--) {
            Future<CompletedPart> f = futures.get(i);
            if (f.isDone()) {
                f.get();
            }
        }
    }

    /** Waits for every submitted part, even if interrupted, so that none lands after the abort. */
    private static void awaitAll(List<? extends Future<?>> futures) {
        boolean interrupted = Thread.interrupted();
        for (Future<?> f : futures) {
            while (true) {
                try {
                    f.get();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException | java.util.concurrent.CancellationException e) {
                    break;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private IOException asIOException(Throwable failure, BlobKey key) {
        Throwable cause = failure instanceof ExecutionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof IOException io) {
            return io;
        }
        if (cause instanceof InterruptedException) {
            Thread.currentThread().interrupt();
            InterruptedIOException interrupted = new InterruptedIOException(name + ": " + key + ": upload interrupted; aborted");
            interrupted.initCause(cause);
            return interrupted;
        }
        if (cause instanceof SdkException sdk) {
            return S3Failures.translate(name, "multipart upload", key, sdk, false);
        }
        if (cause instanceof Error error) {
            throw error;
        }
        return new PermanentBlobStoreException(name, key, "multipart upload failed: " + cause, cause);
    }

    private void abort(BlobKey key, String objectKey, String uploadId, IOException reported) {
        try {
            client.abortMultipartUpload(b -> b.bucket(bucket).key(objectKey).uploadId(uploadId));
        } catch (SdkException e) {
            reported.addSuppressed(S3Failures.translate(name,
                    "AbortMultipartUpload of upload " + uploadId + " (left open; abortIncompleteUploads removes it)",
                    key, e, false));
        }
    }

    private long partSizeFor(long length) {
        long minimum = (length + MAX_PARTS - 1) / MAX_PARTS;
        if (minimum <= partSize) {
            return partSize;
        }
        long mib = 1L << 20;
        long size = (minimum + mib - 1) / mib * mib;
        if (size > MAX_PART_SIZE) {
            throw new IllegalArgumentException("object of " + length + " bytes is too large for " + MAX_PARTS
                    + " parts of at most " + MAX_PART_SIZE + " bytes");
        }
        return size;
    }

    private Optional<LockRule> lockFor(BlobKey key) throws IOException {
        Optional<LockRule> rule = locks.forKey(key);
        if (rule.isPresent() && !bucketLockVerified) {
            verifyBucketCanLock(key);
        }
        return rule;
    }

    private void verifyBucketCanLock(BlobKey key) throws IOException {
        String refusal = "Object Lock is configured for " + key + " but bucket '" + bucket
                + "' cannot lock objects, so nothing was written (an unlocked backup would look immutable but not be)";
        GetObjectLockConfigurationResponse config;
        try {
            config = client.getObjectLockConfiguration(b -> b.bucket(bucket));
        } catch (AwsServiceException e) {
            if (S3Failures.isTransientStatus(e.statusCode())) {
                throw S3Failures.translate(name, "GetObjectLockConfiguration", key, e, false);
            }
            String code = e.awsErrorDetails() == null ? "" : e.awsErrorDetails().errorCode();
            throw new PermanentBlobStoreException(name, key,
                    refusal + ": GetObjectLockConfiguration answered HTTP " + e.statusCode() + " " + code, e);
        } catch (SdkException e) {
            throw S3Failures.translate(name, "GetObjectLockConfiguration", key, e, false);
        }
        if (config.objectLockConfiguration() == null
                || config.objectLockConfiguration().objectLockEnabled() != ObjectLockEnabled.ENABLED) {
            throw new PermanentBlobStoreException(name, key, refusal + ": Object Lock is not enabled on the bucket", null);
        }
        bucketLockVerified = true;
    }

    private Instant retainUntil(LockRule rule) {
        return clock.instant().plus(rule.retention());
    }

    private static String md5(byte[] data, int offset, int length) {
        try {
            MessageDigest digest = MessageDigest.getInstance("MD5");
            digest.update(data, offset, length);
            return Base64.getEncoder().encodeToString(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is required of every Java platform", e);
        }
    }

    // ------------------------------------------------------------------------------------ reads

    @Override
    public InputStream get(BlobKey key) throws IOException {
        Objects.requireNonNull(key, "key");
        return open(key, 0, Long.MAX_VALUE);
    }

    @Override
    public InputStream get(BlobKey key, long offset, long length) throws IOException {
        Objects.requireNonNull(key, "key");
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("negative offset or length (" + offset + ", " + length + ") for " + key);
        }
        return open(key, offset, length);
    }

    private InputStream open(BlobKey key, long offset, long length) throws IOException {
        if (length == 0) {
            return emptyAt(key, offset);
        }
        long firstLength = Math.min(length, partSize);
        GetObjectRequest first = GetObjectRequest.builder().bucket(bucket).key(objectKey(key))
                .range("bytes=" + offset + "-" + (offset + firstLength - 1)).build();
        ResponseInputStream<GetObjectResponse> response;
        try {
            response = client.getObject(first);
        } catch (AwsServiceException e) {
            if (e.statusCode() == 416) {
                return emptyAt(key, offset); // at or past the end (or an empty object): decide by size
            }
            throw S3Failures.translate(name, "GetObject", key, e, false);
        } catch (SdkException e) {
            throw S3Failures.translate(name, "GetObject", key, e, false);
        }
        GetObjectResponse head = response.response();
        long total;
        long received = head.contentLength();
        if (head.contentRange() != null) {
            total = parseTotal(head.contentRange(), key);
        } else if (offset == 0) {
            total = received; // server ignored Range and sent the whole object
        } else {
            response.abort();
            throw new PermanentBlobStoreException(name, key, "GetObject ignored the Range header", null);
        }
        long end = length > total - offset ? total : offset + length;
        long headEnd = Math.min(end, offset + received);
        String what = name + ": " + key;
        InputStream body = new ResponseBodyStream(response, headEnd - offset, what);
        InputStream whole;
        if (headEnd >= end) {
            whole = body;
        } else {
            String etag = head.eTag();
            whole = new ParallelRangeInputStream(body, headEnd, end, (int) partSize, concurrency,
                    (from, n) -> fetchRange(key, etag, from, n), workers);
        }
        String crc = head.metadata() == null ? null : head.metadata().get(CRC_METADATA);
        if (offset == 0 && end == total && crc != null) {
            return new CrcCheckingInputStream(whole, name, key, crc, total);
        }
        return whole;
    }

    private byte[] fetchRange(BlobKey key, String etag, long offset, int length) throws IOException {
        GetObjectRequest.Builder request = GetObjectRequest.builder().bucket(bucket).key(objectKey(key))
                .range("bytes=" + offset + "-" + (offset + length - 1));
        if (etag != null) {
            request.ifMatch(etag);
        }
        try (ResponseInputStream<GetObjectResponse> response = client.getObject(request.build())) {
            if (etag != null && response.response().eTag() != null && !etag.equals(response.response().eTag())) {
                response.abort();
                throw changed(key);
            }
            byte[] bytes = new byte[length];
            int n = response.readNBytes(bytes, 0, length);
            if (n < length) {
                throw new EOFException(name + ": " + key + ": ranged read at " + offset + " got " + n + " of " + length + " bytes");
            }
            return bytes;
        } catch (AwsServiceException e) {
            if (e.statusCode() == 412) {
                throw changed(key);
            }
            throw S3Failures.translate(name, "GetObject (range at " + offset + ")", key, e, false);
        } catch (SdkException e) {
            throw S3Failures.translate(name, "GetObject (range at " + offset + ")", key, e, false);
        }
    }

    private TransientBlobStoreException changed(BlobKey key) {
        return new TransientBlobStoreException(name, key, "object was replaced while it was being read; read it again", null);
    }

    private InputStream emptyAt(BlobKey key, long offset) throws IOException {
        long size = stat(key).size();
        if (offset > size) {
            throw new EOFException(name + ": " + key + ": offset " + offset + " is beyond the end of the object (" + size + " bytes)");
        }
        return InputStream.nullInputStream();
    }

    private long parseTotal(String contentRange, BlobKey key) throws IOException {
        int slash = contentRange.lastIndexOf('/');
        try {
            return Long.parseLong(contentRange.substring(slash + 1).trim());
        } catch (NumberFormatException | IndexOutOfBoundsException e) {
            throw new PermanentBlobStoreException(name, key, "unparseable Content-Range '" + contentRange + "'", e);
        }
    }

    @Override
    public BlobInfo stat(BlobKey key) throws IOException {
        Objects.requireNonNull(key, "key");
        try {
            HeadObjectResponse head = client.headObject(b -> b.bucket(bucket).key(objectKey(key)));
            return new BlobInfo(key, head.contentLength(), head.lastModified());
        } catch (SdkException e) {
            throw S3Failures.translate(name, "HeadObject", key, e, false);
        }
    }

    @Override
    public Stream<BlobInfo> list(String listPrefix) throws IOException {
        BlobKey.checkPrefix(listPrefix);
        String s3Prefix = prefix + (listPrefix.isEmpty() ? "" : listPrefix + "/");
        Iterator<ListObjectsV2Response> pages;
        Iterator<S3Object> firstPage;
        try {
            pages = client.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(s3Prefix).maxKeys(listPageSize)).iterator();
            // fetch the first page now, so that a bad bucket or bad credentials fail here, retryably
            firstPage = pages.next().contents().iterator();
        } catch (SdkException e) {
            throw S3Failures.translate(name, "ListObjectsV2 '" + s3Prefix + "'", null, e, false);
        }
        Iterator<BlobInfo> infos = new Iterator<>() {
            private Iterator<S3Object> page = firstPage;
            private BlobInfo next;

            @Override
            public boolean hasNext() {
                try {
                    while (next == null) {
                        if (page.hasNext()) {
                            S3Object object = page.next();
                            String k = object.key().substring(prefix.length());
                            if (object.key().startsWith(prefix) && BlobKey.isValid(k)) {
                                next = new BlobInfo(BlobKey.of(k), object.size(), object.lastModified());
                            }
                        } else if (pages.hasNext()) {
                            page = pages.next().contents().iterator();
                        } else {
                            return false;
                        }
                    }
                    return true;
                } catch (SdkException e) {
                    throw new UncheckedIOException(S3Failures.translate(name, "ListObjectsV2 '" + s3Prefix + "'", null, e, false));
                }
            }

            @Override
            public BlobInfo next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                BlobInfo result = next;
                next = null;
                return result;
            }
        };
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(infos, Spliterator.ORDERED | Spliterator.NONNULL), false);
    }

    @Override
    public void delete(BlobKey key) throws IOException {
        Objects.requireNonNull(key, "key");
        try {
            client.deleteObject(b -> b.bucket(bucket).key(objectKey(key)));
        } catch (AwsServiceException e) {
            if (e.statusCode() == 404 && (e.awsErrorDetails() == null
                    || !"NoSuchBucket".equals(e.awsErrorDetails().errorCode()))) {
                return;
            }
            throw S3Failures.translate(name, "DeleteObject", key, e, false);
        } catch (SdkException e) {
            throw S3Failures.translate(name, "DeleteObject", key, e, false);
        }
    }

    /**
     * Aborts the multipart uploads under this store's prefix that were started before
     * {@code startedBefore} (uploads whose own abort failed because the server was unreachable)
     * and returns how many it aborted. Uploads started later may belong to puts in progress and
     * are left alone.
     */
    public int abortIncompleteUploads(Instant startedBefore) throws IOException {
        Objects.requireNonNull(startedBefore, "startedBefore");
        int aborted = 0;
        try {
            for (MultipartUpload upload : client.listMultipartUploadsPaginator(b -> b.bucket(bucket).prefix(prefix)).uploads()) {
                if (upload.initiated() == null || upload.initiated().isBefore(startedBefore)) {
                    client.abortMultipartUpload(b -> b.bucket(bucket).key(upload.key()).uploadId(upload.uploadId()));
                    aborted++;
                }
            }
        } catch (SdkException e) {
            throw S3Failures.translate(name, "ListMultipartUploads/AbortMultipartUpload", null, e, false);
        }
        return aborted;
    }

    private String objectKey(BlobKey key) {
        return prefix + key.value();
    }

    /** Stops the part workers and closes the client if the store built it (never the application's). */
    @Override
    public void close() throws IOException {
        workers.shutdownNow();
        try {
            workers.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (ownsClient) {
            client.close();
        }
    }

    @Override
    public String toString() {
        return "S3BlobStore[" + name + ", partSize=" + partSize + ", concurrency=" + concurrency
                + ", conditionalPuts=" + conditionalPuts + "]";
    }
}
