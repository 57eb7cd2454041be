package io.dr4j.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.BlobServiceClient;
import com.azure.storage.blob.BlobServiceClientBuilder;
import com.azure.storage.blob.models.AccessTier;
import com.azure.storage.blob.models.BlockListType;
import com.azure.storage.blob.specialized.BlockBlobClient;
import io.dr4j.storage.BlobStore;
import io.dr4j.storage.BlobStoreContract;
import io.dr4j.storage.BlobStoreException;
import io.dr4j.storage.Capability;
import io.dr4j.storage.PermanentBlobStoreException;
import io.dr4j.storage.TransientBlobStoreException;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@link BlobStoreContract} and Azure-specific behaviour against a real Azurite on loopback,
 * one fresh container per test. Blocks and ranges are 1 MiB so that the contract's 12 MiB objects
 * go through staged uploads and parallel ranged reads.
 */
class AzureBlobStoreTest extends BlobStoreContract {

    private static final int MIB = 1 << 20;
    private static final AtomicInteger CONTAINERS = new AtomicInteger();

    @TempDir
    static Path azuriteDir;

    static Azurite azurite;
    static BlobServiceClient service;

    private BlobContainerClient container;

    @BeforeAll
    static void startAzurite() throws IOException {
        azurite = Azurite.start(azuriteDir.resolve("azurite"));
        service = new BlobServiceClientBuilder().connectionString(azurite.connectionString()).buildClient();
    }

    @AfterAll
    static void stopAzurite() throws IOException {
        if (azurite != null) {
            azurite.close();
        }
    }

    private BlobContainerClient newContainer() {
        BlobContainerClient c = service.getBlobContainerClient("test-" + CONTAINERS.incrementAndGet() + "-"
                + Long.toHexString(System.nanoTime()));
        c.create();
        return c;
    }

    private AzureBlobStoreBuilder smallBlocks(BlobContainerClient c) {
        return AzureBlobStore.builder()
                .connectionString(azurite.connectionString(), c.getBlobContainerName())
                .blockSize(MIB)
                .rangeSize(MIB)
                .concurrency(4)
                .listPageSize(LIST_PAGE);
    }

    /** Azurite takes tens of milliseconds per put: page at 100 so that paging is tested with 250 keys. */
    private static final int LIST_PAGE = 100;

    @Override
    protected int paginationKeyCount() {
        return 2 * LIST_PAGE + 50;
    }

    @Override
    protected BlobStore newStore() {
        container = newContainer();
        return smallBlocks(container)
                // the contract's capability tests: Azurite has tiers but no version-level immutability, so locked puts are refused
                .accessTier(TIERED_PREFIX, AzureAccessTier.COOL)
                .immutable(LOCKED_PREFIX, Immutability.retainFor(Duration.ofDays(1)))
                .build();
    }


    @Override
    protected java.util.Optional<String> tierOf(io.dr4j.storage.BlobKey key) {
        AccessTier tier = container.getBlobClient(key.value()).getProperties().getAccessTier();
        return java.util.Optional.ofNullable(tier).map(AccessTier::toString).filter(t -> !t.equalsIgnoreCase("Hot"));
    }

    private BlockBlobClient blob(String name) {
        return container.getBlobClient(name).getBlockBlobClient();
    }

    @Test
    void declaresConditionalPutAndTheConfiguredTierAndLock() {
        assertThat(store.capabilities()).containsExactlyInAnyOrder(Capability.CONDITIONAL_PUT, Capability.STORAGE_TIERS,
                Capability.OBJECT_LOCK);
        assertThat(store.supportsConditionalPut()).isTrue();
    }

    @Test
    void nameShowsAccountContainerAndPrefixButNoSecret() throws IOException {
        try (AzureBlobStore prefixed = AzureBlobStore.builder()
                .connectionString(azurite.connectionString(), container.getBlobContainerName())
                .prefix("backups/prod").build()) {
            assertThat(prefixed.name()).isEqualTo("azure://" + Azurite.ACCOUNT + "/"
                    + container.getBlobContainerName() + "/backups/prod");
            assertThat(prefixed.name() + prefixed).doesNotContain(Azurite.KEY).doesNotContain("AccountKey");
        }
    }

    @Test
    void largeObjectIsStagedInBlocksAndCommittedOnce() throws IOException {
        byte[] data = randomBytes(21, 5 * MIB + 123);
        store.put(key("big/blob"), data);

        var blocks = blob("big/blob").listBlocks(BlockListType.ALL);
        assertThat(blocks.getCommittedBlocks()).hasSize(6);
        assertThat(blocks.getCommittedBlocks()).allSatisfy(b -> assertThat(b.getSizeLong()).isLessThanOrEqualTo(MIB));
        assertThat(blocks.getUncommittedBlocks()).isEmpty();
        assertThat(store.getBytes(key("big/blob"))).isEqualTo(data);
        assertThat(container.getBlobClient("big/blob").getProperties().getMetadata())
                .containsKey(AzureBlobStore.CRC_METADATA);
    }

    @Test
    void objectAtTheThresholdIsOnePutWithAServiceCheckedMd5() throws IOException {
        byte[] data = randomBytes(22, MIB);
        store.put(key("single"), data);
        var props = container.getBlobClient("single").getProperties();
        assertThat(props.getContentMd5()).isEqualTo(io.dr4j.storage.transfer.ContentMd5.of(data, 0, data.length));
        assertThat(blob("single").listBlocks(BlockListType.COMMITTED).getCommittedBlocks()).isEmpty();
    }

    @Test
    void smallFilesAreOnePutStreamedFromTheFile() throws IOException {
        byte[] data = randomBytes(35, MIB - 1);
        Path file = tempDir.resolve("small.bin");
        java.nio.file.Files.write(file, data);
        Path empty = java.nio.file.Files.createFile(tempDir.resolve("empty.bin"));
        store.put(key("files/small"), file);
        store.put(key("files/empty"), empty);
        assertThat(store.getBytes(key("files/small"))).isEqualTo(data);
        assertThat(store.getBytes(key("files/empty"))).isEmpty();
        assertThat(container.getBlobClient("files/small").getProperties().getContentMd5())
                .isEqualTo(io.dr4j.storage.transfer.ContentMd5.of(data, 0, data.length));
        assertThat(blob("files/small").listBlocks(BlockListType.COMMITTED).getCommittedBlocks()).isEmpty();
    }

    @Test
    void uploadFailingMidwayLeavesNoCommittedBlob() throws IOException {
        InputStream failing = failAfter(new ByteArrayInputStream(randomBytes(23, 6 * MIB)), 3 * MIB + 5);
        assertThatThrownBy(() -> store.put(key("broken/upload"), failing, 6 * MIB))
                .isInstanceOf(IOException.class).hasMessageContaining("disk went away");

        assertThat(container.getBlobClient("broken/upload").exists()).isFalse();
        assertThatThrownBy(() -> store.stat(key("broken/upload"))).isInstanceOf(java.nio.file.NoSuchFileException.class);
        assertThat(listKeys("")).isEmpty();
    }

    @Test
    void uploadFailingMidwayKeepsThePreviousObject() throws IOException {
        byte[] before = randomBytes(24, 2 * MIB + 1);
        store.put(key("kept"), before);
        InputStream failing = failAfter(new ByteArrayInputStream(randomBytes(25, 6 * MIB)), 4 * MIB);
        assertThatThrownBy(() -> store.put(key("kept"), failing, 6 * MIB)).isInstanceOf(IOException.class);
        assertThat(store.getBytes(key("kept"))).isEqualTo(before);
    }

    @Test
    void largePutIfAbsentRefusesAnExistingObject() throws IOException {
        byte[] first = randomBytes(26, 3 * MIB);
        store.putIfAbsent(key("once/large"), first);
        assertThatThrownBy(() -> store.putIfAbsent(key("once/large"), randomBytes(27, 3 * MIB)))
                .isInstanceOf(FileAlreadyExistsException.class).hasMessageContaining("once/large");
        assertThat(store.getBytes(key("once/large"))).isEqualTo(first);
    }

    @Test
    void corruptObjectIsRefusedInsteadOfReturned() throws IOException {
        byte[] data = randomBytes(28, 3 * MIB + 7);
        store.put(key("rotten"), data);
        // Another writer changes the bytes but not dr4j's checksum: as a bit-rotted or tampered object would look.
        byte[] changed = data.clone();
        changed[2 * MIB + 3] ^= 1;
        var props = container.getBlobClient("rotten").getProperties();
        blob("rotten").uploadWithResponse(new ByteArrayInputStream(changed), changed.length, null,
                props.getMetadata(), null, null, null, null, com.azure.core.util.Context.NONE);

        assertThatThrownBy(() -> store.getBytes(key("rotten")))
                .isInstanceOf(PermanentBlobStoreException.class)
                .hasMessageContaining("CRC-32C mismatch").hasMessageContaining("rotten");
    }

    @Test
    void objectReplacedDuringAReadFailsTheReadTransiently() throws IOException {
        byte[] first = randomBytes(29, 12 * MIB);
        store.put(key("moving"), first);
        try (InputStream in = store.get(key("moving"))) {
            byte[] head = in.readNBytes(MIB);
            assertThat(head).isEqualTo(Arrays.copyOf(first, MIB));
            store.put(key("moving"), randomBytes(30, 12 * MIB));
            assertThatThrownBy(in::readAllBytes)
                    .isInstanceOf(TransientBlobStoreException.class)
                    .hasMessageContaining("changed while it was being read");
        }
    }

    @Test
    void partialReadsAcrossRangesAreChecked() throws IOException {
        byte[] data = randomBytes(31, 5 * MIB);
        store.put(key("ranges"), data);
        assertThat(readRange("ranges", MIB - 3, 3 * MIB + 10)).isEqualTo(Arrays.copyOfRange(data, MIB - 3, 4 * MIB + 7));
        assertThat(readRange("ranges", 4 * MIB + 1, 10 * MIB)).isEqualTo(Arrays.copyOfRange(data, 4 * MIB + 1, 5 * MIB));
    }

    @Test
    void keyPrefixKeepsStoresApartInOneContainer() throws IOException {
        try (AzureBlobStore a = smallBlocks(container).prefix("tenant-a").build()) {
            a.put(key("x/1"), new byte[] {1});
            store.put(key("y"), new byte[] {2});
            assertThat(container.getBlobClient("tenant-a/x/1").exists()).isTrue();
            try (var listing = a.list("")) {
                assertThat(listing.map(i -> i.key().value())).containsExactly("x/1");
            }
            assertThat(listKeys("")).containsExactlyInAnyOrder("tenant-a/x/1", "y");
        }
    }

    @Test
    void accessTierFollowsTheLongestMatchingPrefix() throws IOException {
        try (AzureBlobStore tiered = smallBlocks(container)
                .accessTier("snapshots", AzureAccessTier.COOL)
                .accessTier("snapshots/old", AzureAccessTier.ARCHIVE)
                .build()) {
            assertThat(tiered.capabilities()).contains(Capability.STORAGE_TIERS);
            tiered.put(key("snapshots/recent"), new byte[] {1});
            tiered.put(key("snapshots/old/2024"), randomBytes(32, 3 * MIB));
            tiered.put(key("chunks/aa"), new byte[] {3});
            assertThat(container.getBlobClient("snapshots/recent").getProperties().getAccessTier()).isEqualTo(AccessTier.COOL);
            assertThat(container.getBlobClient("snapshots/old/2024").getProperties().getAccessTier())
                    .isEqualTo(AccessTier.ARCHIVE);
            assertThat(container.getBlobClient("chunks/aa").getProperties().getAccessTier()).isNotIn(AccessTier.COOL,
                    AccessTier.ARCHIVE);

            assertThatThrownBy(() -> tiered.getBytes(key("snapshots/old/2024")))
                    .isInstanceOf(PermanentBlobStoreException.class)
                    .hasMessageContaining("Archive tier").hasMessageContaining("snapshots/old/2024");
        }
    }

    @Test
    void immutabilityOnAContainerWithoutItFailsClearlyAndWritesNothing() throws IOException {
        try (AzureBlobStore immutable = smallBlocks(container)
                .immutable("snapshots", Immutability.retainFor(Duration.ofDays(30)).withLegalHold())
                .build()) {
            assertThat(immutable.capabilities()).contains(Capability.OBJECT_LOCK);
            for (byte[] body : new byte[][] {new byte[10], randomBytes(33, 3 * MIB)}) {
                assertThatThrownBy(() -> immutable.put(key("snapshots/s1"), body))
                        .isInstanceOf(PermanentBlobStoreException.class)
                        .hasMessageContaining(container.getBlobContainerName())
                        .hasMessageContaining("version-level immutability")
                        .hasMessageContaining("snapshots/s1");
            }
            assertThat(container.getBlobClient("snapshots/s1").exists()).isFalse();
            immutable.put(key("chunks/free"), new byte[] {1});
            assertThat(immutable.getBytes(key("chunks/free"))).containsExactly(1);
        }
    }

    @Test
    void missingContainerIsAPermanentErrorNamingContainerAndOperation() throws IOException {
        try (AzureBlobStore lost = AzureBlobStore.builder()
                .connectionString(azurite.connectionString(), "no-such-container").build()) {
            for (ThrowingCall call : new ThrowingCall[] {
                    () -> lost.put(key("k"), new byte[] {1}),
                    () -> lost.put(key("k"), new ByteArrayInputStream(new byte[9 << 20]), 9 << 20),
                    () -> lost.getBytes(key("k")),
                    () -> lost.list(""),
                    () -> lost.putIfAbsent(key("k"), new byte[] {1})}) {
                assertThatThrownBy(call::run)
                        .isInstanceOf(PermanentBlobStoreException.class)
                        .hasMessageContaining("no-such-container")
                        .hasMessageContaining("container does not exist");
            }
            assertThatThrownBy(() -> lost.stat(key("k"))).isInstanceOfAny(PermanentBlobStoreException.class,
                    java.nio.file.NoSuchFileException.class).hasMessageContaining("no-such-container");
        }
    }

    @Test
    void wrongAccountKeyIsAPermanentErrorWithoutTheKey() throws IOException {
        String wrongKey = java.util.Base64.getEncoder().encodeToString("not the real key, 64 bytes long ..............."
                .getBytes(StandardCharsets.US_ASCII));
        try (AzureBlobStore denied = AzureBlobStore.builder()
                .connectionString(azurite.connectionString(wrongKey), container.getBlobContainerName()).build()) {
            assertThatThrownBy(() -> denied.put(key("secret/k"), new byte[] {1}))
                    .isInstanceOf(PermanentBlobStoreException.class)
                    .hasMessageContaining("access denied").hasMessageContaining("HTTP 403")
                    .hasMessageContaining("put").hasMessageContaining("secret/k")
                    .satisfies(e -> {
                        assertThat(stackText(e)).doesNotContain(wrongKey).doesNotContain(Azurite.KEY);
                        assertThat(((BlobStoreException) e).isTransient()).isFalse();
                    });
        }
    }

    @Test
    void invalidConnectionStringIsRejectedWithoutQuotingIt() {
        String secretish = "AccountName=x;AccountKey=c2VjcmV0LWtleS1kby1ub3QtcHJpbnQ=;Nonsense";
        assertThatThrownBy(() -> AzureBlobStore.builder().connectionString(secretish, "c-1").build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("connection string")
                .satisfies(e -> assertThat(stackText(e)).doesNotContain("c2VjcmV0LWtleS1kby1ub3QtcHJpbnQ="));
    }

    @Test
    void builderRefusesMissingOrDoubleSettings() {
        assertThatThrownBy(() -> AzureBlobStore.builder().build()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("needs a container");
        assertThatThrownBy(() -> AzureBlobStore.builder().containerClient(container).serviceClient(service, "abc"))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> AzureBlobStore.builder().blockSize(MIB).blockSize(2 * MIB))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("blockSize");
        assertThatThrownBy(() -> AzureBlobStore.builder().blockSize(1000)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> AzureBlobStore.builder().concurrency(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> AzureBlobStore.builder().connectionString("x", "Bad_Name"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Bad_Name");
        assertThatThrownBy(() -> AzureBlobStore.builder().accessTier("a", AzureAccessTier.COOL)
                .accessTier("a", AzureAccessTier.HOT)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> AzureBlobStore.builder().endpoint("https://acct.blob.core.windows.net/?sig=abc",
                "c-1", new com.azure.core.credential.AzureSasCredential("sv=1")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining("sig=abc");
    }

    @Test
    void applicationClientIsUsedAndNotClosed() throws IOException {
        BlobContainerClient appClient = service.getBlobContainerClient(container.getBlobContainerName());
        try (AzureBlobStore borrowed = AzureBlobStore.builder().containerClient(appClient).build()) {
            borrowed.put(key("shared"), new byte[] {7});
        }
        assertThat(appClient.getBlobClient("shared").downloadContent().toBytes()).containsExactly(7);
    }

    @Test
    void closeReleasesTheThreadsTheStoreOwns() throws Exception {
        AzureBlobStore own = smallBlocks(container).build();
        byte[] data = randomBytes(34, 3 * MIB);
        own.put(key("threads"), data);
        assertThat(own.getBytes(key("threads"))).isEqualTo(data);
        assertThat(threadsNamed("dr4j-azure")).isNotEmpty();
        store.close();
        store = null;
        own.close();
        for (Thread t : threadsNamed("dr4j-azure")) {
            t.join(10_000);
            assertThat(t.isAlive()).as("thread %s still alive after close", t.getName()).isFalse();
        }
        assertThatThrownBy(() -> own.getBytes(key("threads"))).isInstanceOf(PermanentBlobStoreException.class)
                .hasMessageContaining("closed");
    }

    @Test
    void endpointWithSharedKeyReachesTheContainer() throws IOException {
        try (AzureBlobStore viaEndpoint = AzureBlobStore.builder()
                .endpoint(azurite.endpoint(), container.getBlobContainerName(),
                        new com.azure.storage.common.StorageSharedKeyCredential(Azurite.ACCOUNT, Azurite.KEY))
                .build()) {
            viaEndpoint.put(key("via/endpoint"), new byte[] {5});
            assertThat(store.getBytes(key("via/endpoint"))).containsExactly(5);
            assertThat(viaEndpoint.name()).isEqualTo("azure://" + Azurite.ACCOUNT + "/" + container.getBlobContainerName());
        }
    }

    private static java.util.List<Thread> threadsNamed(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith(prefix)).toList();
    }

    private static String stackText(Throwable e) {
        java.io.StringWriter w = new java.io.StringWriter();
        e.printStackTrace(new java.io.PrintWriter(w));
        return w.toString();
    }

    /** A stream that fails with an IOException once {@code limit} bytes have been read. */
    static InputStream failAfter(InputStream in, long limit) {
        return new FilterInputStream(in) {
            private long read;

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (read >= limit) {
                    throw new IOException("disk went away");
                }
                int n = super.read(b, off, (int) Math.min(len, limit - read));
                if (n > 0) {
                    read += n;
                }
                return n;
            }

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }
        };
    }

    @FunctionalInterface
    interface ThrowingCall {
        void run() throws Exception;
    }
}
