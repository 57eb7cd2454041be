package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.InMemoryBlobStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PartialVerifyTest {

    @TempDir
    Path tmp;

    private InMemoryBlobStore backing;
    private RecordingBlobStore store;
    private SnapshotId snapshot;
    private Set<BlobKey> packs;

    @BeforeEach
    void setUp() throws Exception {
        backing = InMemoryBlobStore.create("mem");
        store = new RecordingBlobStore(backing);
        Path src = Files.createDirectories(tmp.resolve("ckpt"));
        for (int i = 0; i < 5; i++) {
            Files.write(src.resolve("shard-" + i), TestRepos.random(i, 6 << 20));
        }
        try (Repository repo = Repository.init(store, KeyProvider.rawKey(TestRepos.RAW_KEY),
                TestRepos.init().withPackSize(4 << 20).withCompressionLevel(0), TestRepos.options())) {
            snapshot = repo.backup(src).id();
        }
        try (var listing = backing.list("packs")) {
            packs = listing.map(BlobInfo::key).collect(Collectors.toSet());
        }
        assertThat(packs.size()).isGreaterThanOrEqualTo(6);
    }

    private Set<BlobKey> packsRead() {
        return store.rangedReads().stream().map(RecordingBlobStore.Read::key).filter(packs::contains)
                .collect(Collectors.toSet());
    }

    private static VerifyOptions data(PackSubset subset) {
        return VerifyOptions.builder().level(VerifyLevel.DATA).subset(subset).build();
    }

    @Test
    void slicesOneToTReadEveryPackExactlyOnce() {
        int t = 3;
        Map<BlobKey, Integer> times = new HashMap<>();
        long bytes = 0;
        try (Repository repo = TestRepos.open(store)) {
            long total = -1;
            for (int n = 1; n <= t; n++) {
                store.clear();
                VerifyReport r = repo.verify(snapshot, data(PackSubset.slice(n, t)));
                assertThat(r.ok()).isTrue();
                assertThat(r.subset()).hasToString(n + "/" + t);
                assertThat(r.packsTotal()).isEqualTo(packs.size());
                assertThat(r.packsRead()).isEqualTo(packsRead().size());
                packsRead().forEach(k -> times.merge(k, 1, Integer::sum));
                bytes += r.storedBytesRead();
                total = r.storedBytesTotal();
            }
            assertThat(times.keySet()).isEqualTo(packs);
            assertThat(times.values()).containsOnly(1);
            assertThat(bytes).isEqualTo(total);
            // a full check reads the same
            VerifyReport full = repo.verify(snapshot, data(PackSubset.ALL));
            assertThat(full.packsRead()).isEqualTo(packs.size());
            assertThat(full.storedBytesRead()).isEqualTo(total);
        }
    }

    @Test
    void aSampleReadsTheGivenShareOfPacks() {
        try (Repository repo = TestRepos.open(store)) {
            store.clear();
            VerifyReport r = repo.verify(snapshot, data(PackSubset.sample(5)));
            assertThat(r.packsRead()).isEqualTo(1);
            assertThat(packsRead()).hasSize(1);
            store.clear();
            VerifyReport half = repo.verify(snapshot, data(PackSubset.sample(50, 42)));
            assertThat(half.packsRead()).isEqualTo((packs.size() + 1) / 2);
            assertThat(packsRead()).hasSize((packs.size() + 1) / 2);
            assertThat(half.storedBytesRead()).isLessThan(half.storedBytesTotal());
        }
    }

    @Test
    void aDamagedPackIsFoundByTheSliceThatReadsIt() throws Exception {
        BlobKey victim = packs.iterator().next();
        byte[] bytes = backing.getBytes(victim);
        bytes[100] ^= 1;
        backing.put(victim, bytes);
        int t = 4;
        List<Integer> found = new ArrayList<>();
        try (Repository repo = TestRepos.open(store)) {
            for (int n = 1; n <= t; n++) {
                VerifyReport r = repo.verify(snapshot, data(PackSubset.slice(n, t)));
                if (!r.ok()) {
                    found.add(n);
                    assertThat(r.problems()).allSatisfy(p -> assertThat(p.object()).isEqualTo(victim.value()));
                }
            }
        }
        int expected = (int) Long.remainderUnsigned(Long.parseUnsignedLong(victim.name().substring(0, 16), 16), t) + 1;
        assertThat(found).containsExactly(expected);
    }

    @Test
    void subsetSpecsOutOfRangeOrMalformedAreRefused() {
        for (String bad : List.of("0/3", "4/3", "3/0", "0%", "101%", "garbage", "1/", "-1/3", "5 %x", "")) {
            assertThatThrownBy(() -> PackSubset.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("subset");
        }
        assertThat(PackSubset.parse("2/7")).isEqualTo(PackSubset.slice(2, 7));
        assertThat(PackSubset.parse("5%")).hasToString("5%");
        assertThat(PackSubset.parse("100%").isAll()).isTrue();
        assertThatThrownBy(() -> PackSubset.sample(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void slicesPartitionAnyPackIds() {
        Random random = new Random(7);
        List<byte[]> ids = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            byte[] id = new byte[32];
            random.nextBytes(id);
            ids.add(id);
        }
        for (int t : new int[] {1, 2, 7, 30}) {
            int[] count = new int[ids.size()];
            for (int n = 1; n <= t; n++) {
                PackSubset.slice(n, t).select(ids).forEach(i -> count[i]++);
            }
            for (int c : count) {
                assertThat(c).as(HexFormat.of().toString()).isEqualTo(1);
            }
        }
    }
}
