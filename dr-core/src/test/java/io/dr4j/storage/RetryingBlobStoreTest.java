package io.dr4j.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.storage.FaultInjectingBlobStore.FailureKind;
import io.dr4j.storage.FaultInjectingBlobStore.Operation;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RetryingBlobStoreTest extends BlobStoreContract {

    private FaultInjectingBlobStore faulty;

    @Override
    protected BlobStore newStore() throws IOException {
        faulty = new FaultInjectingBlobStore(LocalBlobStore.builder(tempDir.resolve("store")).sync(false).build());
        return RetryingBlobStore.builder(faulty).maxAttempts(4)
                .backoff(Duration.ofMillis(1), Duration.ofMillis(5)).build();
    }

    @Test
    void transientFailuresAreRetried() throws IOException {
        faulty.failNextCalls(3, FailureKind.TRANSIENT, Operation.PUT);
        store.put(key("k"), new byte[] {1});
        assertThat(faulty.calls(Operation.PUT)).isEqualTo(4);
        assertThat(store.getBytes(key("k"))).containsExactly(1);
    }

    @Test
    void givesUpAfterMaxAttemptsWithTheLastError() {
        faulty.failNextCalls(10, FailureKind.TRANSIENT, Operation.GET);
        assertThatThrownBy(() -> store.getBytes(key("k"))).isInstanceOf(TransientBlobStoreException.class);
        assertThat(faulty.calls(Operation.GET)).isEqualTo(4);
    }

    @Test
    void permanentFailuresAreNotRetried() {
        faulty.failNextCalls(1, FailureKind.PERMANENT, Operation.STAT);
        assertThatThrownBy(() -> store.stat(key("k"))).isInstanceOf(PermanentBlobStoreException.class);
        assertThat(faulty.calls(Operation.STAT)).isEqualTo(1);
    }

    @Test
    void notFoundIsNotRetried() {
        assertThatThrownBy(() -> store.get(key("missing"))).isInstanceOf(NoSuchFileException.class);
        assertThat(faulty.calls(Operation.GET)).isEqualTo(1);
    }

    @Test
    void invalidConfigurationIsRejected() {
        assertThatThrownBy(() -> RetryingBlobStore.builder(faulty).maxAttempts(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxAttempts");
        assertThatThrownBy(() -> RetryingBlobStore.builder(faulty).backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("backoff");
    }
}
