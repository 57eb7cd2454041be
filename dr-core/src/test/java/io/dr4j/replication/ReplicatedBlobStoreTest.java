package io.dr4j.replication;

import io.dr4j.storage.BlobStore;
import io.dr4j.storage.BlobStoreContract;
import io.dr4j.storage.LocalBlobStore;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The storage contract holds for a replicated store of three local stores at W=2. (The same
 * contract over local + S3Proxy + Azurite members waits for those backends.)
 */
class ReplicatedBlobStoreTest extends BlobStoreContract {

    @Override
    protected BlobStore newStore() throws IOException {
        return ReplicatedBlobStore.builder()
                .member("a", local(tempDir.resolve("a")))
                .member("b", local(tempDir.resolve("b")))
                .member("c", local(tempDir.resolve("c")))
                .repairLog(local(tempDir.resolve("log")))
                .tempDirectory(tempDir)
                .build();
    }

    private static LocalBlobStore local(Path dir) throws IOException {
        return LocalBlobStore.builder(dir).sync(false).build();
    }
}
