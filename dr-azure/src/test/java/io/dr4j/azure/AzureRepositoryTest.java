package io.dr4j.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.BlobServiceClientBuilder;
import com.azure.storage.blob.models.BlobItem;
import io.dr4j.backup.BackupOptions;
import io.dr4j.backup.ChunkerParameters;
import io.dr4j.backup.CorruptObjectException;
import io.dr4j.backup.InitOptions;
import io.dr4j.backup.KeyProvider;
import io.dr4j.backup.Repository;
import io.dr4j.backup.RepositoryOptions;
import io.dr4j.backup.RestoreOptions;
import io.dr4j.backup.Snapshot;
import io.dr4j.backup.VerifyLevel;
import io.dr4j.backup.VerifyReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The backup engine's full cycle (backup, incremental, restore, verify, corruption) on Azurite. */
class AzureRepositoryTest {

    @TempDir
    static Path azuriteDir;

    @TempDir
    Path tmp;

    static Azurite azurite;

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

    private static byte[] random(long seed, int size) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void backupRestoreVerifyCycle() throws IOException {
        BlobContainerClient container = new BlobServiceClientBuilder().connectionString(azurite.connectionString())
                .buildClient().getBlobContainerClient("repo-cycle");
        container.create();
        Path source = Files.createDirectories(tmp.resolve("ckpt/shards"));
        Files.write(source.resolve("model-00001.safetensors"), random(1, 3 << 20));
        Files.write(source.resolve("model-00002.safetensors"), random(2, 1 << 20));
        Files.writeString(tmp.resolve("ckpt/config.json"), "{\"step\": 1}");
        InitOptions init = InitOptions.defaults().withChunker(new ChunkerParameters(16 << 10, 64 << 10, 256 << 10));
        RepositoryOptions options = RepositoryOptions.builder().noCache().host("azure-test").build();
        KeyProvider key = KeyProvider.rawKey(new byte[32]);
        try (AzureBlobStore store = AzureBlobStore.builder()
                .connectionString(azurite.connectionString(), container.getBlobContainerName()).prefix("dr4j").build();
             Repository repo = Repository.init(store, key, init, options)) {
            Snapshot first = repo.backup(tmp.resolve("ckpt"), BackupOptions.builder().label("step", "1").build());
            byte[] shard = Files.readAllBytes(source.resolve("model-00001.safetensors"));
            System.arraycopy(random(3, 100_000), 0, shard, 777_777, 100_000);
            Files.write(source.resolve("model-00001.safetensors"), shard);
            Snapshot second = repo.backup(tmp.resolve("ckpt"));
            assertThat(second.parent()).contains(first.id());
            assertThat(second.stats().newBytesStored()).isLessThan(1 << 20);

            Path target = tmp.resolve("restored");
            repo.restore(second.id(), target, RestoreOptions.defaults());
            assertThat(target.resolve("shards/model-00001.safetensors")).hasBinaryContent(shard);
            assertThat(target.resolve("config.json")).hasContent("{\"step\": 1}");
            assertThat(repo.verify(second.id(), VerifyLevel.DATA).ok()).isTrue();

            // damage one stored pack behind dr4j's back, inside a chunk: verify names the pack, restore refuses it
            BlobItem chunk = container.listBlobs().stream().filter(b -> b.getName().startsWith("dr4j/packs/"))
                    .max(java.util.Comparator.comparingLong(b -> b.getProperties().getContentLength())).orElseThrow();
            byte[] body = container.getBlobClient(chunk.getName()).downloadContent().toBytes();
            body[body.length / 2] ^= 4;
            container.getBlobClient(chunk.getName()).upload(com.azure.core.util.BinaryData.fromBytes(body), true);
            VerifyReport report = repo.verify(first.id(), VerifyLevel.DATA);
            assertThat(report.ok()).isFalse();
            assertThat(report.problems()).singleElement()
                    .satisfies(p -> assertThat(chunk.getName()).endsWith(p.object()));
            assertThatThrownBy(() -> repo.restore(first.id(), tmp.resolve("bad"), RestoreOptions.defaults()))
                    .isInstanceOf(CorruptObjectException.class);
            assertThat(tmp.resolve("bad")).doesNotExist();
        }
        try (AzureBlobStore store = AzureBlobStore.builder()
                .connectionString(azurite.connectionString(), container.getBlobContainerName()).prefix("dr4j").build();
             Repository reopened = Repository.open(store, key, options)) {
            assertThat(reopened.snapshots()).hasSize(2);
        }
    }
}
