package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.InMemoryBlobStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A store an attacker can write to cannot make a reader spend memory or CPU beyond {@link ReaderLimits}. */
class ReaderLimitsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final BlobKey CONFIG = BlobKey.of("config");

    @TempDir
    Path tmp;

    private static ObjectNode config(InMemoryBlobStore store) throws Exception {
        return (ObjectNode) JSON.readTree(store.getBytes(CONFIG));
    }

    private static InMemoryBlobStore passwordRepository() {
        InMemoryBlobStore store = InMemoryBlobStore.create("mem");
        Repository.init(store, KeyProvider.password("pw".toCharArray()), TestRepos.init(), TestRepos.options()).close();
        return store;
    }

    @Test
    void configAskingForA4GiBKdfIsRefusedWithoutRunningArgon2() throws Exception {
        InMemoryBlobStore store = passwordRepository();
        ObjectNode root = config(store);
        ObjectNode kdf = (ObjectNode) root.get("keys").get(0).get("kdf");
        kdf.put("memoryKiB", 4 * 1024 * 1024);
        store.put(CONFIG, JSON.writeValueAsBytes(root));
        // 4 GiB of Argon2 would take tens of seconds or run this JVM out of memory: refused in well under one
        assertTimeoutPreemptively(Duration.ofSeconds(2), () ->
                assertThatThrownBy(() -> Repository.open(store, KeyProvider.password("pw".toCharArray()), TestRepos.options()))
                        .isInstanceOf(ReaderLimitException.class)
                        .hasMessageContaining("key slot 1 kdf.memoryKiB 4194304")
                        .hasMessageContaining("ceiling of 1048576")
                        .hasMessageContaining("maxKdfMemoryKiB"));
    }

    @Test
    void configAskingForManyKdfPassesIsRefused() throws Exception {
        InMemoryBlobStore store = passwordRepository();
        ObjectNode root = config(store);
        ((ObjectNode) root.get("keys").get(0).get("kdf")).put("iterations", 100);
        store.put(CONFIG, JSON.writeValueAsBytes(root));
        assertThatThrownBy(() -> Repository.open(store, KeyProvider.password("pw".toCharArray()), TestRepos.options()))
                .isInstanceOf(ReaderLimitException.class).hasMessageContaining("kdf.iterations 100")
                .hasMessageContaining("maxKdfIterations");
    }

    @Test
    void configWithTenThousandKeySlotsIsRefusedBeforeAnyDerivation() throws Exception {
        InMemoryBlobStore store = passwordRepository();
        ObjectNode root = config(store);
        ArrayNode keys = (ArrayNode) root.get("keys");
        ObjectNode genuine = (ObjectNode) keys.get(0);
        keys.removeAll();
        for (int i = 0; i < 10_000; i++) {
            ObjectNode slot = genuine.deepCopy();
            ((ObjectNode) slot.get("kdf")).put("memoryKiB", 65536).put("iterations", 3);
            slot.put("salt", Base64.getEncoder().encodeToString(TestRepos.random(i, 16)));
            keys.add(slot);
        }
        keys.add(genuine); // the real slot last: a reader trying every slot would run 10,000 Argon2s of 64 MiB first
        store.put(CONFIG, JSON.writeValueAsBytes(root));
        assertThat(store.stat(CONFIG).size()).isLessThan(4 << 20);
        assertTimeoutPreemptively(Duration.ofSeconds(5), () ->
                assertThatThrownBy(() -> Repository.open(store, KeyProvider.password("pw".toCharArray()),
                        RepositoryOptions.builder().noCache().readerLimits(ReaderLimits.builder().maxConfigBytes(4 << 20).build())
                                .build()))
                        .isInstanceOf(ReaderLimitException.class)
                        .hasMessageContaining("number of key slots 10001")
                        .hasMessageContaining("ceiling of 16").hasMessageContaining("maxKeySlots"));
    }

    @Test
    void oversizedConfigIsRefusedWithoutReadingItWhole() throws Exception {
        InMemoryBlobStore store = passwordRepository();
        byte[] huge = new byte[3 << 20];
        java.util.Arrays.fill(huge, (byte) ' ');
        byte[] json = store.getBytes(CONFIG);
        System.arraycopy(json, 0, huge, 0, json.length);
        store.put(CONFIG, huge);
        assertThatThrownBy(() -> Repository.open(store, KeyProvider.password("pw".toCharArray()), TestRepos.options()))
                .isInstanceOf(ReaderLimitException.class).hasMessageContaining("config: size")
                .hasMessageContaining("maxConfigBytes");
        // raised ceiling: the padded (still valid) config opens
        Repository.open(store, KeyProvider.password("pw".toCharArray()), RepositoryOptions.builder().noCache()
                .readerLimits(ReaderLimits.builder().maxConfigBytes(4 << 20).build()).build()).close();
    }

    private static RepositoryOptions limited(ReaderLimits limits) {
        return RepositoryOptions.builder().noCache().workers(2).ioConcurrency(4).inFlightBytes(8 << 20).host("test-host")
                .pruneGracePeriod(Duration.ZERO).readerLimits(limits).build();
    }

    @Test
    void oversizedManifestIndexFileAndPackHeaderAreRefusedNamingTheirCeiling() throws Exception {
        InMemoryBlobStore store = InMemoryBlobStore.create("mem");
        Path source = TestRepos.checkpoint(tmp.resolve("src"), 1);
        for (int i = 0; i < 40; i++) { // a chunk each: a pack header of about 2 KiB, an index file as large
            java.nio.file.Files.write(source.resolve("part-" + i), TestRepos.random(100 + i, 200));
        }
        Snapshot s;
        try (Repository repo = TestRepos.create(store)) {
            s = repo.backup(source);
        }
        // manifest: bigger (decompressed) than a 1 KiB ceiling
        try (Repository repo = Repository.open(store, KeyProvider.rawKey(TestRepos.RAW_KEY),
                limited(ReaderLimits.builder().maxManifestBytes(1024).build()))) {
            assertThatThrownBy(() -> repo.snapshot(s.id())).isInstanceOf(ReaderLimitException.class)
                    .hasMessageContaining("snapshots/" + s.id()).hasMessageContaining("maxManifestBytes");
        }
        // index file: refused from its size, so it counts as damaged (restore cannot find the chunks, prune refuses)
        try (Repository repo = Repository.open(store, KeyProvider.rawKey(TestRepos.RAW_KEY),
                limited(ReaderLimits.builder().maxIndexFileBytes(1024).build()))) {
            assertThatThrownBy(() -> repo.prune(true)).isInstanceOf(CorruptObjectException.class)
                    .hasMessageContaining("damaged").hasMessageContaining("maxIndexFileBytes");
        }
        // pack header: the trailer claims a header beyond the ceiling; verify --data reads headers
        // (the backup may write more than one pack, in an order its random ids decide: the problem names one of them)
        List<String> packNames;
        try (Stream<BlobInfo> packs = store.list("packs")) {
            packNames = packs.map(b -> b.key().value()).toList();
        }
        try (Repository repo = Repository.open(store, KeyProvider.rawKey(TestRepos.RAW_KEY),
                limited(ReaderLimits.builder().maxPackHeaderBytes(1024).build()))) {
            VerifyReport report = repo.verify(s.id(), VerifyLevel.DATA);
            assertThat(report.problems()).anySatisfy(p -> {
                assertThat(packNames).contains(p.object());
                assertThat(p.reason()).contains("maxPackHeaderBytes");
            });
        }
        // and with the defaults everything reads
        try (Repository repo = TestRepos.open(store)) {
            assertThat(repo.verify(s.id(), VerifyLevel.DATA).problems()).isEmpty();
        }
    }

    @Test
    void ceilingsCannotBeRaisedAboveTheFormatsBounds() {
        assertThatThrownBy(() -> ReaderLimits.builder().maxManifestBytes(Integer.MAX_VALUE).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxManifestBytes");
        assertThat(ReaderLimits.defaults().maxKdfMemoryKiB()).isLessThan(KdfParameters.DEFAULT.memoryKiB() * 64);
        assertThat(List.of(ReaderLimits.defaults().maxKeySlots())).containsExactly(16);
    }
}
