package io.dr4j.azure;

import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.BlobServiceClientBuilder;
import io.dr4j.aws.S3BlobStore;
import io.dr4j.replication.ReplicatedBlobStore;
import io.dr4j.storage.BlobStore;
import io.dr4j.storage.BlobStoreContract;
import io.dr4j.storage.LocalBlobStore;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * The {@link BlobStoreContract} on a {@link ReplicatedBlobStore} whose members are the three
 * kinds of site dr4j supports: local disk, S3 (S3Proxy) and Azure Blob (Azurite), each a real
 * server on loopback. W = 2 of 3.
 */
class ReplicatedCloudContractTest extends BlobStoreContract {

    private static final String ACCESS = "dr4j-access";
    private static final String SECRET = "dr4j-secret-0123456789";
    private static final AtomicInteger NAMES = new AtomicInteger();

    @TempDir
    static Path servers;

    static Azurite azurite;
    static S3Proxy s3proxy;
    static BlobStoreContext jclouds;

    @BeforeAll
    static void startServers() throws Exception {
        azurite = Azurite.start(servers.resolve("azurite"));
        jclouds = ContextBuilder.newBuilder("transient-nio2").credentials("identity", "credential")
                .build(BlobStoreContext.class);
        s3proxy = S3Proxy.builder().blobStore(jclouds.getBlobStore()).endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS, SECRET).build();
        s3proxy.start();
    }

    @AfterAll
    static void stopServers() throws Exception {
        if (s3proxy != null) {
            s3proxy.stop();
        }
        if (jclouds != null) {
            jclouds.close();
        }
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
        String bucket = "replica-" + n;
        jclouds.getBlobStore().createContainerInLocation(null, bucket);
        BlobContainerClient container = new BlobServiceClientBuilder().connectionString(azurite.connectionString())
                .buildClient().getBlobContainerClient("replica-" + n);
        container.create();
        S3BlobStore s3 = S3BlobStore.builder(bucket)
                .endpoint(URI.create("http://127.0.0.1:" + s3proxy.getPort()))
                .pathStyle(true)
                .s3Compatible(true)
                .conditionalPuts(false)
                .listPageSize(100)
                .credentials(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS, SECRET)))
                .build();
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
