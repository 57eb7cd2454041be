package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.storage.LocalBlobStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Key slot changes from several clients of one local repository at the same moment (each with its
 * own store and repository, as separate processes would have): each is a read-modify-write of
 * {@code config}, so without the exclusive lock all but one would be lost.
 */
class KeySlotConcurrencyTest {

    private static final int CLIENTS = 4;
    private static final int ROUNDS = 3;

    @TempDir
    Path tmp;

    @Test
    void keysAddedByConcurrentClientsAllSurviveAndOpenTheRepository() throws Exception {
        Path root = tmp.resolve("repo");
        try (LocalBlobStore store = LocalBlobStore.open(root)) {
            TestRepos.create(store).close();
        }
        List<LocalBlobStore> stores = new ArrayList<>();
        List<Repository> clients = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
        try {
            for (int c = 0; c < CLIENTS; c++) {
                LocalBlobStore store = LocalBlobStore.open(root);
                stores.add(store);
                clients.add(TestRepos.open(store));
            }
            CyclicBarrier start = new CyclicBarrier(CLIENTS);
            List<Future<KeySlot>> adds = new ArrayList<>();
            for (int round = 0; round < ROUNDS; round++) {
                for (int c = 0; c < CLIENTS; c++) {
                    Repository client = clients.get(c);
                    String password = "client " + c + " round " + round;
                    adds.add(pool.submit(() -> {
                        start.await(30, TimeUnit.SECONDS);
                        return client.addKey(KeyProvider.password(password.toCharArray()), password, TestRepos.CHEAP_KDF);
                    }));
                }
            }
            List<String> added = new ArrayList<>();
            for (Future<KeySlot> f : adds) {
                added.add(f.get(120, TimeUnit.SECONDS).id());
            }

            assertThat(clients.get(0).keySlots()).extracting(KeySlot::id).containsAll(added).hasSize(1 + CLIENTS * ROUNDS);
            for (int c = 0; c < CLIENTS; c++) {
                for (int round = 0; round < ROUNDS; round++) {
                    String password = "client " + c + " round " + round;
                    try (Repository r = Repository.open(stores.get(0), KeyProvider.password(password.toCharArray()),
                            TestRepos.options())) {
                        assertThat(r.id()).isEqualTo(clients.get(0).id());
                    }
                }
            }
        } finally {
            pool.shutdownNow();
            for (Repository r : clients) {
                r.close();
            }
            for (LocalBlobStore s : stores) {
                s.close();
            }
        }
    }

    @Test
    void aKeyChangeDuringABackupIsRefusedNamingTheHolderAndChangesNothing() throws Exception {
        try (LocalBlobStore store = LocalBlobStore.open(tmp.resolve("repo")); Repository repo = TestRepos.create(store)) {
            io.dr4j.backup.RepositoryLock backup = io.dr4j.backup.RepositoryLock.acquire(store,
                    io.dr4j.backup.RepositoryLock.Mode.SHARED, "backup-host", java.time.Clock.systemUTC(),
                    java.time.Duration.ofMinutes(5), "backup of /ckpt");
            try {
                assertThatThrownBy(() -> repo.addKey(KeyProvider.password("late".toCharArray()), "late", TestRepos.CHEAP_KDF))
                        .isInstanceOf(RepositoryLockedException.class)
                        .hasMessageContaining("backup-host")
                        .hasMessageContaining("no key slot was changed");
            } finally {
                backup.close();
            }
            assertThat(repo.keySlots()).hasSize(1);
            assertThat(repo.addKey(KeyProvider.password("later".toCharArray()), "later", TestRepos.CHEAP_KDF)).isNotNull();
            assertThat(repo.keySlots()).hasSize(2);
        }
    }
}
