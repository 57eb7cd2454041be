package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.LocalBlobStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code dr4j.repository.*} meters against a real local repository: each value equals the
 * figure of the operation's result object, failures are counted by exception, and nothing is
 * registered anywhere without a registry.
 */
class RepositoryMetricsTest {

    @TempDir
    Path tmp;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private LocalBlobStore store;
    private Repository repo;

    private static RepositoryOptions.Builder options() {
        return RepositoryOptions.builder().noCache().workers(2).ioConcurrency(4).inFlightBytes(8 << 20)
                .host("test-host").pruneGracePeriod(Duration.ZERO).storeAttempts(1);
    }

    @BeforeEach
    void setUp() throws IOException {
        store = LocalBlobStore.builder(tmp.resolve("repo")).build();
        repo = Repository.init(store, KeyProvider.rawKey(TestRepos.RAW_KEY), TestRepos.init(),
                options().meterRegistry(registry).build());
    }

    @AfterEach
    void tearDown() {
        repo.close();
    }

    private double counter(String name, String operation) {
        Counter c = registry.find(name).tag("repository", repo.id()).tag("store", store.name()).tag("operation", operation)
                .counter();
        assertThat(c).as(name + "{operation=" + operation + "}").isNotNull();
        return c.count();
    }

    private Timer timer(String operation, String outcome) {
        return registry.find(RepositoryMetrics.OPERATION).tag("repository", repo.id()).tag("store", store.name())
                .tag("operation", operation).tag("outcome", outcome).timer();
    }

    private double failures(String operation, String exception) {
        Counter c = registry.find(RepositoryMetrics.FAILURES).tag("operation", operation).tag("exception", exception).counter();
        return c == null ? 0 : c.count();
    }

    /** The largest pack: its middle byte is in a blob (a small pack's may be in its header, which a restore does not read). */
    private BlobKey largestPack() throws IOException {
        try (Stream<BlobInfo> packs = store.list("packs")) {
            return packs.max(java.util.Comparator.comparingLong(BlobInfo::size)).orElseThrow().key();
        }
    }

    @Test
    void backupsPublishTheirDurationBytesAndChunksAsTheirSnapshotStatsGiveThem() throws IOException {
        Path src = TestRepos.checkpoint(tmp.resolve("ckpt"), 1);
        long before = System.nanoTime();
        SnapshotStats first = repo.backup(src).stats();
        Files.write(src.resolve("shards/model-00002.safetensors"), TestRepos.random(99, 180_123));
        SnapshotStats second = repo.backup(src, BackupOptions.builder().rereadUnchanged(true).build()).stats();
        long elapsed = System.nanoTime() - before;
        assertThat(second.reusedChunks()).isPositive();
        assertThat(second.newChunks()).isPositive();

        assertThat(counter(RepositoryMetrics.BYTES_READ, "backup")).isEqualTo(first.bytesRead() + second.bytesRead());
        assertThat(counter(RepositoryMetrics.BYTES_STORED, "backup")).isEqualTo(first.newBytesStored() + second.newBytesStored());
        assertThat(counter(RepositoryMetrics.CHUNKS_NEW, "backup")).isEqualTo(first.newChunks() + second.newChunks());
        assertThat(counter(RepositoryMetrics.CHUNKS_REUSED, "backup")).isEqualTo(first.reusedChunks() + second.reusedChunks());
        Timer t = timer("backup", "success");
        assertThat(t.count()).isEqualTo(2);
        assertThat(t.totalTime(TimeUnit.NANOSECONDS)).isGreaterThanOrEqualTo(first.duration().plus(second.duration()).toNanos())
                .isLessThanOrEqualTo(elapsed);
        assertThat(registry.find(RepositoryMetrics.BYTES_READ).counter().getId().getBaseUnit()).isEqualTo("bytes");
    }

    @Test
    void restoresAndVerifiesPublishTheFiguresOfTheirResults() throws IOException {
        Snapshot s = repo.backup(TestRepos.checkpoint(tmp.resolve("ckpt"), 2));
        RestoreResult restored = repo.restore(s.id(), tmp.resolve("target"), RestoreOptions.defaults());
        RestoreResult delta = repo.restore(s.id(), tmp.resolve("target"),
                RestoreOptions.builder().replaceExisting(true).delta(true).build());
        assertThat(delta.bytesReused()).isPositive();
        assertThat(counter(RepositoryMetrics.BYTES_READ, "restore")).isEqualTo(restored.bytesDownloaded() + delta.bytesDownloaded());
        assertThat(counter(RepositoryMetrics.BYTES_RESTORED, "restore")).isEqualTo(restored.bytes() + delta.bytes());
        assertThat(counter(RepositoryMetrics.BYTES_REUSED, "restore")).isEqualTo(restored.bytesReused() + delta.bytesReused());
        assertThat(timer("restore", "success").count()).isEqualTo(2);

        VerifyReport data = repo.verify(s.id(), VerifyLevel.DATA);
        VerifyReport metadata = repo.verify(s.id(), VerifyLevel.METADATA);
        assertThat(data.storedBytesRead()).isPositive();
        assertThat(counter(RepositoryMetrics.BYTES_READ, "verify")).isEqualTo(data.storedBytesRead() + metadata.storedBytesRead());
        assertThat(counter(RepositoryMetrics.CHUNKS_CHECKED, "verify")).isEqualTo(data.chunksChecked() + metadata.chunksChecked());
        assertThat(counter(RepositoryMetrics.PROBLEMS, "verify")).isZero();
        assertThat(timer("verify", "success").count()).isEqualTo(2);
    }

    @Test
    void aCorruptPackCountsARestoreFailureByExceptionAndAVerifyWithProblems() throws IOException {
        Snapshot s = repo.backup(TestRepos.checkpoint(tmp.resolve("ckpt"), 3));
        BlobKey pack = largestPack();
        byte[] body = store.getBytes(pack);
        body[body.length / 2] ^= 0x10;
        store.put(pack, body);

        assertThatThrownBy(() -> repo.restore(s.id(), tmp.resolve("never"), RestoreOptions.defaults()))
                .isInstanceOf(CorruptObjectException.class);
        assertThat(failures("restore", "CorruptObjectException")).isEqualTo(1);
        assertThat(timer("restore", "failure").count()).isEqualTo(1);
        assertThat(timer("restore", "success")).isNull();
        assertThat(registry.find(RepositoryMetrics.BYTES_RESTORED).counter()).as("no figures without a result").isNull();

        VerifyReport report = repo.verify(s.id(), VerifyLevel.DATA);
        assertThat(report.ok()).isFalse();
        assertThat(timer("verify", "problems").count()).isEqualTo(1);
        assertThat(counter(RepositoryMetrics.PROBLEMS, "verify")).isEqualTo(report.problems().size());

        assertThatThrownBy(() -> repo.restore(SnapshotId.of("00000000000000000000000000000000"), tmp.resolve("never"),
                RestoreOptions.defaults())).isInstanceOf(SnapshotNotFoundException.class);
        assertThat(failures("restore", "SnapshotNotFoundException")).isEqualTo(1);
        assertThat(failures("restore", "CorruptObjectException")).isEqualTo(1);
    }

    @Test
    void aFailedOrCancelledBackupIsTimedUnderItsOutcomeAndOnlyTheFailureCounts() throws IOException {
        assertThatThrownBy(() -> repo.backup(tmp.resolve("no-such-dir"))).isInstanceOf(RuntimeException.class);
        assertThat(timer("backup", "failure").count()).isEqualTo(1);
        assertThat(registry.find(RepositoryMetrics.FAILURES).tag("operation", "backup").counters())
                .singleElement().satisfies(c -> assertThat(c.count()).isEqualTo(1));

        CancellationToken token = new CancellationToken();
        token.cancel();
        Path src = TestRepos.checkpoint(tmp.resolve("ckpt"), 4);
        assertThatThrownBy(() -> repo.backup(src, BackupOptions.builder().cancellation(token).build()))
                .isInstanceOf(OperationCancelledException.class);
        assertThat(timer("backup", "cancelled").count()).isEqualTo(1);
        assertThat(failures("backup", "OperationCancelledException")).isZero();
        assertThat(registry.find(RepositoryMetrics.BYTES_READ).counter()).isNull();
    }

    @Test
    void prunePublishesWhatItDeletedAndADryRunNothing() throws IOException {
        Path src = TestRepos.checkpoint(tmp.resolve("ckpt"), 5);
        Snapshot old = repo.backup(src);
        Files.write(src.resolve("shards/model-00001.safetensors"), TestRepos.random(77, 300_000));
        repo.backup(src);
        store.delete(BlobKey.of("snapshots/" + old.id().value()));

        PruneResult dry = repo.prune(true);
        assertThat(dry.deletedChunks()).isPositive();
        assertThat(registry.find(RepositoryMetrics.OPERATION).tag("operation", "prune").timers()).isEmpty();

        PruneResult pruned = repo.prune(false);
        assertThat(pruned.deletedChunks()).isPositive();
        assertThat(pruned.deletedBytes()).isPositive();
        assertThat(counter(RepositoryMetrics.CHUNKS_DELETED, "prune")).isEqualTo(pruned.deletedChunks());
        assertThat(counter(RepositoryMetrics.BYTES_DELETED, "prune")).isEqualTo(pruned.deletedBytes());
        assertThat(timer("prune", "success").count()).isEqualTo(1);
    }

    @Test
    void copyPublishesItsFiguresOnTheSourceRepository() throws IOException {
        repo.backup(TestRepos.checkpoint(tmp.resolve("ckpt"), 6));
        try (Repository dest = Repository.init(LocalBlobStore.builder(tmp.resolve("dest")).build(),
                KeyProvider.rawKey(TestRepos.random(8, 32)), TestRepos.init(), TestRepos.options())) {
            CopyResult r = repo.copyTo(dest, SnapshotFilter.ALL, CopyOptions.defaults());
            assertThat(r.chunksCopied()).isPositive();
            assertThat(counter(RepositoryMetrics.BYTES_READ, "copy")).isEqualTo(r.bytesRead());
            assertThat(counter(RepositoryMetrics.BYTES_STORED, "copy")).isEqualTo(r.bytesWritten());
            assertThat(counter(RepositoryMetrics.CHUNKS_NEW, "copy")).isEqualTo(r.chunksCopied());
            assertThat(counter(RepositoryMetrics.CHUNKS_REUSED, "copy")).isEqualTo(r.chunksPresent() + r.chunksSkipped());
            assertThat(timer("copy", "success").count()).isEqualTo(1);

            assertThatThrownBy(() -> repo.copyTo(repo, List.of(r.copied().get(0)), CopyOptions.defaults()))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThat(failures("copy", "IllegalArgumentException")).isEqualTo(1);
        }
    }

    @Test
    void withoutARegistryNothingIsRegisteredAnywhere() throws IOException {
        assertThat(RepositoryOptions.defaults().meterRegistry()).isEmpty();
        SimpleMeterRegistry global = new SimpleMeterRegistry();
        Metrics.addRegistry(global);
        try (Repository plain = Repository.init(LocalBlobStore.builder(tmp.resolve("plain")).build(),
                KeyProvider.rawKey(TestRepos.RAW_KEY), TestRepos.init(), options().build())) {
            Snapshot s = plain.backup(TestRepos.checkpoint(tmp.resolve("ckpt"), 7));
            plain.restore(s.id(), tmp.resolve("target"), RestoreOptions.defaults());
            plain.verify(s.id(), VerifyLevel.DATA);
            plain.prune(false);
            assertThatThrownBy(() -> plain.restore(s.id(), tmp.resolve("target"), RestoreOptions.defaults()))
                    .isInstanceOf(RestoreTargetException.class);
        } finally {
            Metrics.removeRegistry(global);
        }
        List<Meter> dr4j = Stream.concat(global.getMeters().stream(), registry.getMeters().stream())
                .filter(m -> m.getId().getName().startsWith("dr4j.")).toList();
        assertThat(dr4j).isEmpty();
    }
}
