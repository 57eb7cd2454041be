package io.dr4j.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import io.dr4j.backup.WrongKeyException;
import io.dr4j.storage.BlobInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The backup engine's full cycle (backup, incremental, restore, verify, corruption, wrong key) on S3Proxy. */
class S3RepositoryTest {

    @RegisterExtension
    static final S3ProxyServer server = new S3ProxyServer();

    @TempDir
    Path tmp;

    private static byte[] random(long seed, int size) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void backupRestoreVerifyCycle() throws Exception {
        String bucket = server.newBucket();
        Path ckpt = tmp.resolve("ckpt");
        Path shards = Files.createDirectories(ckpt.resolve("shards"));
        Files.write(shards.resolve("model-00001.safetensors"), random(1, 3 << 20));
        Files.write(shards.resolve("model-00002.safetensors"), random(2, 1 << 20));
        Files.writeString(ckpt.resolve("config.json"), "{\"step\": 1}");
        InitOptions init = InitOptions.defaults().withChunker(new ChunkerParameters(16 << 10, 64 << 10, 256 << 10));
        RepositoryOptions options = RepositoryOptions.builder().noCache().host("s3-test").build();
        KeyProvider key = KeyProvider.rawKey(new byte[32]);
        try (S3BlobStore store = server.storeBuilder(bucket).keyPrefix("dr4j/prod").build();
             Repository repo = Repository.init(store, key, init, options)) {
            Snapshot first = repo.backup(ckpt, BackupOptions.builder().label("step", "1").build());
            byte[] shard = Files.readAllBytes(shards.resolve("model-00001.safetensors"));
            System.arraycopy(random(3, 100_000), 0, shard, 1_234_567, 100_000);
            Files.write(shards.resolve("model-00001.safetensors"), shard);
            Snapshot second = repo.backup(ckpt);
            assertThat(second.parent()).contains(first.id());
            assertThat(second.stats().newBytesStored()).isLessThan(1 << 20);

            Path target = tmp.resolve("restored");
            repo.restore(second.id(), target, RestoreOptions.defaults());
            assertThat(target.resolve("shards/model-00001.safetensors")).hasBinaryContent(shard);
            assertThat(repo.verify(second.id(), VerifyLevel.DATA).ok()).isTrue();

            // damage one stored pack behind dr4j's back, inside a chunk: verify names the pack, restore refuses it
            BlobInfo chunk;
            try (Stream<BlobInfo> chunks = store.list("packs")) {
                chunk = chunks.max(Comparator.comparingLong(BlobInfo::size)).orElseThrow();
            }
            byte[] body = store.getBytes(chunk.key());
            body[body.length / 3] ^= 8;
            store.put(chunk.key(), body);
            VerifyReport report = repo.verify(first.id(), VerifyLevel.DATA);
            assertThat(report.problems()).singleElement().satisfies(p -> assertThat(p.object()).isEqualTo(chunk.key().value()));
            assertThatThrownBy(() -> repo.restore(first.id(), tmp.resolve("bad"), RestoreOptions.defaults()))
                    .isInstanceOf(CorruptObjectException.class).hasMessageContaining(chunk.key().value());
            assertThat(tmp.resolve("bad")).doesNotExist();
        }
        try (S3BlobStore store = server.storeBuilder(bucket).keyPrefix("dr4j/prod").build()) {
            assertThatThrownBy(() -> Repository.open(store, KeyProvider.rawKey(new byte[] {
                    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32}),
                    options)).isInstanceOf(WrongKeyException.class);
            try (Repository reopened = Repository.open(store, key, options)) {
                assertThat(reopened.snapshots()).hasSize(2);
            }
        }
    }

    /**
     * Two writers (separate stores, repositories and host names, as two hosts would be) back up
     * into one S3 repository at once, racing to store the same base weights; then a prune runs.
     * Every snapshot verifies and restores byte for byte before and after.
     */
    @Test
    void twoConcurrentWritersAndAPruneAfterThemLoseNothing() throws Exception {
        String bucket = server.newBucket();
        InitOptions init = InitOptions.defaults().withChunker(new ChunkerParameters(16 << 10, 64 << 10, 256 << 10));
        KeyProvider key = KeyProvider.rawKey(new byte[32]);
        try (S3BlobStore store = server.storeBuilder(bucket).build()) {
            Repository.init(store, key, init, RepositoryOptions.builder().noCache().build()).close();
        }
        byte[] base = random(40, 2 << 20);
        java.util.List<Path> sources = new java.util.ArrayList<>();
        for (int w = 0; w < 2; w++) {
            Path src = Files.createDirectories(tmp.resolve("host-" + w));
            Files.write(src.resolve("base.bin"), base);
            Files.write(src.resolve("delta.bin"), random(41 + w, 1 << 20));
            sources.add(src);
        }
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            java.util.List<java.util.concurrent.Future<Snapshot>> done = new java.util.ArrayList<>();
            for (int w = 0; w < 2; w++) {
                int writer = w;
                done.add(pool.submit(() -> {
                    try (S3BlobStore store = server.storeBuilder(bucket).build();
                         Repository repo = Repository.open(store, key, RepositoryOptions.builder().noCache().host("host-" + writer).build())) {
                        go.await();
                        return repo.backup(sources.get(writer), BackupOptions.builder().tag("w" + writer).build());
                    }
                }));
            }
            go.countDown();
            for (java.util.concurrent.Future<Snapshot> f : done) {
                f.get(2, java.util.concurrent.TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        try (S3BlobStore store = server.storeBuilder(bucket).build();
             Repository repo = Repository.open(store, key, RepositoryOptions.builder().noCache().pruneGracePeriod(java.time.Duration.ZERO)
                     .build())) {
            assertThat(repo.snapshots()).hasSize(2);
            for (Snapshot s : repo.snapshots()) {
                assertThat(repo.verify(s.id(), VerifyLevel.DATA).problems()).isEmpty();
                Path target = tmp.resolve("restore-" + s.host());
                repo.restore(s.id(), target, RestoreOptions.defaults());
                int w = s.host().equals("host-0") ? 0 : 1;
                assertThat(target.resolve("base.bin")).hasBinaryContent(base);
                assertThat(target.resolve("delta.bin")).hasSameBinaryContentAs(sources.get(w).resolve("delta.bin"));
            }
            repo.forget(io.dr4j.backup.RetentionPolicy.builder().keepTags("w1").build(), false);
            repo.prune(false);
            Snapshot left = repo.snapshots().get(0);
            assertThat(left.host()).isEqualTo("host-1");
            assertThat(repo.verify(left.id(), VerifyLevel.DATA).problems()).isEmpty();
            repo.restore(left.id(), tmp.resolve("after-prune"), RestoreOptions.defaults());
            assertThat(tmp.resolve("after-prune/base.bin")).hasBinaryContent(base);
        }
    }
}
