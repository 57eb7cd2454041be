package io.dr4j.azure;

import static org.assertj.core.api.Assertions.assertThat;

import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.BlobServiceClientBuilder;
import com.azure.storage.blob.models.BlobItem;
import io.dr4j.backup.KeyProvider;
import io.dr4j.backup.Repository;
import io.dr4j.backup.RepositoryOptions;
import io.dr4j.backup.RepositoryRoundTripContract;
import io.dr4j.backup.Snapshot;
import io.dr4j.storage.BlobStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backup engine's round trip (backup, incremental, restore, verify, tampering, wrong key,
 * forget and prune, two concurrent writers) on Azurite, each namespace a container of its own
 * and the repository under a prefix; plus where the objects land in the container.
 */
class AzureRepositoryTest extends RepositoryRoundTripContract {

    private static final AtomicInteger CONTAINERS = new AtomicInteger();

    @TempDir
    static Path azuriteDir;

    static Azurite azurite;

    private final Map<String, String> containers = new HashMap<>();

    @BeforeAll
    static void startAzurite() throws IOException {
        azurite = Azurite.start(azuriteDir.resolve("azurite"));
    }

    @AfterAll
    static void stopAzurite() throws IOException {
        if (azurite != null) {
            azurite.close();
        }
    }

    private static BlobContainerClient container(String name) {
        return new BlobServiceClientBuilder().connectionString(azurite.connectionString()).buildClient()
                .getBlobContainerClient(name);
    }

    @Override
    protected BlobStore openStore(String name) {
        String container;
        synchronized (containers) {
            container = containers.computeIfAbsent(name, n -> {
                String c = "repo-rt-" + CONTAINERS.incrementAndGet();
                container(c).create();
                return c;
            });
        }
        return AzureBlobStore.builder().connectionString(azurite.connectionString(), container).prefix("dr4j").build();
    }

    @Test
    void repositoryObjectsLiveUnderThePrefixAsPlainBlobs() throws IOException {
        Path ckpt = Files.createDirectories(tmp.resolve("ckpt"));
        Files.write(ckpt.resolve("weights.bin"), new byte[300_000]);
        Snapshot s;
        try (BlobStore store = openStore("layout");
             Repository repo = Repository.init(store, KeyProvider.rawKey(new byte[32]),
                     io.dr4j.backup.InitOptions.defaults(), RepositoryOptions.builder().noCache().build())) {
            s = repo.backup(ckpt);
        }
        String name;
        synchronized (containers) {
            name = containers.get("layout");
        }
        assertThat(container(name).listBlobs().stream().map(BlobItem::getName))
                .allMatch(n -> n.startsWith("dr4j/"))
                .contains("dr4j/config", "dr4j/snapshots/" + s.id().value())
                .anyMatch(n -> n.startsWith("dr4j/packs/"));
    }
}
