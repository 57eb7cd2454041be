package io.dr4j.azure;

import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.BlobServiceClientBuilder;
import io.dr4j.aws.S3BlobStore;
import io.dr4j.aws.S3ProxyServer;
import io.dr4j.replication.ReplicatedBlobStore;
import io.dr4j.storage.BlobStore;
import io.dr4j.storage.BlobStoreContract;
import io.dr4j.storage.LocalBlobStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@link BlobStoreContract} on a {@link ReplicatedBlobStore} whose members are the three
 * kinds of site dr4j supports: local disk, S3 (S3Proxy) and Azure Blob (Azurite), each a real
 * server on loopback. W = 2 of 3.
 */
class ReplicatedCloudContractTest extends BlobStoreContract {

    @RegisterExtension
    static final S3ProxyServer s3server = new S3ProxyServer();
    private static final AtomicInteger NAMES = new AtomicInteger();

    @TempDir
    static Path servers;

    static Azurite azurite;

    @BeforeAll
    static void startServers() throws Exception {
        azurite = Azurite.start(servers.resolve("azurite"));
    }

    @AfterAll
    static void stopServers() throws Exception {
        if (azurite != null) {
            azurite.close();
        }
    }

    /** Azurite and S3Proxy take milliseconds per put: page at 100 and list 250 keys. */
    @Override
    protected int paginationKeyCount() {
        return 250;
    }

    @Override
    protected int largeObjectSize() {
        return 6 * 1024 * 1024 + 17;
    }

    @Override
    protected BlobStore newStore() throws IOException {
        int n = NAMES.incrementAndGet();
        String bucket = s3server.newBucket();
        BlobContainerClient container = new BlobServiceClientBuilder().connectionString(azurite.connectionString())
                .buildClient().getBlobContainerClient("replica-" + n);
        container.create();
        S3BlobStore s3 = s3server.storeBuilder(bucket).listPageSize(100).build();
        AzureBlobStore azure = AzureBlobStore.builder().connectionString(azurite.connectionString(), container.getBlobContainerName())
                .listPageSize(100).build();
        return ReplicatedBlobStore.builder()
                .member("local", LocalBlobStore.builder(tempDir.resolve("local-" + n)).sync(false).build(), 0)
                .member("s3", s3, 1)
                .member("azure", azure, 2)
                .writeQuorum(2)
                .repairLog(LocalBlobStore.builder(tempDir.resolve("log-" + n)).sync(false).build())
                .tempDirectory(tempDir)
                .build();
    }
}
