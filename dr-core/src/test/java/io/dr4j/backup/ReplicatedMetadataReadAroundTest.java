package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.replication.ReplicatedBlobStore;
import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.LocalBlobStore;
import io.dr4j.storage.RejectedBlobException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The small whole objects of a repository (manifests, index files, the config) are read through
 * {@link io.dr4j.storage.BlobStore#getBytesVerified} with the engine's own authentication as the
 * check: over a {@link ReplicatedBlobStore} of two local stores, a damaged copy on the preferred
 * replica is read around (snapshots, restore and verify succeed with the right bytes) and then
 * repaired; when both copies are damaged, the error names the object and says why, and no bytes
 * of it are used.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ReplicatedMetadataReadAroundTest {

    @TempDir
    Path tmp;

    private LocalBlobStore a;
    private LocalBlobStore b;
    private Path source;
    private SnapshotId snapshot;

    private LocalBlobStore local(String name) throws IOException {
        return LocalBlobStore.builder(tmp.resolve(name)).sync(false).build();
    }

    /**
     * Replicas a (read first, priority 0) and b, both taking every write (W = 2 of 2). Its own
     * member instances, which it closes: the test reads and damages the replicas through
     * {@link #a} and {@link #b}.
     */
    private ReplicatedBlobStore replicated() throws IOException {
        return ReplicatedBlobStore.builder().member("a", local("a"), 0).member("b", local("b"), 1).writeQuorum(2)
                .repairLog(local("log")).tempDirectory(tmp).build();
    }

    @BeforeEach
    void backedUp() throws Exception {
        a = local("a");
        b = local("b");
        source = TestRepos.checkpoint(tmp.resolve("ckpt"), 61);
        try (ReplicatedBlobStore store = replicated(); Repository repo = TestRepos.create(store)) {
            snapshot = repo.backup(source).id();
            assertThat(store.awaitBackground(Duration.ofSeconds(30))).isTrue();
        }
    }

    private static List<BlobKey> keys(LocalBlobStore store, String prefix) throws IOException {
        try (Stream<BlobInfo> listing = store.list(prefix)) {
            return listing.map(BlobInfo::key).toList();
        }
    }

    /** Flips a byte in the middle of each object: bit rot inside the sealed body. */
    private static void damage(LocalBlobStore store, List<BlobKey> objects) throws IOException {
        for (BlobKey key : objects) {
            byte[] body = store.getBytes(key);
            body[body.length / 2] ^= 0x20;
            store.put(key, body);
        }
    }

    /** Opens the repository over both replicas, and lists, restores and verifies the snapshot; then waits for read repair. */
    private void readEverything() throws Exception {
        try (ReplicatedBlobStore store = replicated(); Repository repo = TestRepos.open(store)) {
            assertThat(repo.snapshots()).extracting(Snapshot::id).containsExactly(snapshot);
            Path restored = tmp.resolve("restored");
            repo.restore(snapshot, restored, RestoreOptions.defaults());
            assertThat(TestRepos.sameTree(source, restored)).isTrue();
            assertThat(repo.verify(snapshot, VerifyLevel.DATA).problems()).isEmpty();
            assertThat(store.awaitBackground(Duration.ofSeconds(30))).isTrue();
        }
    }

    private void assertRepaired(List<BlobKey> objects) throws IOException {
        assertThat(objects).isNotEmpty();
        for (BlobKey key : objects) {
            assertThat(a.getBytes(key)).as("replica a's copy of %s, repaired from b", key).isEqualTo(b.getBytes(key));
        }
    }

    @Test
    void aDamagedManifestCopyIsReadAroundAndRepaired() throws Exception {
        List<BlobKey> manifests = keys(a, "snapshots");
        damage(a, manifests);
        readEverything();
        assertRepaired(manifests);
    }

    @Test
    void aDamagedIndexFileCopyIsReadAroundAndRepaired() throws Exception {
        List<BlobKey> indexFiles = keys(a, "index");
        damage(a, indexFiles);
        readEverything();
        assertRepaired(indexFiles);
    }

    @Test
    void aDamagedConfigCopyIsReadAroundAndRepaired() throws Exception {
        BlobKey config = BlobKey.of("config");
        byte[] good = a.getBytes(config);
        a.put(config, Arrays.copyOf(good, good.length / 2)); // a torn or truncated copy
        readEverything();
        assertRepaired(List.of(config));
    }

    @Test
    void aNewerConfigOnOneReplicaIsRefusedAndNeverRolledBackFromTheOlderCopy() throws Exception {
        BlobKey config = BlobKey.of("config");
        String current = new String(a.getBytes(config), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(current).contains("\"version\" : 2,");
        // a genuine config of a later dr4j version, written whole to the replica read first
        byte[] newer = current.replace("\"version\" : 2,", "\"version\" : 3,").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        a.put(config, newer);

        try (ReplicatedBlobStore store = replicated()) {
            assertThatThrownBy(() -> TestRepos.open(store)).isInstanceOf(UnsupportedFormatException.class)
                    .hasMessageContaining("version 3").hasMessageContaining("upgrade dr4j");
            assertThat(store.awaitBackground(Duration.ofSeconds(30))).isTrue();
        }
        // read repair did not copy b's older config over it: this reader cannot use it, but it is not damaged
        assertThat(a.getBytes(config)).isEqualTo(newer);
    }

    @Test
    void aManifestDamagedOnBothReplicasIsNamedAsFailingAuthentication() throws Exception {
        List<BlobKey> manifests = keys(a, "snapshots");
        damage(a, manifests);
        damage(b, manifests);
        try (ReplicatedBlobStore store = replicated(); Repository repo = TestRepos.open(store)) {
            assertThatThrownBy(() -> repo.snapshot(snapshot)).isInstanceOf(CorruptObjectException.class)
                    .hasMessageContaining("snapshots/" + snapshot.value()).hasMessageContaining("failed authentication")
                    // the store's account of each copy rides along: found, but rejected (not "not found")
                    .satisfies(e -> assertThat(e.getSuppressed()).singleElement()
                            .isInstanceOf(RejectedBlobException.class)
                            .extracting(Throwable::getMessage).asString()
                            .contains("a returned bytes that failed", "b returned bytes that failed"));
            Path restored = tmp.resolve("restored");
            assertThatThrownBy(() -> repo.restore(snapshot, restored, RestoreOptions.defaults()))
                    .isInstanceOf(CorruptObjectException.class).hasMessageContaining("snapshots/" + snapshot.value());
            assertThat(restored).doesNotExist();
        }
    }

    @Test
    void anIndexFileDamagedOnBothReplicasIsNamedAsFailingAuthentication() throws Exception {
        List<BlobKey> indexFiles = keys(a, "index");
        damage(a, indexFiles);
        damage(b, indexFiles);
        try (ReplicatedBlobStore store = replicated(); Repository repo = TestRepos.open(store)) {
            Path restored = tmp.resolve("restored");
            assertThatThrownBy(() -> repo.restore(snapshot, restored, RestoreOptions.defaults()))
                    .isInstanceOf(CorruptObjectException.class)
                    .hasMessageContaining(indexFiles.get(0).value()).hasMessageContaining("failed authentication");
            assertThat(restored).doesNotExist();
            VerifyReport report = repo.verify(snapshot, VerifyLevel.DATA);
            assertThat(report.ok()).isFalse();
        }
    }

    @Test
    void aConfigDamagedOnBothReplicasIsNamedAsDamaged() throws Exception {
        BlobKey config = BlobKey.of("config");
        byte[] good = a.getBytes(config);
        a.put(config, Arrays.copyOf(good, good.length / 2));
        b.put(config, Arrays.copyOf(good, good.length / 3));
        try (ReplicatedBlobStore store = replicated()) {
            assertThatThrownBy(() -> TestRepos.open(store)).isInstanceOf(UnsupportedFormatException.class)
                    .hasMessageContaining("config").hasMessageContaining("damaged");
        }
    }
}
