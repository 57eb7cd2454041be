package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;

import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.LocalBlobStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Prune repacks a pack only when more than {@link RepositoryOptions#repackThreshold()} of its blob bytes are dead
 * (FORMAT.md §Prune, step 3); at or below it the pack is kept as it is. The pack is built so that its dead fraction is
 * known exactly: one backup thread (so one open pack), and files smaller than the minimum chunk of incompressible
 * bytes, all the same size, so that each is one chunk and every blob has the same sealed length. Forgetting the
 * snapshot that alone held {@code removed} of the {@code files} files leaves {@code removed / files} of the pack dead.
 */
class RepackThresholdTest {

    private static final int FILE_SIZE = 3000; // under SMALL_CHUNKS' 4 KiB minimum: one chunk per file

    @TempDir
    Path tmp;

    @Test
    void theDefaultThresholdIsOneFifth() {
        assertThat(RepositoryOptions.defaults().repackThreshold()).isEqualTo(0.2);
    }

    @ParameterizedTest(name = "{1} of {0} blobs dead: repacked {2}")
    @CsvSource({"10, 1, false", "5, 1, false", "5, 2, true", "4, 1, true"})
    void aPackIsRepackedOnlyWhenItsDeadShareExceedsTheThreshold(int files, int removed, boolean repacked) throws Exception {
        LocalBlobStore store = LocalBlobStore.builder(tmp.resolve("repo")).sync(false).build();
        RepositoryOptions options = RepositoryOptions.builder().noCache().workers(1).host("test-host")
                .pruneGracePeriod(Duration.ZERO).build();
        Path source = Files.createDirectories(tmp.resolve("ckpt"));
        for (int i = 0; i < files; i++) {
            Files.write(source.resolve("part-" + i), TestRepos.random(i, FILE_SIZE));
        }
        try (Repository repo = Repository.init(store, KeyProvider.rawKey(TestRepos.RAW_KEY), TestRepos.init(), options)) {
            Snapshot all = repo.backup(source);
            assertThat(all.stats().newChunks()).isEqualTo(files);
            Map<String, Long> packsBefore = packs(store);
            assertThat(packsBefore).as("one pack holds every chunk").hasSize(1);
            for (int i = 0; i < removed; i++) {
                Files.delete(source.resolve("part-" + i));
            }
            Snapshot rest = repo.backup(source);
            assertThat(rest.stats().newChunks()).isZero();
            repo.forget(RetentionPolicy.builder().keepLast(1).build(), false);

            PruneResult r = repo.prune(false);

            if (repacked) {
                assertThat(r.packsRepacked()).isEqualTo(1);
                assertThat(r.deletedChunks()).isEqualTo(removed);
                assertThat(packs(store)).hasSize(1).doesNotContainKeys(packsBefore.keySet().toArray(String[]::new));
            } else {
                assertThat(r.packsRepacked()).isZero();
                assertThat(r.packsDeleted()).isZero();
                assertThat(r.deletedChunks()).isZero();
                assertThat(packs(store)).as("the pack is kept as it was").isEqualTo(packsBefore);
            }
            assertThat(repo.verify(rest.id(), VerifyLevel.DATA).ok()).isTrue();
            repo.restore(rest.id(), tmp.resolve("restored"), RestoreOptions.defaults());
            assertThat(TestRepos.sameTree(source, tmp.resolve("restored"))).isTrue();
        }
    }

    private static Map<String, Long> packs(LocalBlobStore store) throws IOException {
        try (Stream<BlobInfo> s = store.list("packs")) {
            return s.collect(Collectors.toMap(b -> b.key().toString(), BlobInfo::size));
        }
    }
}
