package io.dr4j.aws;

import io.dr4j.backup.PackFaultContract;
import io.dr4j.storage.BlobStore;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link PackFaultContract} on S3Proxy: damaged, missing, swapped and hostile packs and index
 * files written through S3 PUTs and DELETEs, each namespace a bucket of its own, the repository
 * under a key prefix.
 */
class S3PackFaultTest extends PackFaultContract {

    @RegisterExtension
    static final S3ProxyServer server = new S3ProxyServer();

    private final Map<String, String> buckets = new HashMap<>();

    @Override
    protected BlobStore openStore(String name) {
        String bucket = buckets.computeIfAbsent(name, n -> server.newBucket());
        return server.storeBuilder(bucket).keyPrefix("dr4j/prod").build();
    }
}
