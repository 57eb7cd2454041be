package io.dr4j.backup;

import io.dr4j.storage.BlobStore;
import io.dr4j.storage.LocalBlobStore;
import java.io.IOException;

/**
 * The repository round trip on a {@link LocalBlobStore}, the embedded default. The engine's
 * detailed behaviour (targets, locks, cancellation, caches) is tested in {@link RepositoryTest}.
 */
class LocalRepositoryTest extends RepositoryRoundTripContract {

    @Override
    protected BlobStore openStore(String name) throws IOException {
        return LocalBlobStore.builder(tmp.resolve("stores").resolve(name)).build();
    }
}
