package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.storage.InMemoryBlobStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExcludesTest {

    @TempDir
    Path tmp;

    private Path checkpoint() throws Exception {
        Path src = TestRepos.checkpoint(tmp.resolve("src"), 1);
        Files.createDirectories(src.resolve("optimizer/rank0"));
        Files.write(src.resolve("optimizer/rank0/state.pt"), TestRepos.random(2, 50_000));
        Files.write(src.resolve("shards/model.tmp"), TestRepos.random(3, 1000));
        return src;
    }

    @Test
    void excludedPathsAreNeitherReadNorRestoredAndThePatternsAreRecorded() throws Exception {
        Path src = checkpoint();
        InMemoryBlobStore store = InMemoryBlobStore.create("ex");
        Snapshot s;
        try (Repository repo = TestRepos.create(store)) {
            s = repo.backup(src, BackupOptions.builder().exclude("optimizer/").exclude("*.tmp").build());
            assertThat(s.excludes()).containsExactly("optimizer/", "*.tmp");
            assertThat(s.entries()).extracting(SnapshotEntry::path)
                    .doesNotContain("optimizer", "optimizer/rank0", "optimizer/rank0/state.pt", "shards/model.tmp")
                    .contains("shards/model-00001.safetensors", "config.json");
            repo.restore(s.id(), tmp.resolve("out"), RestoreOptions.defaults());
        }
        Map<String, byte[]> restored = TestRepos.contents(tmp.resolve("out"));
        assertThat(restored).doesNotContainKeys("optimizer", "shards/model.tmp").containsKey("shards/model-00002.safetensors");
        try (Repository again = TestRepos.open(store)) { // read back from the sealed manifest, no cache
            assertThat(again.snapshot(s.id()).excludes()).containsExactly("optimizer/", "*.tmp");
            assertThat(again.snapshots().get(0).excludes()).containsExactly("optimizer/", "*.tmp");
        }
    }

    @Test
    void excludesThatMatchEveryFileAreRefusedAndWriteNothingUnlessAllowed() throws Exception {
        Path src = checkpoint();
        InMemoryBlobStore store = InMemoryBlobStore.create("ex");
        try (Repository repo = TestRepos.create(store)) {
            long objectsBefore = store.list("").count();
            assertThatThrownBy(() -> repo.backup(src, BackupOptions.builder().exclude("**").build()))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("match every file of " + src)
                    .hasMessageContaining("--allow-empty");
            assertThatThrownBy(() -> repo.backup(src, BackupOptions.builder().exclude("*").build()))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThat(repo.snapshots()).isEmpty();
            assertThat(store.list("packs").count()).isZero();
            assertThat(store.list("").count()).isEqualTo(objectsBefore);

            Snapshot empty = repo.backup(src, BackupOptions.builder().exclude("**").allowEmpty(true).build());
            assertThat(empty.files()).isEmpty();
            assertThat(empty.excludes()).containsExactly("**");
        }
    }

    @Test
    void anEmptySourceWithoutExcludesStillBacksUp() throws Exception {
        Files.createDirectories(tmp.resolve("empty"));
        try (Repository repo = TestRepos.create(InMemoryBlobStore.create("ex"))) {
            assertThat(repo.backup(tmp.resolve("empty"), BackupOptions.builder().exclude("*.tmp").build()).files()).isEmpty();
        }
    }

    @Test
    void aBadPatternIsRefusedWhenTheOptionsAreBuilt() {
        assertThatThrownBy(() -> BackupOptions.builder().exclude("../secrets"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'../secrets'");
        assertThatThrownBy(() -> new BackupOptions(java.util.Set.of(), Map.of(), java.util.Optional.empty(), false,
                ProgressListener.NONE, new CancellationToken(), List.of(""), false))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
