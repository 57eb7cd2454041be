package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.dr4j.storage.BlobKey;
import io.dr4j.storage.LocalBlobStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Repository#stats} against a real local repository, each figure checked against an
 * expectation computed another way: the source tree's sizes, the pack files on disk (their blob
 * bytes from the FORMAT.md trailer, without the index), {@link Repository#diff}.
 */
class RepositoryStatsTest {

    @TempDir
    Path tmp;

    private RecordingBlobStore store;
    private Repository repo;

    @BeforeEach
    void setUp() throws IOException {
        store = new RecordingBlobStore(LocalBlobStore.builder(tmp.resolve("repo")).build());
        repo = Repository.init(store, KeyProvider.rawKey(TestRepos.RAW_KEY), TestRepos.init(), TestRepos.options());
    }

    @AfterEach
    void tearDown() {
        repo.close();
    }

    private static long treeBytes(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    private static long treeFiles(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(Files::isRegularFile).count();
        }
    }

    private List<Path> packFiles() throws IOException {
        try (Stream<Path> walk = Files.walk(tmp.resolve("repo/packs"))) {
            return walk.filter(Files::isRegularFile).toList();
        }
    }

    /** Bytes of blobs in the pack files, by FORMAT.md §Packs: a pack is blobs ‖ sealed header ‖ be32(header length) ‖ magic. */
    private long blobBytesOnDisk() throws IOException {
        long sum = 0;
        for (Path p : packFiles()) {
            byte[] b = Files.readAllBytes(p);
            sum += b.length - 12 - ByteBuffer.wrap(b, b.length - 12, 4).getInt();
        }
        return sum;
    }

    private long packBytesOnDisk() throws IOException {
        long sum = 0;
        for (Path p : packFiles()) {
            sum += Files.size(p);
        }
        return sum;
    }

    /** Text that zstd compresses well but whose chunks do not repeat. */
    private static void writeText(Path file, long seed, int lines) throws IOException {
        Random r = new Random(seed);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < lines; i++) {
            sb.append("layer.").append(i).append(".weight scale=").append(r.nextInt(1000)).append(" step=").append(i * 7)
                    .append('\n');
        }
        Files.writeString(file, sb, StandardCharsets.US_ASCII);
    }

    @Test
    void twoSnapshotsOfTheSameDataHaveADedupRatioOfTwoAndOccupyTheBlobBytesOfThePacks() throws IOException {
        Path src = TestRepos.checkpoint(tmp.resolve("ckpt"), 1);
        Snapshot first = repo.backup(src);
        Snapshot second = repo.backup(src, BackupOptions.builder().rereadUnchanged(true).build());
        long bytes = treeBytes(src);

        RepositoryStats all = repo.stats();
        assertThat(all.snapshots()).containsExactly(first.id(), second.id());
        assertThat(all.files()).isEqualTo(2 * treeFiles(src));
        assertThat(all.rawBytes()).isEqualTo(2 * bytes);
        assertThat(all.plainBytes()).isEqualTo(bytes); // random content: no chunk repeats inside the tree
        assertThat(all.chunks()).isEqualTo(first.stats().newChunks());
        assertThat(all.dedupRatio()).isEqualTo(2.0);
        assertThat(all.storedBytes()).isEqualTo(blobBytesOnDisk());
        assertThat(all.packs()).isEqualTo(packFiles().size());
        assertThat(all.packBytes()).isEqualTo(packBytesOnDisk());
        assertThat(all.compressionRatio()).as("random data does not compress; each blob carries its seal").isLessThan(1.0)
                .isGreaterThan(0.9);
        assertThat(all.totalRatio()).isCloseTo(all.dedupRatio() * all.compressionRatio(), within(1e-9));
        assertThat(all.missingChunks()).isZero();
        assertThat(all.repository()).isEqualTo(new RepositoryStats.Store(2, all.chunks(), all.plainBytes(), all.storedBytes(),
                all.packs(), all.packBytes(), all.repository().indexFiles()));
        assertThat(all.repository().indexFiles()).isPositive();

        RepositoryStats one = repo.stats(List.of(second.id(), second.id()));
        assertThat(one.snapshots()).containsExactly(second.id());
        assertThat(one.rawBytes()).isEqualTo(bytes);
        assertThat(one.dedupRatio()).isEqualTo(1.0);
        assertThat(one.storedBytes()).isEqualTo(all.storedBytes());
        assertThat(one.repository().snapshots()).isEqualTo(2);
    }

    @Test
    void compressibleDataHasACompressionRatioAboveOneMatchingThePackFiles() throws IOException {
        Path src = Files.createDirectories(tmp.resolve("text"));
        writeText(src.resolve("a.txt"), 1, 20_000);
        writeText(src.resolve("b.txt"), 2, 10_000);
        repo.backup(src);
        RepositoryStats s = repo.stats();
        assertThat(s.plainBytes()).isEqualTo(treeBytes(src));
        assertThat(s.storedBytes()).isEqualTo(blobBytesOnDisk());
        assertThat(s.compressionRatio()).isGreaterThan(1.5)
                .isCloseTo((double) treeBytes(src) / blobBytesOnDisk(), within(1e-9));
    }

    @Test
    void aSubsetCountsEachSharedChunkOnceAndTheRestAsDiffSeesIt() throws IOException {
        Path src = TestRepos.checkpoint(tmp.resolve("ckpt"), 2);
        Snapshot a = repo.backup(src);
        Files.write(src.resolve("shards/model-00002.safetensors"), TestRepos.random(42, 180_123));
        Files.write(src.resolve("extra.bin"), TestRepos.random(43, 90_000));
        Snapshot b = repo.backup(src);

        RepositoryStats onlyA = repo.stats(List.of(a.id()));
        RepositoryStats onlyB = repo.stats(List.of(b.id()));
        RepositoryStats both = repo.stats(List.of(b.id(), a.id()));
        assertThat(both.snapshots()).containsExactly(a.id(), b.id());
        assertThat(both).isEqualTo(repo.stats());
        assertThat(both.plainBytes()).isEqualTo(onlyA.plainBytes() + repo.diff(a.id(), b.id()).bytesAdded());
        assertThat(both.plainBytes()).isEqualTo(onlyB.plainBytes() + repo.diff(b.id(), a.id()).bytesAdded());
        assertThat(both.rawBytes()).isEqualTo(a.totalBytes() + b.totalBytes());
        assertThat(onlyB.plainBytes()).isEqualTo(b.totalBytes());
        assertThat(both.storedBytes()).isEqualTo(blobBytesOnDisk());
        assertThat(onlyA.storedBytes() + onlyB.storedBytes()).isGreaterThan(both.storedBytes());
    }

    @Test
    void statsReadNoPackAndCountChunksOfAMissingPackAsMissing() throws IOException {
        Path src = TestRepos.checkpoint(tmp.resolve("ckpt"), 3);
        repo.backup(src);
        RepositoryStats before = repo.stats();
        Path pack = packFiles().stream().max(java.util.Comparator.comparingLong(p -> p.toFile().length())).orElseThrow();
        long packSize = Files.size(pack);
        store.delete(BlobKey.of(tmp.resolve("repo").relativize(pack).toString().replace('\\', '/')));

        store.clear();
        RepositoryStats after = repo.stats();
        assertThat(store.rangedReads()).noneMatch(r -> r.key().value().startsWith("packs/"));
        assertThat(store.wholeReads()).noneMatch(k -> k.value().startsWith("packs/"));
        assertThat(after.missingChunks()).isPositive();
        assertThat(after.chunks() + after.missingChunks()).isEqualTo(before.chunks());
        assertThat(after.repository().packBytes()).isEqualTo(before.repository().packBytes() - packSize);
        assertThat(after.repository().chunks()).as("the lost pack's chunks are no longer in the store")
                .isEqualTo(before.repository().chunks() - after.missingChunks());
        assertThat(after.repository().storedBytes()).isEqualTo(blobBytesOnDisk());
        assertThat(after.storedBytes()).isEqualTo(blobBytesOnDisk());
        assertThat(after.rawBytes()).isEqualTo(before.rawBytes());
    }

    @Test
    void anUnknownOrEmptySelectionIsRefusedByName() throws IOException {
        Snapshot s = repo.backup(TestRepos.checkpoint(tmp.resolve("ckpt"), 4));
        SnapshotId unknown = SnapshotId.of("0123456789abcdef0123456789abcdef");
        store.clear();
        assertThatThrownBy(() -> repo.stats(List.of(s.id(), unknown))).isInstanceOf(SnapshotNotFoundException.class)
                .hasMessageContaining(unknown.value()).hasMessageContaining(store.name());
        assertThat(store.wholeReads()).as("refused before the index or any manifest is read").isEmpty();
        assertThatThrownBy(() -> repo.stats(List.of())).isInstanceOf(SnapshotNotFoundException.class)
                .hasMessageContaining("no snapshot chosen");
    }

    @Test
    void anEmptyRepositoryHasZeroFiguresAndRatios() {
        RepositoryStats s = repo.stats();
        assertThat(s.snapshots()).isEmpty();
        assertThat(s.rawBytes()).isZero();
        assertThat(s.storedBytes()).isZero();
        assertThat(s.dedupRatio()).isZero();
        assertThat(s.compressionRatio()).isZero();
        assertThat(s.repository().packs()).isZero();
    }
}
