package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.InMemoryBlobStore;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileDumpTest {

    @TempDir
    Path tmp;

    private InMemoryBlobStore backing;
    private RecordingBlobStore store;
    private SnapshotId snapshot;
    private byte[] shard1;
    private byte[] shard3;

    @BeforeEach
    void setUp() throws Exception {
        backing = InMemoryBlobStore.create("mem");
        store = new RecordingBlobStore(backing);
        Path src = Files.createDirectories(tmp.resolve("ckpt/shards"));
        shard1 = TestRepos.random(1, 3 << 20);
        shard3 = TestRepos.random(3, 5 << 20);
        Files.write(src.resolve("model-1.safetensors"), shard1);
        Files.write(src.resolve("model-2.safetensors"), TestRepos.random(2, 3 << 20));
        Files.write(src.resolve("model-3.safetensors"), shard3);
        Files.writeString(tmp.resolve("ckpt/config.json"), "{}");
        Files.write(tmp.resolve("ckpt/empty"), new byte[0]);
        try (Repository repo = Repository.init(store, KeyProvider.rawKey(TestRepos.RAW_KEY),
                TestRepos.init().withPackSize(16 << 20).withCompressionLevel(0),
                // one worker: the files' chunks land in the pack in file order, so how much a ranged
                // dump reads beyond its shard does not depend on thread scheduling
                RepositoryOptions.builder().noCache().workers(1).ioConcurrency(4).inFlightBytes(8 << 20)
                        .host("test-host").storeAttempts(4).build())) {
            snapshot = repo.backup(tmp.resolve("ckpt")).id();
        }
    }

    @Test
    void listsEntriesUnderAPath() {
        try (Repository repo = TestRepos.open(store)) {
            assertThat(repo.listFiles(snapshot, "")).extracting(SnapshotEntry::path)
                    .containsExactly("config.json", "empty", "shards", "shards/model-1.safetensors",
                            "shards/model-2.safetensors", "shards/model-3.safetensors");
            assertThat(repo.listFiles(snapshot, "/shards/")).extracting(SnapshotEntry::path)
                    .containsExactly("shards", "shards/model-1.safetensors", "shards/model-2.safetensors",
                            "shards/model-3.safetensors");
            List<SnapshotEntry> one = repo.listFiles(snapshot, "shards/model-3.safetensors");
            assertThat(one).hasSize(1);
            assertThat(one.get(0).size()).isEqualTo(shard3.length);
            assertThatThrownBy(() -> repo.listFiles(snapshot, "shard")).isInstanceOf(PathNotFoundException.class)
                    .hasMessageContaining("no entry 'shard'");
        }
    }

    @Test
    void dumpsOneShardReadingOnlyItsRangeOfThePack() throws Exception {
        Set<BlobKey> packs;
        try (var listing = backing.list("packs")) {
            packs = listing.map(BlobInfo::key).collect(Collectors.toSet());
        }
        long packBytes = 0;
        for (BlobKey k : packs) {
            packBytes += backing.stat(k).size();
        }
        try (Repository repo = TestRepos.open(store)) {
            store.clear();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            DumpResult r = repo.dump(snapshot, "shards/model-3.safetensors", out);
            assertThat(out.toByteArray()).isEqualTo(shard3);
            assertThat(r.bytes()).isEqualTo(shard3.length);
            long read = store.rangedReads().stream().filter(x -> packs.contains(x.key())).mapToLong(RecordingBlobStore.Read::length).sum();
            assertThat(read).isEqualTo(r.storedBytesRead());
            // the shard's own blobs, their seal overhead and small gaps (other files' chunks interleave
            // with it in the packs), not the 11 MiB of packs
            assertThat(read).isLessThan(shard3.length + shard3.length / 4).isLessThan(packBytes * 2 / 3);
            assertThat(store.wholeReads()).noneMatch(packs::contains);

            Path file = tmp.resolve("out/model-1.safetensors");
            Files.createDirectories(file.getParent());
            repo.dump(snapshot, "shards/model-1.safetensors", file);
            assertThat(Files.readAllBytes(file)).isEqualTo(shard1);
            try (var left = Files.list(file.getParent())) {
                assertThat(left).containsExactly(file);
            }
            ByteArrayOutputStream empty = new ByteArrayOutputStream();
            assertThat(repo.dump(snapshot, "empty", empty).bytes()).isZero();
        }
    }

    @Test
    void aDirectoryOrAMissingPathIsRefused() {
        try (Repository repo = TestRepos.open(store)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertThatThrownBy(() -> repo.dump(snapshot, "shards", out)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("is a directory");
            assertThatThrownBy(() -> repo.dump(snapshot, "shards/model-9.safetensors", out))
                    .isInstanceOf(PathNotFoundException.class).hasMessageContaining("no file 'shards/model-9.safetensors'");
            assertThatThrownBy(() -> repo.dump(snapshot, "", out)).isInstanceOf(PathNotFoundException.class);
            assertThat(out.size()).isZero();
        }
    }

    @Test
    void aCorruptChunkLeavesNoOutputFileAndOnlyAuthenticBytesOnAStream() throws Exception {
        Path file = tmp.resolve("restored.safetensors");
        Files.writeString(file, "the previous content");
        try (Repository repo = TestRepos.open(store)) {
            // find where the shard's data sits: the recorded ranged read of a clean dump
            store.clear();
            repo.dump(snapshot, "shards/model-3.safetensors", new ByteArrayOutputStream());
            RecordingBlobStore.Read range = store.rangedReads().stream().filter(x -> x.key().value().startsWith("packs/"))
                    .filter(x -> x.length() > 1 << 20).findFirst().orElseThrow();
            byte[] pack = backing.getBytes(range.key());
            pack[(int) (range.offset() + range.length() / 2)] ^= 1;
            backing.put(range.key(), pack);

            assertThatThrownBy(() -> repo.dump(snapshot, "shards/model-3.safetensors", file))
                    .isInstanceOf(CorruptObjectException.class);
            assertThat(Files.readString(file)).isEqualTo("the previous content");
            try (var left = Files.list(tmp)) {
                assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains("dr4j-dump"));
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertThatThrownBy(() -> repo.dump(snapshot, "shards/model-3.safetensors", out))
                    .isInstanceOf(CorruptObjectException.class);
            byte[] got = out.toByteArray();
            assertThat(got.length).isLessThan(shard3.length);
            assertThat(got).isEqualTo(Arrays.copyOf(shard3, got.length));
        }
    }
}
