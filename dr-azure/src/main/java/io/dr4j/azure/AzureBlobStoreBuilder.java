package io.dr4j.azure;

import com.azure.core.credential.AzureSasCredential;
import com.azure.core.credential.TokenCredential;
import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.BlobContainerClientBuilder;
import com.azure.storage.blob.BlobServiceClient;
import com.azure.storage.common.StorageSharedKeyCredential;
import com.azure.storage.common.policy.RequestRetryOptions;
import com.azure.storage.common.policy.RetryPolicyType;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.PermanentBlobStoreException;
import io.dr4j.storage.transfer.BuilderChecks;
import io.dr4j.storage.transfer.KeyPrefixRules;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Builds an {@link AzureBlobStore}. Give exactly one of {@link #containerClient},
 * {@link #serviceClient}, {@link #connectionString}, or {@link #endpoint} with a credential;
 * every other option has a default and may be set once. The Azure SDK types taken here (clients
 * and credentials) are the documented escape hatch to the application's own SDK setup; tiers and
 * immutability are dr4j's own types. Not thread-safe.
 */
public final class AzureBlobStoreBuilder {

    private static final List<String> SOURCES = List.of("containerClient", "serviceClient", "connectionString", "endpoint");

    private BlobContainerClient containerClient;
    private BlobServiceClient serviceClient;
    private String containerName;
    private String connectionString;
    private String endpoint;
    private Object credential;
    private String prefix = "";
    private long blockSize = AzureBlobStore.DEFAULT_BLOCK_SIZE;
    private long singlePutThreshold = -1;
    private long rangeSize = AzureBlobStore.DEFAULT_RANGE_SIZE;
    private int concurrency = AzureBlobStore.DEFAULT_CONCURRENCY;
    private boolean verifyChecksums = true;
    private boolean contentMd5 = true;
    private int sdkMaxTries = 1;
    private int listPageSize = AzureBlobStore.DEFAULT_LIST_PAGE_SIZE;
    private Duration requestTimeout = AzureBlobStore.DEFAULT_REQUEST_TIMEOUT;
    private Clock clock = Clock.systemUTC();
    private final KeyPrefixRules.Builder<AzureAccessTier> tiers = KeyPrefixRules.builder("an access tier");
    private final KeyPrefixRules.Builder<Immutability> immutability = KeyPrefixRules.builder("immutability");
    private final BuilderChecks checks = new BuilderChecks();

    AzureBlobStoreBuilder() {
    }

    private void source(String what) {
        if (checks.anySet(SOURCES)) {
            throw new IllegalStateException("the container was already given; " + what
                    + " cannot be combined with another way to reach it");
        }
        checks.once(what);
    }

    /** The application's container client; the store uses its pipeline (and retry policy) as is and never closes it. */
    public AzureBlobStoreBuilder containerClient(BlobContainerClient client) {
        source("containerClient");
        this.containerClient = Objects.requireNonNull(client, "client");
        return this;
    }

    /** The application's service client and the container to use in it; never closed by the store. */
    public AzureBlobStoreBuilder serviceClient(BlobServiceClient client, String container) {
        source("serviceClient");
        this.serviceClient = Objects.requireNonNull(client, "client");
        this.containerName = checkContainer(container);
        return this;
    }

    /**
     * A storage connection string (it holds the account key or a SAS: the store keeps it only
     * until {@link #build()} and never prints it) and the container to use.
     */
    public AzureBlobStoreBuilder connectionString(String connectionString, String container) {
        source("connectionString");
        this.connectionString = Objects.requireNonNull(connectionString, "connectionString");
        this.containerName = checkContainer(container);
        return this;
    }

    /** The account endpoint (e.g. {@code https://acct.blob.core.windows.net}) with a shared key. */
    public AzureBlobStoreBuilder endpoint(String accountEndpoint, String container, StorageSharedKeyCredential credential) {
        return endpoint(accountEndpoint, container, (Object) Objects.requireNonNull(credential, "credential"));
    }

    /**
     * The account endpoint with an Entra ID token credential, such as azure-identity's
     * {@code DefaultAzureCredential} (add {@code com.azure:azure-identity} to use it). Tokens need HTTPS.
     */
    public AzureBlobStoreBuilder endpoint(String accountEndpoint, String container, TokenCredential credential) {
        return endpoint(accountEndpoint, container, (Object) Objects.requireNonNull(credential, "credential"));
    }

    /** The account endpoint with a SAS token credential. */
    public AzureBlobStoreBuilder endpoint(String accountEndpoint, String container, AzureSasCredential credential) {
        return endpoint(accountEndpoint, container, (Object) Objects.requireNonNull(credential, "credential"));
    }

    private AzureBlobStoreBuilder endpoint(String accountEndpoint, String container, Object credential) {
        source("endpoint");
        Objects.requireNonNull(accountEndpoint, "accountEndpoint");
        java.net.URI uri;
        try {
            uri = java.net.URI.create(accountEndpoint);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid Azure account endpoint (not a URI)");
        }
        if (uri.getScheme() == null || !(uri.getScheme().equals("https") || uri.getScheme().equals("http"))
                || uri.getHost() == null) {
            throw new IllegalArgumentException("Azure account endpoint must be an http(s) URL with a host, was "
                    + uri.getScheme() + "://" + uri.getHost());
        }
        if (uri.getRawQuery() != null) {
            throw new IllegalArgumentException("Azure account endpoint must not carry a query (pass a SAS as an "
                    + "AzureSasCredential), for " + uri.getScheme() + "://" + uri.getHost() + uri.getPath());
        }
        this.endpoint = accountEndpoint;
        this.containerName = checkContainer(container);
        this.credential = credential;
        return this;
    }

    /** A key prefix inside the container (default none): {@code backups/prod} stores key {@code k} as blob {@code backups/prod/k}. */
    public AzureBlobStoreBuilder prefix(String prefix) {
        checks.once("prefix");
        this.prefix = BlobKey.checkPrefix(prefix);
        return this;
    }

    /**
     * Size of one staged block (default 64 MiB, between 64 KiB and 4000 MiB). A put from a
     * stream or byte array holds up to {@code concurrency × blockSize} bytes (256 MiB by
     * default); lower it where memory is tight.
     */
    public AzureBlobStoreBuilder blockSize(long bytes) {
        checks.once("blockSize");
        this.blockSize = BuilderChecks.between("blockSize", bytes, AzureBlobStore.MIN_TRANSFER_SIZE,
                AzureBlobStore.MAX_BLOCK_SIZE, "bytes");
        return this;
    }

    /**
     * Objects up to this size are written with one Put Blob (default: the block size, at most
     * 256 MiB); larger ones are staged in parallel blocks. A put from a stream holds such an
     * object in memory, hence the cap; a put from a file streams it from the file. The SDK's
     * {@code uploadFromFile} uses 256 MiB; a single request cannot be parallelised or resumed,
     * but costs the service less than blocks plus a commit (markedly so on Azurite).
     */
    public AzureBlobStoreBuilder singlePutThreshold(long bytes) {
        checks.once("singlePutThreshold");
        this.singlePutThreshold = BuilderChecks.between("singlePutThreshold", bytes, 0, AzureBlobStore.MAX_BUFFERED, "bytes");
        return this;
    }

    /** Size of one ranged download request (default 8 MiB, between 64 KiB and 256 MiB). */
    public AzureBlobStoreBuilder rangeSize(long bytes) {
        checks.once("rangeSize");
        this.rangeSize = BuilderChecks.between("rangeSize", bytes, AzureBlobStore.MIN_TRANSFER_SIZE,
                AzureBlobStore.MAX_BUFFERED, "bytes");
        return this;
    }

    /**
     * Blocks staged or ranges fetched in parallel per transfer, and the size of the store's
     * transfer thread pool (default 4, between 1 and 64).
     */
    public AzureBlobStoreBuilder concurrency(int concurrency) {
        checks.once("concurrency");
        this.concurrency = BuilderChecks.between("concurrency", concurrency, 1, 64);
        return this;
    }

    /**
     * Whether to check checksums on reads (default true): the whole object's CRC-32C against
     * {@value io.dr4j.storage.transfer.Crc32c#METADATA}, and each range's service MD5 on partial reads.
     * Uploads always send a Content-MD5.
     */
    public AzureBlobStoreBuilder verifyChecksums(boolean verify) {
        checks.once("verifyChecksums");
        this.verifyChecksums = verify;
        return this;
    }

    /**
     * Whether every upload request (Put Blob, Put Block) carries a {@code Content-MD5} that the
     * service checks before accepting the bytes (default true). Turning it off saves the MD5
     * computation (CPU-bound, roughly 0.5 to 1 GB/s per core); the whole-object CRC-32C is still
     * stored and checked on reads.
     */
    public AzureBlobStoreBuilder contentMd5(boolean send) {
        checks.once("contentMd5");
        this.contentMd5 = send;
        return this;
    }

    /**
     * Tries per HTTP request that the SDK makes when the store builds the client (default 1: no
     * SDK retries, because {@link io.dr4j.storage.RetryingBlobStore} is where dr4j retries). Also bounds the
     * SDK's resumption of interrupted downloads. Between 1 and 10.
     */
    public AzureBlobStoreBuilder sdkMaxTries(int tries) {
        checks.once("sdkMaxTries");
        this.sdkMaxTries = BuilderChecks.between("sdkMaxTries", tries, 1, 10);
        return this;
    }

    /** Blobs per listing page, fetched as the listing is consumed (default 1,000, between 1 and 5,000). */
    public AzureBlobStoreBuilder listPageSize(int size) {
        checks.once("listPageSize");
        this.listPageSize = BuilderChecks.between("listPageSize", size, 1, 5_000);
        return this;
    }

    /** Timeout of one HTTP request when the store builds the client (default 60 s, whole seconds, at least 1 s). */
    public AzureBlobStoreBuilder requestTimeout(Duration timeout) {
        checks.once("requestTimeout");
        if (timeout.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("requestTimeout must be at least 1 s, was " + timeout);
        }
        this.requestTimeout = timeout;
        return this;
    }

    /**
     * Writes new objects under {@code keyPrefix} ({@code ""} for all) to {@code tier}; the
     * longest matching prefix wins. Default: the account's default tier.
     */
    public AzureBlobStoreBuilder accessTier(String keyPrefix, AzureAccessTier tier) {
        tiers.add(keyPrefix, Objects.requireNonNull(tier, "tier"));
        return this;
    }

    /**
     * Makes new objects under {@code keyPrefix} immutable as {@code policy} says; the longest
     * matching prefix wins. Needs version-level immutability on the container, otherwise those
     * puts fail with a permanent error naming the container. Default: none.
     */
    public AzureBlobStoreBuilder immutable(String keyPrefix, Immutability policy) {
        immutability.add(keyPrefix, Objects.requireNonNull(policy, "policy"));
        return this;
    }

    /** The clock that dates immutability policies (default the system UTC clock). */
    public AzureBlobStoreBuilder clock(Clock clock) {
        checks.once("clock");
        this.clock = Objects.requireNonNull(clock, "clock");
        return this;
    }

    /**
     * Builds the store. No request is made: a missing container or a bad credential shows in
     * the first operation, as a {@link PermanentBlobStoreException}.
     *
     * @throws IllegalStateException if no way to reach the container was given
     * @throws IllegalArgumentException if the connection string is invalid (its text is not quoted)
     */
    public AzureBlobStore build() {
        AzureOptions options = new AzureOptions(prefix, blockSize,
                singlePutThreshold < 0 ? Math.min(blockSize, AzureBlobStore.MAX_BUFFERED) : singlePutThreshold, rangeSize,
                concurrency, verifyChecksums, contentMd5, sdkMaxTries, listPageSize, tiers.build(), immutability.build(), clock);
        if (containerClient != null) {
            return new AzureBlobStore(options, containerClient, null);
        }
        if (serviceClient != null) {
            return new AzureBlobStore(options, serviceClient.getBlobContainerClient(containerName), null);
        }
        if (connectionString == null && endpoint == null) {
            throw new IllegalStateException("AzureBlobStore needs a container: give containerClient, serviceClient, "
                    + "connectionString or endpoint");
        }
        AzureHttp http = new AzureHttp(concurrency);
        try {
            BlobContainerClientBuilder b = new BlobContainerClientBuilder()
                    .containerName(containerName)
                    .httpClient(http.client)
                    .retryOptions(new RequestRetryOptions(RetryPolicyType.EXPONENTIAL, sdkMaxTries,
                            requestTimeout, Duration.ofMillis(200), Duration.ofSeconds(5), null));
            if (connectionString != null) {
                try {
                    b.connectionString(connectionString);
                } catch (RuntimeException e) {
                    // The SDK's message may quote the string, which holds the account key.
                    throw new IllegalArgumentException("invalid Azure Storage connection string (its text is not "
                            + "shown, since it holds a secret): it needs AccountName and AccountKey, or "
                            + "BlobEndpoint and SharedAccessSignature");
                }
            } else {
                b.endpoint(endpoint);
                if (credential instanceof StorageSharedKeyCredential shared) {
                    b.credential(shared);
                } else if (credential instanceof TokenCredential token) {
                    b.credential(token);
                } else {
                    b.credential((AzureSasCredential) credential);
                }
            }
            AzureBlobStore store = new AzureBlobStore(options, b.buildClient(), http);
            connectionString = null;
            credential = null;
            return store;
        } catch (RuntimeException e) {
            http.close();
            throw e;
        }
    }

    private static String checkContainer(String container) {
        Objects.requireNonNull(container, "container");
        if (!container.matches("[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}|\\$root")) {
            throw new IllegalArgumentException("invalid Azure container name '" + container
                    + "': 3-63 lowercase letters, digits and single hyphens, starting with a letter or digit");
        }
        return container;
    }
}
