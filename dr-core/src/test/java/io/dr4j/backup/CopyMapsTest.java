package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;

import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobStore;
import io.dr4j.storage.LocalBlobStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The copy maps a destination keeps ({@code copies/<source id>/}) against forget and prune on
 * either side, on real local repositories: a copy whose chunks a prune removed is copied again
 * in full, prune drops and compacts the maps, and a forget in the source leaves them usable.
 */
class CopyMapsTest {

    private static final byte[] DESTINATION_KEY = new byte[32];

    static {
        Arrays.fill(DESTINATION_KEY, (byte) 42);
    }

    @TempDir
    Path dir;

    private Repository createDestination(BlobStore store) {
        return Repository.init(store, KeyProvider.rawKey(DESTINATION_KEY), TestRepos.init(), pruneEverything());
    }

    /** Test options with a repack threshold of 0: a prune removes every unreferenced chunk, whichever pack it sits in. */
    private static RepositoryOptions pruneEverything() {
        return RepositoryOptions.builder().noCache().workers(2).ioConcurrency(4).inFlightBytes(8 << 20).host("test-host")
                .pruneGracePeriod(Duration.ZERO).storeAttempts(4).repackThreshold(0).build();
    }

    private static long count(BlobStore store, String prefix) throws IOException {
        try (Stream<BlobInfo> s = store.list(prefix)) {
            return s.count();
        }
    }

    private void assertVerifiesAndRestoresAs(Repository repo, SnapshotId id, Path original) throws IOException {
        assertThat(repo.verify(id, VerifyLevel.DATA).problems()).isEmpty();
        Path target = dir.resolve("restore-" + System.nanoTime());
        repo.restore(id, target, RestoreOptions.defaults());
        assertThat(TestRepos.sameTree(original, target)).as("restored tree equals " + original).isTrue();
    }

    @Test
    void aCopyWhoseChunksAPruneOfTheDestinationRemovedIsCopiedAgainInFull() throws IOException {
        Path v1 = TestRepos.checkpoint(dir.resolve("v1"), 1);
        try (LocalBlobStore srcStore = LocalBlobStore.open(dir.resolve("src"));
                LocalBlobStore dstStore = LocalBlobStore.open(dir.resolve("dst"));
                Repository src = TestRepos.create(srcStore);
                Repository dst = createDestination(dstStore)) {
            Snapshot s1 = src.backup(v1, BackupOptions.builder().tag("first").build());
            CopyResult first = src.copyTo(dst, SnapshotFilter.ALL, CopyOptions.defaults());
            assertThat(first.copied()).containsExactly(s1.id());

            dst.forget(RetentionPolicy.builder().keepTags("none-has-this-tag").build(), false);
            assertThat(dst.snapshots()).isEmpty();
            dst.prune(false);
            assertThat(count(dstStore, "packs")).isZero();

            CopyResult again = src.copyTo(dst, SnapshotFilter.ALL, CopyOptions.defaults());
            assertThat(again.copied()).containsExactly(s1.id());
            assertThat(again.chunksSkipped()).as("chunks taken as already copied").isZero();
            assertThat(again.chunksCopied()).isEqualTo(first.chunksCopied());
            assertVerifiesAndRestoresAs(dst, s1.id(), v1);
        }
    }

    @Test
    void pruneDropsTheMapEntriesOfRemovedChunksAndCompactsTheRest() throws IOException {
        Path v1 = TestRepos.checkpoint(dir.resolve("v1"), 1);
        Path v2 = TestRepos.checkpoint(dir.resolve("v2"), 1);
        Files.write(v2.resolve("shards/model-00002.safetensors"), TestRepos.random(99, 123_456));
        try (LocalBlobStore srcStore = LocalBlobStore.open(dir.resolve("src"));
                LocalBlobStore dstStore = LocalBlobStore.open(dir.resolve("dst"));
                Repository src = TestRepos.create(srcStore);
                Repository dst = createDestination(dstStore)) {
            Snapshot s1 = src.backup(v1, BackupOptions.builder().tag("first").build());
            Snapshot s2 = src.backup(v2, BackupOptions.builder().tag("second").build());
            src.copyTo(dst, List.of(s1.id()), CopyOptions.defaults());
            CopyResult second = src.copyTo(dst, List.of(s2.id()), CopyOptions.defaults());
            assertThat(second.chunksSkipped()).as("chunks s2 shares with s1").isPositive();
            assertThat(count(dstStore, "copies")).as("one map object per copy").isEqualTo(2);

            // s1's own chunks go: their entries go with them, s2's stay (in one object)
            dst.forget(RetentionPolicy.builder().keepTags("second").build(), false);
            dst.prune(false);
            assertThat(count(dstStore, "copies")).isEqualTo(1);
            CopyResult s1Again = src.copyTo(dst, List.of(s1.id()), CopyOptions.defaults());
            assertThat(s1Again.copied()).containsExactly(s1.id());
            assertThat(s1Again.chunksSkipped()).as("shared with s2, still in the destination").isEqualTo(second.chunksSkipped());
            assertThat(s1Again.chunksCopied()).as("s1's own chunks, removed by the prune").isPositive();
            assertVerifiesAndRestoresAs(dst, s1.id(), v1);

            // nothing copied is left: neither are the maps
            dst.forget(RetentionPolicy.builder().keepTags("none-has-this-tag").build(), false);
            dst.prune(false);
            assertThat(count(dstStore, "copies")).isZero();
        }
    }

    @Test
    void aSnapshotForgottenAndPrunedInTheSourceLeavesTheDestinationsCopyAndItsMapsUsable() throws IOException {
        Path v1 = TestRepos.checkpoint(dir.resolve("v1"), 1);
        Path v2 = TestRepos.checkpoint(dir.resolve("v2"), 2);
        try (LocalBlobStore srcStore = LocalBlobStore.open(dir.resolve("src"));
                LocalBlobStore dstStore = LocalBlobStore.open(dir.resolve("dst"));
                Repository src = Repository.init(srcStore, KeyProvider.rawKey(TestRepos.RAW_KEY), TestRepos.init(),
                        pruneEverything());
                Repository dst = createDestination(dstStore)) {
            Snapshot s1 = src.backup(v1, BackupOptions.builder().tag("first").build());
            Snapshot s2 = src.backup(v2, BackupOptions.builder().tag("second").build());
            CopyResult first = src.copyTo(dst, SnapshotFilter.ALL, CopyOptions.defaults());
            assertThat(first.copied()).containsExactly(s1.id(), s2.id());

            src.forget(RetentionPolicy.builder().keepTags("second").build(), false);
            src.prune(false);
            dst.prune(false);
            assertThat(dst.snapshots()).extracting(Snapshot::id).containsExactly(s1.id(), s2.id());
            assertVerifiesAndRestoresAs(dst, s1.id(), v1);

            // the same data backed up again in the source has the same chunk ids there: the maps still know them
            Snapshot s3 = src.backup(v1);
            CopyResult third = src.copyTo(dst, List.of(s3.id()), CopyOptions.defaults());
            assertThat(third.copied()).containsExactly(s3.id());
            assertThat(third.storeReads()).as("source reads").isZero();
            assertThat(third.chunksCopied()).isZero();
            assertVerifiesAndRestoresAs(dst, s3.id(), v1);
        }
    }
}
