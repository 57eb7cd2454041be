package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backup engine's round trip on one backend: what the local, S3, Azure and replicated
 * repository tests share instead of near-copies (the storage-level twin is {@code BlobStoreContract}).
 *
 * <p>A backend's test extends this class and says how to open a store over a named, initially
 * empty namespace (a directory, a bucket, a container, a set of replicas); it keeps only its
 * backend-specific tests. Each test here opens a fresh namespace and closes every store it opens.
 * Not thread-safe; JUnit runs one instance per test.
 */
public abstract class RepositoryRoundTripContract {

    /** Small chunks so that a few MiB make many chunks and several packs. */
    private static final InitOptions INIT = InitOptions.defaults()
            .withChunker(new ChunkerParameters(16 << 10, 64 << 10, 256 << 10)).withKdf(TestRepos.CHEAP_KDF);
    private static final KeyProvider KEY = KeyProvider.rawKey(TestRepos.RAW_KEY);

    @TempDir
    protected Path tmp;

    private int namespaces;

    /**
     * Opens a new store (a new client, as another process would) over the namespace {@code name},
     * creating the namespace empty when it is first asked for. The caller closes the store.
     */
    protected abstract BlobStore openStore(String name) throws IOException;

    /** Whether two stores over one namespace may back up at once (the store enforces conditional puts). */
    protected boolean supportsConcurrentWriters() {
        return true;
    }

    /** The repository options of one host; a backend may override to tune them (never to weaken the checks). */
    protected RepositoryOptions.Builder options(String host) {
        return RepositoryOptions.builder().noCache().host(host).pruneGracePeriod(Duration.ZERO);
    }

    private String newNamespace() {
        return "repo-" + (++namespaces);
    }

    @Test
    void backupIncrementalRestoreVerifyAndReopen() throws Exception {
        String ns = newNamespace();
        Path ckpt = checkpoint(tmp.resolve("ckpt"));
        Path shard = ckpt.resolve("shards/model-00001.safetensors");
        Snapshot first;
        Snapshot second;
        try (BlobStore store = openStore(ns);
             Repository repo = Repository.init(store, KEY, INIT, options("writer").build())) {
            first = repo.backup(ckpt, BackupOptions.builder().label("step", "1").build());
            byte[] changed = Files.readAllBytes(shard);
            System.arraycopy(TestRepos.random(3, 100_000), 0, changed, 1_234_567, 100_000);
            Files.write(shard, changed);
            second = repo.backup(ckpt);
            assertThat(second.parent()).contains(first.id());
            assertThat(first.stats().newBytesStored()).isGreaterThan(4 << 20);
            assertThat(second.stats().newBytesStored()).as("an incremental stores only chunks near the change")
                    .isLessThan(1 << 20);

            Path target = tmp.resolve("restored");
            repo.restore(second.id(), target, RestoreOptions.defaults());
            assertThat(TestRepos.sameTree(ckpt, target)).isTrue();
            assertThat(repo.verify(second.id(), VerifyLevel.DATA).problems()).isEmpty();
        }
        try (BlobStore store = openStore(ns)) {
            byte[] other = new byte[32];
            other[0] = 1;
            assertThatThrownBy(() -> Repository.open(store, KeyProvider.rawKey(other), options("reader").build()))
                    .isInstanceOf(WrongKeyException.class);
            try (Repository reopened = Repository.open(store, KEY, options("reader").build())) {
                assertThat(reopened.snapshots()).extracting(Snapshot::id).containsExactlyInAnyOrder(first.id(), second.id());
                assertThat(reopened.snapshots()).filteredOn(s -> s.id().equals(first.id()))
                        .singleElement().satisfies(s -> assertThat(s.labels()).containsEntry("step", "1"));
                Path again = tmp.resolve("restored-first");
                reopened.restore(first.id(), again, RestoreOptions.defaults());
                assertThat(again.resolve("shards/model-00002.safetensors"))
                        .hasSameBinaryContentAs(ckpt.resolve("shards/model-00002.safetensors"));
                assertThat(reopened.verify(first.id(), VerifyLevel.DATA).problems()).isEmpty();
            }
        }
    }

    @Test
    void tamperedPackIsNamedByVerifyAndRefusedByRestore() throws Exception {
        String ns = newNamespace();
        Path ckpt = checkpoint(tmp.resolve("ckpt"));
        try (BlobStore store = openStore(ns);
             Repository repo = Repository.init(store, KEY, INIT, options("writer").build())) {
            Snapshot s = repo.backup(ckpt);
            // damage the largest pack behind dr4j's back, inside a chunk
            BlobInfo pack;
            try (Stream<BlobInfo> packs = store.list("packs")) {
                pack = packs.max(Comparator.comparingLong(BlobInfo::size)).orElseThrow();
            }
            byte[] body = store.getBytes(pack.key());
            body[body.length / 3] ^= 8;
            store.put(pack.key(), body);
            try (BlobStore fresh = openStore(ns);
                 Repository reader = Repository.open(fresh, KEY, options("reader").build())) {
                VerifyReport report = reader.verify(s.id(), VerifyLevel.DATA);
                assertThat(report.ok()).isFalse();
                assertThat(report.problems()).singleElement()
                        .satisfies(p -> assertThat(p.object()).isEqualTo(pack.key().value()));
                assertThatThrownBy(() -> reader.restore(s.id(), tmp.resolve("bad"), RestoreOptions.defaults()))
                        .isInstanceOf(CorruptObjectException.class).hasMessageContaining(pack.key().value());
                assertThat(tmp.resolve("bad")).doesNotExist();
            }
        }
    }

    @Test
    void forgetAndPruneReclaimOnlyWhatNoKeptSnapshotNeeds() throws Exception {
        String ns = newNamespace();
        Path ckpt = checkpoint(tmp.resolve("ckpt"));
        try (BlobStore store = openStore(ns);
             // Threshold 0: every pack with dead bytes is repacked. Which packs the old shard's chunks
             // land in depends on thread scheduling, so with the default 0.2 they may all stay.
             Repository repo = Repository.init(store, KEY, INIT, options("writer").repackThreshold(0).build())) {
            Snapshot old = repo.backup(ckpt, BackupOptions.builder().tag("old").build());
            Files.write(ckpt.resolve("shards/model-00002.safetensors"), TestRepos.random(77, 1 << 20));
            Snapshot kept = repo.backup(ckpt, BackupOptions.builder().tag("kept").build());
            long before = packBytes(store);

            assertThat(repo.forget(RetentionPolicy.builder().keepTags("kept").build(), false).removed())
                    .extracting(Snapshot::id).containsExactly(old.id());
            repo.prune(false);

            assertThat(packBytes(store)).as("the old shard's chunks are reclaimed").isLessThan(before - (512 << 10));
            assertThat(repo.snapshots()).extracting(Snapshot::id).containsExactly(kept.id());
            assertThat(repo.verify(kept.id(), VerifyLevel.DATA).problems()).isEmpty();
            repo.restore(kept.id(), tmp.resolve("restored"), RestoreOptions.defaults());
            assertThat(TestRepos.sameTree(ckpt, tmp.resolve("restored"))).isTrue();
        }
    }

    /**
     * Two writers (separate stores, repositories and host names, as two hosts would be) back up
     * into one repository at once, racing to store the same base weights; then a prune runs.
     * Every snapshot verifies and restores byte for byte before and after.
     */
    @Test
    void twoConcurrentWritersAndAPruneAfterThemLoseNothing() throws Exception {
        Assumptions.assumeTrue(supportsConcurrentWriters(), "the backend does not support concurrent writers");
        String ns = newNamespace();
        try (BlobStore store = openStore(ns)) {
            Repository.init(store, KEY, INIT, options("init").build()).close();
        }
        byte[] base = TestRepos.random(40, 2 << 20);
        List<Path> sources = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            Path src = Files.createDirectories(tmp.resolve("host-" + w));
            Files.write(src.resolve("base.bin"), base);
            Files.write(src.resolve("delta.bin"), TestRepos.random(41 + w, 1 << 20));
            sources.add(src);
        }
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Snapshot>> done = new ArrayList<>();
            for (int w = 0; w < 2; w++) {
                int writer = w;
                done.add(pool.submit(() -> {
                    try (BlobStore store = openStore(ns);
                         Repository repo = Repository.open(store, KEY, options("host-" + writer).build())) {
                        go.await();
                        return repo.backup(sources.get(writer), BackupOptions.builder().tag("w" + writer).build());
                    }
                }));
            }
            go.countDown();
            for (Future<Snapshot> f : done) {
                f.get(2, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        try (BlobStore store = openStore(ns);
             Repository repo = Repository.open(store, KEY, options("pruner").build())) {
            assertThat(repo.snapshots()).hasSize(2);
            for (Snapshot s : repo.snapshots()) {
                assertThat(repo.verify(s.id(), VerifyLevel.DATA).problems()).isEmpty();
                Path target = tmp.resolve("restore-" + s.host());
                repo.restore(s.id(), target, RestoreOptions.defaults());
                int w = s.host().equals("host-0") ? 0 : 1;
                assertThat(target.resolve("base.bin")).hasBinaryContent(base);
                assertThat(target.resolve("delta.bin")).hasSameBinaryContentAs(sources.get(w).resolve("delta.bin"));
            }
            repo.forget(RetentionPolicy.builder().keepTags("w1").build(), false);
            repo.prune(false);
            Snapshot left = repo.snapshots().get(0);
            assertThat(left.host()).isEqualTo("host-1");
            assertThat(repo.verify(left.id(), VerifyLevel.DATA).problems()).isEmpty();
            repo.restore(left.id(), tmp.resolve("after-prune"), RestoreOptions.defaults());
            assertThat(tmp.resolve("after-prune/base.bin")).hasBinaryContent(base);
        }
    }

    /** Two shards (3 MiB and 1 MiB), a config, an empty file and an empty directory. */
    private static Path checkpoint(Path dir) throws IOException {
        Files.createDirectories(dir.resolve("shards"));
        Files.createDirectories(dir.resolve("empty-dir"));
        Files.write(dir.resolve("shards/model-00001.safetensors"), TestRepos.random(1, 3 << 20));
        Files.write(dir.resolve("shards/model-00002.safetensors"), TestRepos.random(2, 1 << 20));
        Files.writeString(dir.resolve("config.json"), "{\"step\": 1}");
        Files.write(dir.resolve("empty.bin"), new byte[0]);
        return dir;
    }

    private static long packBytes(BlobStore store) throws IOException {
        try (Stream<BlobInfo> packs = store.list("packs")) {
            return packs.mapToLong(BlobInfo::size).sum();
        }
    }
}
