package io.dr4j.azure;

import com.azure.storage.blob.BlobServiceClientBuilder;
import io.dr4j.backup.PackFaultContract;
import io.dr4j.storage.BlobStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PackFaultContract} on Azurite: damaged, missing, swapped and hostile packs and index
 * files written through block blob uploads and deletes, each namespace a container of its own,
 * the repository under a prefix.
 */
class AzurePackFaultTest extends PackFaultContract {

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

    @Override
    protected BlobStore openStore(String name) {
        String container = containers.computeIfAbsent(name, n -> {
            String c = "pack-faults-" + CONTAINERS.incrementAndGet();
            new BlobServiceClientBuilder().connectionString(azurite.connectionString()).buildClient().getBlobContainerClient(c).create();
            return c;
        });
        return AzureBlobStore.builder().connectionString(azurite.connectionString(), container).prefix("dr4j").build();
    }
}
