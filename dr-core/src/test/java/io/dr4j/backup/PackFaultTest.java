package io.dr4j.backup;

import io.dr4j.storage.BlobStore;
import io.dr4j.storage.LocalBlobStore;
import java.io.IOException;

/** {@link PackFaultContract} on a {@link LocalBlobStore}, the embedded default. */
class PackFaultTest extends PackFaultContract {

    @Override
    protected BlobStore openStore(String name) throws IOException {
        return LocalBlobStore.open(tmp.resolve("stores").resolve(name));
    }
}
