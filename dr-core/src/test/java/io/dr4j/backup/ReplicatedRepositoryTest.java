package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;

import io.dr4j.replication.ReplicatedBlobStore;
import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStore;
import io.dr4j.storage.FaultInjectingBlobStore;
import io.dr4j.storage.LocalBlobStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The backup engine over a {@link ReplicatedBlobStore} of three local replicas: the shared round
 * trip, and that a damaged or lost replica does not cost a restore.
 */
class ReplicatedRepositoryTest extends RepositoryRoundTripContract {

    private final AtomicInteger logs = new AtomicInteger();

    private LocalBlobStore local(String name) throws IOException {
        return LocalBlobStore.builder(tmp.resolve(name)).sync(false).build();
    }

    /** Three replicas under {@code name}, the default (majority) write quorum; each client keeps its own repair log. */
    @Override
    protected BlobStore openStore(String name) throws IOException {
        return ReplicatedBlobStore.builder()
                .member("a", local(name + "/a")).member("b", local(name + "/b")).member("c", local(name + "/c"))
                .repairLog(local(name + "-log-" + logs.incrementAndGet())).tempDirectory(tmp).build();
    }

    @Test
    void restoreReadsAroundACorruptReplicaAndRepairsIt() throws Exception {
        LocalBlobStore a = local("a");
        LocalBlobStore b = local("b");
        FaultInjectingBlobStore c = new FaultInjectingBlobStore(local("c"));
        try (ReplicatedBlobStore store = ReplicatedBlobStore.builder().member("a", a, 0).member("b", b, 1).member("c", c, 2)
                .repairLog(local("log")).tempDirectory(tmp).build();
             Repository repo = TestRepos.create(store)) {
            Path source = TestRepos.checkpoint(tmp.resolve("ckpt"), 41);
            Snapshot s = repo.backup(source);
            store.awaitBackground(java.time.Duration.ofSeconds(30));
            // damage every pack on the preferred member, inside its chunk blobs
            long damaged = 0;
            try (Stream<BlobInfo> packs = a.list("packs")) {
                for (BlobInfo info : packs.toList()) {
                    byte[] body = a.getBytes(info.key());
                    body[20] ^= 1; // inside the first blob's ciphertext
                    a.put(info.key(), body);
                    damaged++;
                }
            }
            assertThat(damaged).isPositive();
            assertThat(repo.verify(s.id(), VerifyLevel.DATA).ok()).isTrue();
            repo.restore(s.id(), tmp.resolve("restored"), RestoreOptions.defaults());
            assertThat(TestRepos.sameTree(source, tmp.resolve("restored"))).isTrue();
            // the damaged copies were read-repaired from a good replica (in the background)
            assertThat(store.awaitBackground(java.time.Duration.ofSeconds(30))).isTrue();
            try (Stream<BlobInfo> packs = b.list("packs")) {
                for (BlobInfo info : packs.toList()) {
                    BlobKey key = info.key();
                    assertThat(a.getBytes(key)).as(key.value()).isEqualTo(b.getBytes(key));
                }
            }
        }
    }

    @Test
    void backupSucceedsWithOneReplicaDownAndRepairCatchesItUp() throws IOException, InterruptedException {
        LocalBlobStore a = local("a");
        LocalBlobStore b = local("b");
        FaultInjectingBlobStore c = new FaultInjectingBlobStore(local("c"));
        try (ReplicatedBlobStore store = ReplicatedBlobStore.builder().member("a", a).member("b", b).member("c", c)
                .writeQuorum(2).repairLog(local("log")).tempDirectory(tmp).build();
             Repository repo = TestRepos.create(store)) {
            c.down();
            Snapshot s = repo.backup(TestRepos.checkpoint(tmp.resolve("ckpt"), 42));
            store.awaitBackground(java.time.Duration.ofSeconds(30)); // the writes owed to c are recorded in the background
            c.clearFaults();
            store.repair();
            assertThat(store.verifyConsistency().consistent()).isTrue();
            try (Repository fromC = TestRepos.open(c.delegate())) {
                assertThat(fromC.verify(s.id(), VerifyLevel.DATA).problems()).isEmpty();
            }
        }
    }
}
