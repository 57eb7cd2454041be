package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;

import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.LocalBlobStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The local cache (issue 12): cached index files and snapshot summaries spare a run from reading
 * the store, and a missing or damaged cache is rebuilt from the store, never trusted blindly: the
 * next backup deduplicates exactly as against the store's own index files, the next restore is
 * whole, and the cache entry ends byte-equal to the store's object. A backup finds its parent
 * from the catalog: with many snapshots in the repository it reads one manifest, not all.
 */
class IndexCacheTest {

    @TempDir
    Path tmp;

    private LocalBlobStore store;
    private Path cache;
    private Path source;

    /** Ways a cached index file can go wrong. */
    enum Damage {
        FLIPPED_BIT, TRUNCATED, EMPTY, DELETED, ANOTHER_INDEX_FILES_BYTES, GARBAGE, DIRECTORY_IN_ITS_PLACE
    }

    @BeforeEach
    void setUp() throws IOException {
        store = LocalBlobStore.open(tmp.resolve("repo"));
        cache = tmp.resolve("cache");
        try (Repository repo = Repository.init(store, KeyProvider.rawKey(TestRepos.RAW_KEY), TestRepos.init(), options(cache))) {
            source = TestRepos.checkpoint(tmp.resolve("ckpt"), 5);
            repo.backup(source);
            // a second index file, from another checkpoint
            repo.backup(TestRepos.checkpoint(tmp.resolve("other"), 6));
        }
    }

    private static RepositoryOptions options(Path cache) {
        return RepositoryOptions.builder().cacheDirectory(cache).workers(2).ioConcurrency(4).inFlightBytes(8 << 20)
                .host("test-host").pruneGracePeriod(Duration.ZERO).storeAttempts(4).build();
    }

    private Repository open(RecordingBlobStore through) {
        return Repository.open(through, KeyProvider.rawKey(TestRepos.RAW_KEY), options(cache));
    }

    private List<BlobKey> storeKeys(String prefix) throws IOException {
        try (Stream<BlobInfo> s = store.list(prefix)) {
            return new ArrayList<>(s.map(BlobInfo::key).sorted(java.util.Comparator.comparing(BlobKey::value)).toList());
        }
    }

    private Path cached(String repoId, String kind, BlobKey key) {
        return cache.resolve(repoId).resolve(kind).resolve(key.name());
    }

    @Test
    void cachedIndexFilesSpareTheStoreReads() throws IOException {
        RecordingBlobStore recording = new RecordingBlobStore(store);
        try (Repository repo = open(recording)) {
            recording.clear();
            Snapshot again = repo.backup(source, BackupOptions.builder().rereadUnchanged(true).build());
            assertThat(again.stats().newChunks()).isZero();
        }
        assertThat(recording.wholeReads()).noneMatch(k -> k.value().startsWith("index/"));
    }

    @ParameterizedTest
    @EnumSource(Damage.class)
    void aDamagedCachedIndexFileIsRebuiltFromTheStoreAndNeverTrusted(Damage damage) throws IOException {
        List<BlobKey> indexFiles = storeKeys("index");
        assertThat(indexFiles).hasSizeGreaterThanOrEqualTo(2);
        BlobKey victim = indexFiles.get(0);
        String repoId = RepositoryConfig.fromJson(store.getBytes(BlobKey.of("config")), "config").id();
        RecordingBlobStore recording = new RecordingBlobStore(store);
        Path entry = cached(repoId, "index", victim);
        byte[] good = Files.readAllBytes(entry);
        assertThat(good).isEqualTo(store.getBytes(victim));
        damage(damage, entry, good, Files.readAllBytes(cached(repoId, "index", indexFiles.get(1))));

        Path changed = TestRepos.checkpoint(tmp.resolve("changed"), 5);
        Files.write(changed.resolve("shards/model-00003.safetensors"), TestRepos.random(55, 200_000));
        try (Repository repo = open(recording)) {
            recording.clear();
            Snapshot again = repo.backup(source, BackupOptions.builder().rereadUnchanged(true).build());
            assertThat(again.stats().newChunks()).as("every chunk known, as in the store's index files").isZero();
            assertThat(recording.wholeReads()).as("only the damaged entry is read from the store")
                    .filteredOn(k -> k.value().startsWith("index/")).containsExactly(victim);
            if (damage == Damage.DIRECTORY_IN_ITS_PLACE) {
                Files.delete(entry); // the cache could not be written over it; the run did not depend on it
            }
            Snapshot next = repo.backup(changed);
            assertThat(next.stats().newChunks()).isPositive();
            assertThat(repo.verify(next.id(), VerifyLevel.DATA).ok()).isTrue();
            repo.restore(next.id(), tmp.resolve("restored"), RestoreOptions.defaults());
            assertThat(TestRepos.sameTree(changed, tmp.resolve("restored"))).isTrue();
            repo.restore(again.id(), tmp.resolve("again"), RestoreOptions.defaults());
            assertThat(TestRepos.sameTree(source, tmp.resolve("again"))).isTrue();
        }
        assertThat(entry).as("the cache entry rebuilt").isRegularFile();
        assertThat(Files.readAllBytes(entry)).as("the cache entry rebuilt").isEqualTo(store.getBytes(victim));
        for (BlobKey key : storeKeys("index")) {
            assertThat(Files.readAllBytes(cached(repoId, "index", key))).isEqualTo(store.getBytes(key));
        }
    }

    private static void damage(Damage damage, Path entry, byte[] good, byte[] another) throws IOException {
        switch (damage) {
            case FLIPPED_BIT -> {
                byte[] b = good.clone();
                b[b.length / 2] ^= 0x10;
                Files.write(entry, b);
            }
            case TRUNCATED -> Files.write(entry, Arrays.copyOf(good, good.length - 17));
            case EMPTY -> Files.write(entry, new byte[0]);
            case DELETED -> Files.delete(entry);
            case ANOTHER_INDEX_FILES_BYTES -> Files.write(entry, another);
            case GARBAGE -> Files.write(entry, TestRepos.random(1, good.length));
            case DIRECTORY_IN_ITS_PLACE -> {
                Files.delete(entry);
                Files.createDirectory(entry);
            }
        }
    }

    @Test
    void aBackupFindsItsParentByReadingOneManifestNotAll() throws IOException {
        int n = 6;
        List<Path> sources = new ArrayList<>();
        try (Repository repo = Repository.open(store, KeyProvider.rawKey(TestRepos.RAW_KEY), options(cache))) {
            for (int i = 0; i < n; i++) {
                sources.add(TestRepos.checkpoint(tmp.resolve("set-" + i), 100 + i));
                repo.backup(sources.get(i));
            }
        }
        int snapshots = storeKeys("snapshots").size();
        assertThat(snapshots).isEqualTo(n + 2);

        RecordingBlobStore recording = new RecordingBlobStore(store);
        try (Repository repo = open(recording)) {
            Snapshot parent = repo.snapshots().stream().filter(s -> s.source().equals(sources.get(3).toString())).findFirst()
                    .orElseThrow();
            recording.clear();
            Snapshot child = repo.backup(sources.get(3));
            assertThat(child.parent()).contains(parent.id());
            assertThat(manifestReads(recording)).as("manifests read to find the parent among %d", snapshots)
                    .containsExactly(ManifestStore.key(parent.id()));
        }

        // a client without the catalog reads every manifest once, then no more
        cache = tmp.resolve("fresh-cache");
        try (Repository repo = open(recording)) {
            recording.clear();
            repo.backup(sources.get(1));
            assertThat(manifestReads(recording)).hasSizeGreaterThanOrEqualTo(snapshots + 1);
            recording.clear();
            repo.backup(sources.get(2));
            assertThat(manifestReads(recording)).hasSize(1);
        }
    }

    private static List<BlobKey> manifestReads(RecordingBlobStore recording) {
        return recording.wholeReads().stream().filter(k -> k.value().startsWith("snapshots/")).toList();
    }
}
