package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobStore;
import io.dr4j.storage.FaultInjectingBlobStore;
import io.dr4j.storage.FaultInjectingBlobStore.Operation;
import io.dr4j.storage.InMemoryBlobStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CopyTest {

    private static final byte[] OTHER_KEY = new byte[32];

    static {
        Arrays.fill(OTHER_KEY, (byte) 42);
    }

    @TempDir
    Path dir;

    private static Repository createDestination(BlobStore store) {
        return Repository.init(store, KeyProvider.rawKey(OTHER_KEY), TestRepos.init(), TestRepos.options());
    }

    private static long count(BlobStore store, String prefix) throws IOException {
        try (Stream<BlobInfo> s = store.list(prefix)) {
            return s.count();
        }
    }

    private static long objects(BlobStore store) throws IOException {
        return count(store, "packs") + count(store, "index") + count(store, "snapshots") + count(store, "copies");
    }

    private void assertRestoresAs(Repository repo, SnapshotId id, Path original) {
        Path target = dir.resolve("restore-" + id.shortId() + "-" + System.nanoTime());
        repo.restore(id, target, RestoreOptions.defaults());
        try {
            assertThat(TestRepos.sameTree(original, target)).as("restored tree equals " + original).isTrue();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void copiedSnapshotsKeepTheirIdsVerifyAndRestoreByteIdenticallyUnderTheDestinationsKey() throws IOException {
        InMemoryBlobStore srcStore = InMemoryBlobStore.create("src");
        InMemoryBlobStore dstStore = InMemoryBlobStore.create("dst");
        Path v1 = TestRepos.checkpoint(dir.resolve("v1"), 1);
        Path v2 = TestRepos.checkpoint(dir.resolve("v2"), 1);
        Files.write(v2.resolve("shards/model-00002.safetensors"), TestRepos.random(99, 123_456));
        try (Repository src = TestRepos.create(srcStore); Repository dst = createDestination(dstStore)) {
            Snapshot s1 = src.backup(v1, BackupOptions.builder().tag("nightly").build());
            Snapshot s2 = src.backup(v2);
            CopyResult r = src.copyTo(dst, SnapshotFilter.ALL, CopyOptions.defaults());

            assertThat(r.copied()).containsExactly(s1.id(), s2.id());
            assertThat(r.skipped()).isEmpty();
            assertThat(r.chunksCopied()).isPositive();
            assertThat(dst.snapshots()).extracting(Snapshot::id).containsExactly(s1.id(), s2.id());
            assertThat(dst.snapshot(s1.id()).tags()).containsExactly("nightly");
            for (SnapshotId id : List.of(s1.id(), s2.id())) {
                VerifyReport report = dst.verify(id, VerifyLevel.DATA);
                assertThat(report.problems()).isEmpty();
            }
            assertRestoresAs(dst, s1.id(), v1);
            assertRestoresAs(dst, s2.id(), v2);
        }
        // the destination's own key opens it; the source's key does not
        assertThatThrownBy(() -> TestRepos.open(dstStore)).isInstanceOf(WrongKeyException.class);
        try (Repository dst = Repository.open(dstStore, KeyProvider.rawKey(OTHER_KEY), TestRepos.options())) {
            assertThat(dst.snapshots()).hasSize(2);
        }
    }

    @Test
    void aSecondCopyReadsOnlyWhatIsNewAndSkipsSnapshotsAlreadyCopied() throws IOException {
        FaultInjectingBlobStore srcStore = new FaultInjectingBlobStore(InMemoryBlobStore.create("src"));
        InMemoryBlobStore dstStore = InMemoryBlobStore.create("dst");
        Path v1 = TestRepos.checkpoint(dir.resolve("v1"), 1);
        try (Repository src = TestRepos.create(srcStore); Repository dst = createDestination(dstStore)) {
            Snapshot s1 = src.backup(v1);
            CopyResult first = src.copyTo(dst, SnapshotFilter.ALL, CopyOptions.defaults());
            assertThat(first.copied()).containsExactly(s1.id());

            long packsBefore = count(dstStore, "packs");
            long getsBefore = srcStore.calls(Operation.GET);
            CopyResult again = src.copyTo(dst, SnapshotFilter.ALL, CopyOptions.defaults());
            assertThat(again.copied()).isEmpty();
            assertThat(again.skipped()).containsExactly(s1.id());
            assertThat(again.storeReads()).isZero();
            assertThat(again.chunksCopied()).isZero();
            assertThat(count(dstStore, "packs")).isEqualTo(packsBefore);

            // a second snapshot sharing most chunks: only its new chunks are read and written
            Files.write(v1.resolve("new.bin"), TestRepos.random(7, 50_000));
            long srcPacks = count(srcStore, "packs");
            Snapshot s2 = src.backup(v1);
            long newPacks = count(srcStore, "packs") - srcPacks;
            long newChunks = s2.stats().newChunks();
            getsBefore = srcStore.calls(Operation.GET);
            CopyResult incremental = src.copyTo(dst, List.of(s2.id()), CopyOptions.defaults());
            assertThat(incremental.copied()).containsExactly(s2.id());
            assertThat(incremental.chunksCopied() + incremental.chunksPresent()).isEqualTo(newChunks);
            assertThat(incremental.chunksSkipped()).isPositive();
            assertThat(incremental.storeReads()).isPositive().isLessThanOrEqualTo(newPacks); // one read per new source pack
            assertThat(dst.verify(s2.id(), VerifyLevel.DATA).problems()).isEmpty();
            assertRestoresAs(dst, s2.id(), v1);
        }
    }

    @Test
    void aCancelledCopyLeavesTheDestinationValidAndTheNextRunRedoesAtMostThePacksInFlight() throws IOException {
        FaultInjectingBlobStore srcStore = new FaultInjectingBlobStore(InMemoryBlobStore.create("src"));
        FaultInjectingBlobStore dstStore = new FaultInjectingBlobStore(InMemoryBlobStore.create("dst"));
        Path data = dir.resolve("big");
        Files.createDirectories(data);
        Random random = new Random(3);
        for (int i = 0; i < 6; i++) {
            byte[] b = new byte[5 << 20];
            random.nextBytes(b);
            Files.write(data.resolve("shard-" + i), b);
        }
        InitOptions init = TestRepos.init().withPackSize(InitOptions.MIN_PACK_SIZE);
        try (Repository src = Repository.init(srcStore, KeyProvider.rawKey(TestRepos.RAW_KEY), init, TestRepos.options());
                Repository dst = Repository.init(dstStore, KeyProvider.rawKey(OTHER_KEY), init, TestRepos.options())) {
            Snapshot s = src.backup(data);
            long total = s.totalBytes();
            CancellationToken token = new CancellationToken();
            AtomicLong doneAtCancel = new AtomicLong();
            ProgressListener cancelHalfway = new ProgressListener() {
                @Override
                public void onProgress(long bytesDone, long bytesTotal) {
                    if (bytesDone >= bytesTotal / 2 && !token.isCancelled()) {
                        doneAtCancel.set(bytesDone);
                        token.cancel();
                    }
                }
            };
            assertThatThrownBy(() -> src.copyTo(dst, SnapshotFilter.ALL,
                    CopyOptions.builder().progress(cancelHalfway).cancellation(token).build()))
                    .isInstanceOf(OperationCancelledException.class);
            // valid: no snapshot, some packs with their index, and it verifies as an empty repository
            assertThat(dst.snapshots()).isEmpty();
            assertThat(count(dstStore, "packs")).isPositive();
            assertThat(count(dstStore, "index")).isPositive();

            long packPutsBefore = dstStore.calls(Operation.PUT);
            AtomicLong secondTotal = new AtomicLong();
            CopyResult second = src.copyTo(dst, SnapshotFilter.ALL, CopyOptions.builder().progress(new ProgressListener() {
                @Override
                public void onProgress(long bytesDone, long bytesTotal) {
                    secondTotal.set(bytesTotal);
                }
            }).build());
            assertThat(second.copied()).containsExactly(s.id());
            assertThat(second.chunksSkipped()).isPositive();
            // rework: bytes read twice are at most the packs that were open (2 writers) when it stopped
            long reread = doneAtCancel.get() + secondTotal.get() - total;
            assertThat(secondTotal.get()).isLessThan(total);
            assertThat(reread).isLessThanOrEqualTo(2L * (InitOptions.MIN_PACK_SIZE + TestRepos.SMALL_CHUNKS.maxSize())
                    + 4L * TestRepos.SMALL_CHUNKS.maxSize());
            assertThat(dstStore.calls(Operation.PUT) - packPutsBefore).isLessThan(count(dstStore, "packs") + 4);
            assertThat(dst.verify(s.id(), VerifyLevel.DATA).problems()).isEmpty();
            assertRestoresAs(dst, s.id(), data);
        }
    }

    @Test
    void copyIntoTheSameRepositoryIsRefusedAndWritesNothing() throws IOException {
        InMemoryBlobStore store = InMemoryBlobStore.create("src");
        try (Repository src = TestRepos.create(store); Repository same = TestRepos.open(store)) {
            src.backup(TestRepos.checkpoint(dir.resolve("v1"), 1));
            long before = objects(store);
            assertThatThrownBy(() -> src.copyTo(same, SnapshotFilter.ALL, CopyOptions.defaults()))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("into itself").hasMessageContaining(src.id());
            assertThat(objects(store)).isEqualTo(before);
            assertThat(count(store, "locks")).isZero();
        }
    }

    @Test
    void aSelectionThatMatchesNothingIsRefusedAndWritesNothing() throws IOException {
        InMemoryBlobStore srcStore = InMemoryBlobStore.create("src");
        InMemoryBlobStore dstStore = InMemoryBlobStore.create("dst");
        try (Repository src = TestRepos.create(srcStore); Repository dst = createDestination(dstStore)) {
            src.backup(TestRepos.checkpoint(dir.resolve("v1"), 1));
            assertThatThrownBy(() -> src.copyTo(dst, SnapshotFilter.withTags("no-such-tag"), CopyOptions.defaults()))
                    .isInstanceOf(SnapshotNotFoundException.class).hasMessageContaining("no-such-tag");
            assertThatThrownBy(() -> src.copyTo(dst, List.of(), CopyOptions.defaults()))
                    .isInstanceOf(SnapshotNotFoundException.class);
            assertThatThrownBy(() -> src.copyTo(dst, List.of(SnapshotId.of("0123456789abcdef0123456789abcdef")),
                    CopyOptions.defaults())).isInstanceOf(SnapshotNotFoundException.class);
            assertThat(objects(dstStore)).isZero();
        }
    }

    @Test
    void aWrongDestinationKeyIsRefusedBeforeAnythingIsWritten() throws IOException {
        InMemoryBlobStore dstStore = InMemoryBlobStore.create("dst");
        createDestination(dstStore).close();
        long before = objects(dstStore);
        assertThatThrownBy(() -> Repository.open(dstStore, KeyProvider.rawKey(TestRepos.RAW_KEY), TestRepos.options()))
                .isInstanceOf(WrongKeyException.class);
        assertThat(objects(dstStore)).isEqualTo(before);
    }

    @Test
    void aDestinationWithSmallerChunksIsRefused() throws IOException {
        InMemoryBlobStore srcStore = InMemoryBlobStore.create("src");
        InMemoryBlobStore dstStore = InMemoryBlobStore.create("dst");
        InitOptions small = TestRepos.init().withChunker(new ChunkerParameters(1 << 10, 4 << 10, 16 << 10));
        try (Repository src = TestRepos.create(srcStore);
                Repository dst = Repository.init(dstStore, KeyProvider.rawKey(OTHER_KEY), small, TestRepos.options())) {
            src.backup(TestRepos.checkpoint(dir.resolve("v1"), 1));
            assertThatThrownBy(() -> src.copyTo(dst, SnapshotFilter.ALL, CopyOptions.defaults()))
                    .hasMessageContaining("maximum chunk size");
            assertThat(objects(dstStore)).isZero();
        }
    }
}
