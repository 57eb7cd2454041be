package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;

import io.dr4j.storage.BlobStore;
import io.dr4j.storage.FaultInjectingBlobStore;
import io.dr4j.storage.FaultInjectingBlobStore.FailureKind;
import io.dr4j.storage.FaultInjectingBlobStore.Operation;
import io.dr4j.storage.LocalBlobStore;
import java.io.IOException;

/**
 * {@link PackFaultContract} through a {@link FaultInjectingBlobStore} over a local store, with
 * the first read of every restore and verify failing transiently: damage must be reported the
 * same through the engine's retries, and a retried read must not let a wrong byte through.
 */
class FaultInjectingPackFaultTest extends PackFaultContract {

    @Override
    protected BlobStore openStore(String name) throws IOException {
        return new FaultInjectingBlobStore(LocalBlobStore.open(tmp.resolve("stores").resolve(name)));
    }

    @Override
    protected Runnable armTransientFaults(BlobStore store) {
        FaultInjectingBlobStore faulty = (FaultInjectingBlobStore) store;
        long before = faulty.calls(Operation.GET);
        faulty.failNextCalls(1, FailureKind.TRANSIENT, Operation.GET);
        return () -> {
            faulty.clearFaults();
            // the failed call and at least one after it: the read went through a retry
            assertThat(faulty.calls(Operation.GET)).isGreaterThanOrEqualTo(before + 2);
        };
    }
}
