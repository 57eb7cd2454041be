package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.LocalBlobStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damage to the v2 layout that only a hostile or broken store produces: packs whose header
 * disagrees with the index, index files naming packs that are gone, a chunk indexed in two
 * packs, packs cut mid-blob, hostile lengths and counts. Every case either restores correct
 * bytes or fails naming the object, and never writes a wrong byte to the target.
 */
class PackFaultTest {

    @TempDir
    Path tmp;

    private LocalBlobStore store;
    private Repository repo;
    private Crypto crypto;
    private Path source;
    private Snapshot snapshot;

    @BeforeEach
    void setUp() throws IOException {
        store = LocalBlobStore.open(tmp.resolve("repo"));
        repo = TestRepos.create(store);
        RepositoryConfig config = RepositoryConfig.fromJson(store.getBytes(BlobKey.of("config")), "config");
        crypto = new Crypto(Crypto.unwrap(TestRepos.RAW_KEY, config.slots().get(0).wrapped(), config.context()));
        source = TestRepos.checkpoint(tmp.resolve("ckpt"), 77);
        snapshot = repo.backup(source);
    }

    @AfterEach
    void tearDown() {
        repo.close();
    }

    private List<BlobInfo> list(String prefix) throws IOException {
        try (Stream<BlobInfo> s = store.list(prefix)) {
            return new ArrayList<>(s.toList());
        }
    }

    private BlobInfo onlyPack() throws IOException {
        List<BlobInfo> packs = list("packs");
        packs.sort(java.util.Comparator.comparingLong(BlobInfo::size).reversed());
        return packs.get(0);
    }

    private List<IndexFile.PackEntry> readIndex(BlobKey key) throws IOException {
        byte[] id = PackFormat.parseName(key.name());
        return IndexFile.decode(crypto.openObject(IndexFile.DOMAIN, id, store.getBytes(key), IndexFile.MAX_PLAIN, "t"), 1 << 20, "t");
    }

    private void writeIndex(List<IndexFile.PackEntry> packs) throws IOException {
        byte[] id = Crypto.randomBytes(32);
        store.put(IndexFile.key(id), crypto.sealObject(IndexFile.DOMAIN, id, false, IndexFile.encode(packs)));
    }

    private boolean restoresCorrectly(String name) throws IOException {
        Path target = tmp.resolve(name);
        repo.restore(snapshot.id(), target, RestoreOptions.defaults());
        return TestRepos.sameTree(source, target);
    }

    @Test
    void aPackHeaderThatDisagreesWithTheIndexIsReportedAndTheRestoreStillAuthenticatesEveryBlob() throws IOException {
        BlobInfo pack = onlyPack();
        byte[] body = store.getBytes(pack.key());
        byte[] packId = PackFormat.parseName(pack.key().name());
        int headerLength = PackFormat.readTrailer(body, body.length - PackFormat.TRAILER, body.length, "t");
        int headerStart = body.length - PackFormat.TRAILER - headerLength;
        List<PackFormat.Blob> blobs = PackFormat.decodeHeader(
                crypto.openObject(PackFormat.HEADER_DOMAIN, packId, Arrays.copyOfRange(body, headerStart, headerStart + headerLength),
                        1 << 26, "t"), headerStart, 1 << 20, "t");
        // a validly sealed, well-formed header that swaps the ids of the first two blobs
        assertThat(blobs).hasSizeGreaterThan(1);
        List<PackFormat.Blob> lying = new ArrayList<>(blobs);
        PackFormat.Blob first = lying.get(0);
        PackFormat.Blob second = lying.get(1);
        lying.set(0, new PackFormat.Blob(second.id(), first.offset(), first.length(), first.plainLength(), first.flags()));
        lying.set(1, new PackFormat.Blob(first.id(), second.offset(), second.length(), second.plainLength(), second.flags()));
        byte[] header = crypto.sealObject(PackFormat.HEADER_DOMAIN, packId, false, PackFormat.encodeHeader(lying));
        byte[] forged = new byte[headerStart + header.length + PackFormat.TRAILER];
        System.arraycopy(body, 0, forged, 0, headerStart);
        System.arraycopy(header, 0, forged, headerStart, header.length);
        PackFormat.writeTrailer(forged, headerStart + header.length, header.length);
        store.put(pack.key(), forged);

        VerifyReport report = repo.verify(snapshot.id(), VerifyLevel.DATA);
        assertThat(report.problems()).hasSize(2).allSatisfy(p -> {
            assertThat(p.object()).isEqualTo(pack.key().value());
            assertThat(p.reason()).contains("header disagrees with the index");
        }).anySatisfy(p -> assertThat(p.reason()).contains(first.id().hex()));
        assertThat(restoresCorrectly("t")).isTrue();
    }

    @Test
    void anIndexNamingAMissingPackFailsTheRestoreNamingThePackAndVerifyReportsIt() throws IOException {
        BlobInfo pack = onlyPack();
        store.delete(pack.key());
        Path target = tmp.resolve("t");
        assertThatThrownBy(() -> repo.restore(snapshot.id(), target, RestoreOptions.defaults()))
                .isInstanceOf(CorruptObjectException.class).hasMessageContaining(pack.key().value()).hasMessageContaining("missing");
        assertThat(target).doesNotExist();
        assertThat(repo.verify(snapshot.id(), VerifyLevel.METADATA).problems()).anySatisfy(p -> {
            assertThat(p.object()).isEqualTo(pack.key().value());
            assertThat(p.reason()).isEqualTo("missing");
        });
    }

    @Test
    void twoIndexFilesNamingTheSameChunksInDifferentPacksEitherCopyServes() throws IOException {
        BlobInfo pack = onlyPack();
        byte[] body = store.getBytes(pack.key());
        IndexFile.PackEntry entry = null;
        for (BlobInfo index : list("index")) {
            for (IndexFile.PackEntry e : readIndex(index.key())) {
                if (PackFormat.key(e.packId()).equals(pack.key())) {
                    entry = e;
                }
            }
        }
        assertThat(entry).isNotNull();
        byte[] copyId = Crypto.randomBytes(32);
        store.put(PackFormat.key(copyId), body); // blobs are bound to their chunk ids, not to a pack
        writeIndex(List.of(new IndexFile.PackEntry(copyId, entry.blobs())));
        assertThat(restoresCorrectly("both")).isTrue();
        store.delete(pack.key());
        assertThat(restoresCorrectly("copy-only")).isTrue();
        assertThat(repo.verify(snapshot.id(), VerifyLevel.METADATA).ok()).isTrue();
        store.put(pack.key(), body);
        store.delete(PackFormat.key(copyId));
        assertThat(restoresCorrectly("original-only")).isTrue();
    }

    @Test
    void aPackTruncatedMidBlobIsAClearErrorAndWritesNothing() throws IOException {
        BlobInfo pack = onlyPack();
        byte[] body = store.getBytes(pack.key());
        store.put(pack.key(), Arrays.copyOf(body, body.length / 2 + 3));
        Path target = tmp.resolve("t");
        assertThatThrownBy(() -> repo.restore(snapshot.id(), target, RestoreOptions.defaults()))
                .isInstanceOf(CorruptObjectException.class).hasMessageContaining(pack.key().value()).hasMessageContaining("truncated");
        assertThat(target).doesNotExist();
        assertThat(repo.verify(snapshot.id(), VerifyLevel.METADATA).problems()).singleElement()
                .satisfies(p -> assertThat(p.reason()).contains("truncated"));
    }

    @Test
    void aHostileHeaderLengthIsRefusedBeforeAnythingIsAllocated() throws IOException {
        BlobInfo pack = onlyPack();
        byte[] body = store.getBytes(pack.key());
        ByteBuffer.wrap(body, body.length - PackFormat.TRAILER, 4).putInt(Integer.MAX_VALUE);
        store.put(pack.key(), body);
        Context ctx = new Context(store, crypto, null, RepositoryConfig.fromJson(store.getBytes(BlobKey.of("config")), "c"),
                TestRepos.options(), null, null);
        assertThatThrownBy(() -> PackHeaders.read(ctx, pack.key(), store.stat(pack.key())))
                .isInstanceOf(CorruptObjectException.class).hasMessageContaining("impossible for a pack of " + body.length);
        assertThat(repo.verify(snapshot.id(), VerifyLevel.DATA).problems()).anySatisfy(p -> assertThat(p.reason()).contains("impossible"));
    }

    @Test
    void aHostileBlobCountInAHeaderOrAnIndexIsRefusedNamingTheObject() throws IOException {
        byte[] header = ByteBuffer.allocate(4 + PackFormat.RECORD).putInt(1_000_000_000).array();
        assertThatThrownBy(() -> PackFormat.decodeHeader(header, 1 << 20, 1 << 20, "packs/xx/pack"))
                .isInstanceOf(CorruptObjectException.class).hasMessageContaining("packs/xx/pack").hasMessageContaining("1000000000");
        byte[] index = ByteBuffer.allocate(4 + 32 + 4).putInt(1).put(new byte[32]).putInt(Integer.MAX_VALUE).array();
        assertThatThrownBy(() -> IndexFile.decode(index, 1 << 20, "index/x"))
                .isInstanceOf(CorruptObjectException.class).hasMessageContaining("more than its size allows");
        // such an index file in the store is reported, and the chunks it alone names are not trusted
        byte[] id = Crypto.randomBytes(32);
        store.put(IndexFile.key(id), crypto.sealObject(IndexFile.DOMAIN, id, false, index));
        for (BlobInfo other : list("index")) {
            if (!other.key().equals(IndexFile.key(id))) {
                store.delete(other.key());
            }
        }
        assertThatThrownBy(() -> repo.restore(snapshot.id(), tmp.resolve("t"), RestoreOptions.defaults()))
                .isInstanceOf(CorruptObjectException.class).hasMessageContaining("damaged").hasMessageContaining("more than its size allows");
        assertThatThrownBy(() -> repo.prune(false)).isInstanceOf(CorruptObjectException.class).hasMessageContaining("refused");
        assertThat(list("packs")).isNotEmpty();
    }

    @Test
    void aTamperedIndexFileIsNeverTrusted() throws IOException {
        for (BlobInfo index : list("index")) {
            byte[] body = store.getBytes(index.key());
            body[body.length / 2] ^= 1;
            store.put(index.key(), body);
        }
        assertThatThrownBy(() -> repo.restore(snapshot.id(), tmp.resolve("t"), RestoreOptions.defaults()))
                .isInstanceOf(CorruptObjectException.class).hasMessageContaining("authentication");
        assertThat(tmp.resolve("t")).doesNotExist();
    }

    @Test
    void aVersionOneRepositoryIsRefusedNamingItsVersion() throws IOException {
        String config = new String(store.getBytes(BlobKey.of("config")), StandardCharsets.UTF_8);
        LocalBlobStore old = LocalBlobStore.open(tmp.resolve("v1"));
        old.put(BlobKey.of("config"), config.replace("\"version\" : 2", "\"version\" : 1").getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> Repository.open(old, KeyProvider.rawKey(TestRepos.RAW_KEY)))
                .isInstanceOf(UnsupportedFormatException.class).hasMessageContaining("version 1").hasMessageContaining("reads version 2");
    }
}
