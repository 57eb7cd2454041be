package io.dr4j.aws;

import io.dr4j.backup.RepositoryRoundTripContract;
import io.dr4j.storage.BlobStore;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The backup engine's round trip (backup, incremental, restore, verify, tampering, wrong key,
 * forget and prune, two concurrent writers) on S3Proxy, each namespace a bucket of its own and
 * the repository under a key prefix.
 */
class S3RepositoryTest extends RepositoryRoundTripContract {

    @RegisterExtension
    static final S3ProxyServer server = new S3ProxyServer();

    private final Map<String, String> buckets = new HashMap<>();

    @Override
    protected BlobStore openStore(String name) {
        String bucket;
        synchronized (buckets) {
            bucket = buckets.computeIfAbsent(name, n -> server.newBucket());
        }
        return server.storeBuilder(bucket).keyPrefix("dr4j/prod").build();
    }
}
