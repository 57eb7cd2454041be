package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.InMemoryBlobStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The pack size is 4 MiB to 128 MiB: {@link InitOptions} refuses others, and so does opening a config that holds one. */
class PackSizeRangeTest {

    @ParameterizedTest
    @ValueSource(ints = {InitOptions.MIN_PACK_SIZE - 1, InitOptions.MAX_PACK_SIZE + 1, 3 << 20, 129 << 20, 0, -1,
        Integer.MIN_VALUE, Integer.MAX_VALUE})
    void initOptionsRefuseAPackSizeOutsideTheRange(int bytes) {
        assertThatThrownBy(() -> InitOptions.defaults().withPackSize(bytes))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("packSize must be 4194304 to 134217728 bytes, was " + bytes);
    }

    @ParameterizedTest
    @ValueSource(ints = {InitOptions.MIN_PACK_SIZE, InitOptions.DEFAULT_PACK_SIZE, InitOptions.MAX_PACK_SIZE, 5_000_000})
    void initOptionsTakeAnySizeInTheRangeAndTheRepositoryStoresIt(int bytes) throws Exception {
        InMemoryBlobStore store = InMemoryBlobStore.create("mem");
        Repository.init(store, KeyProvider.rawKey(TestRepos.RAW_KEY), TestRepos.init().withPackSize(bytes), TestRepos.options())
                .close();

        assertThat(RepositoryConfig.fromJson(store.getBytes(BlobKey.of("config")), "config", ReaderLimits.defaults()).packSize())
                .isEqualTo(bytes);
        TestRepos.open(store).close();
    }

    @Test
    void theDefaultIs16MiB() {
        assertThat(InitOptions.defaults().packSize()).isEqualTo(16 << 20);
    }

    @ParameterizedTest
    @ValueSource(ints = {3 << 20, 129 << 20, 0})
    void openingAConfigWithAPackSizeOutsideTheRangeIsRefusedBeforeAnyKeyIsTried(int bytes) throws Exception {
        InMemoryBlobStore store = InMemoryBlobStore.create("mem");
        TestRepos.create(store).close();
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = (ObjectNode) json.readTree(store.getBytes(BlobKey.of("config")));
        ((ObjectNode) config.get("pack")).put("targetSize", bytes);
        store.put(BlobKey.of("config"), json.writeValueAsBytes(config));

        // without the range check the key slots would fail to unwrap (the size is bound into them): a wrong-key error
        assertThatThrownBy(() -> TestRepos.open(store))
                .isInstanceOf(UnsupportedFormatException.class)
                .hasMessageContaining("pack targetSize " + bytes + " is missing or outside 4194304 to 134217728");
    }
}
