package io.dr4j.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The reference store passes the whole contract, including the OBJECT_LOCK and STORAGE_TIERS
 * tests, which it runs on the "written and enforced" side (the cloud tests, against emulators
 * that cannot lock, run the "refused" side).
 */
class InMemoryBlobStoreTest extends BlobStoreContract {

    private final io.dr4j.testing.MutableClock clock = new io.dr4j.testing.MutableClock(java.time.Instant.now()); // the contract checks that stat times are recent

    @Override
    protected BlobStore newStore() {
        return InMemoryBlobStore.builder("contract").clock(clock)
                .objectLock(LOCKED_PREFIX, Duration.ofDays(30))
                .tier(TIERED_PREFIX, "cold")
                .build();
    }

    @Override
    protected Optional<String> tierOf(BlobKey key) throws IOException {
        return ((InMemoryBlobStore) store).tierOf(key);
    }

    @Test
    void aLockExpiresWithItsRetention() throws IOException {
        store.put(key("locked/a"), new byte[] {1});
        assertThatThrownBy(() -> store.delete(key("locked/a"))).isInstanceOf(PermanentBlobStoreException.class)
                .hasMessageContaining("locked until");
        clock.advance(Duration.ofDays(30));
        store.delete(key("locked/a"));
        assertThat(store.find(key("locked/a"))).isEmpty();
    }
}
