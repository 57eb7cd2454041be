package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damage to the v2 layout that only a hostile or broken store produces, on one backend: packs
 * whose header disagrees with the index or fails authentication, index files naming packs that
 * are gone, a chunk indexed in two packs, packs cut mid-blob, packs or blobs swapped, hostile
 * lengths and counts, a tampered index, a v1 repository. Every case either restores correct bytes
 * or refuses naming the object and the cause; a refused restore leaves a new target absent, an
 * existing one as it was, and nothing beside either.
 *
 * <p>The damage is done as a broken store or an attacker with write access would do it: through
 * the {@link BlobStore} SPI alone (an object read whole, overwritten with damaged bytes, deleted),
 * so the same cases run on every backend. A backend's test extends this class and says how to
 * open a store over a named, initially empty namespace (as for {@link RepositoryRoundTripContract}).
 * Not thread-safe; JUnit runs one instance per test.
 */
public abstract class PackFaultContract {

    /**
     * How a blob is refused where the index's offsets frame other bytes (another blob, or the
     * middle of one): whichever check of the sealed envelope those bytes fail first.
     */
    private static final String[] NOT_THE_CHUNKS_BLOB = {"failed authentication", "unknown object version", "unknown flags"};

    @TempDir
    protected Path tmp;

    private BlobStore store;
    private Repository repo;
    private Crypto crypto;
    private Path source;
    private Snapshot snapshot;
    private int targets;

    /**
     * Opens a new store over the namespace {@code name}, creating the namespace empty when it is
     * first asked for. The caller closes the store.
     */
    protected abstract BlobStore openStore(String name) throws IOException;

    /**
     * Arms transient faults on {@code store} for one read of the damaged repository (a restore or
     * a verify) and returns what disarms them; by default none. A fault-injecting backend fails a
     * call here, so that every case must come out the same through the engine's retries.
     */
    protected Runnable armTransientFaults(BlobStore store) {
        return () -> { };
    }

    @BeforeEach
    void backUpOneCheckpoint() throws IOException {
        store = openStore("faults");
        repo = TestRepos.create(store);
        RepositoryConfig config = RepositoryConfig.fromJson(store.getBytes(BlobKey.of("config")), "config");
        crypto = new Crypto(Crypto.unwrap(TestRepos.RAW_KEY, config.slots().get(0).wrapped(), config.context()));
        source = TestRepos.checkpoint(tmp.resolve("ckpt"), 77);
        snapshot = repo.backup(source);
    }

    @AfterEach
    void close() throws IOException {
        try {
            repo.close();
        } finally {
            store.close();
        }
    }

    @Test
    void aPackHeaderThatDisagreesWithTheIndexIsReportedAndTheRestoreStillAuthenticatesEveryBlob() throws Exception {
        BlobInfo pack = largestPack();
        byte[] body = store.getBytes(pack.key());
        byte[] packId = PackFormat.parseName(pack.key().name());
        int headerStart = headerStart(body);
        List<PackFormat.Blob> blobs = header(pack.key(), body);
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

        VerifyReport report = verify(snapshot.id(), VerifyLevel.DATA);
        assertThat(report.problems()).hasSize(2).allSatisfy(p -> {
            assertThat(p.object()).isEqualTo(pack.key().value());
            assertThat(p.reason()).contains("header disagrees with the index");
        }).anySatisfy(p -> assertThat(p.reason()).contains(first.id().hex()));
        assertRestoresCorrectly(snapshot.id(), source);
    }

    /**
     * The sealed header is bound to its pack's id; a flipped byte in it fails authentication
     * wherever the header is read (verify, index repair). A restore reads only the blobs the index
     * names, each authenticated on its own, so it still restores the right bytes.
     */
    @Test
    void aFlippedByteInAPacksSealedHeaderFailsAuthenticationNamingThePack() throws Exception {
        BlobInfo pack = largestPack();
        byte[] body = store.getBytes(pack.key());
        int headerStart = headerStart(body);
        body[headerStart + (body.length - PackFormat.TRAILER - headerStart) / 2] ^= 0x10;
        store.put(pack.key(), body);

        assertThatThrownBy(() -> PackHeaders.read(context(), pack.key(), store.stat(pack.key())))
                .isInstanceOf(CorruptObjectException.class)
                .hasMessageContainingAll(pack.key().value(), "pack header", "failed authentication");
        VerifyReport report = verify(snapshot.id(), VerifyLevel.DATA);
        assertThat(report.problems()).singleElement().satisfies(p -> {
            assertThat(p.object()).isEqualTo(pack.key().value());
            assertThat(p.reason()).contains("pack header", "failed authentication");
        });
        assertRestoresCorrectly(snapshot.id(), source);
    }

    @Test
    void anIndexNamingAMissingPackFailsTheRestoreNamingThePackAndVerifyReportsIt() throws Exception {
        BlobInfo pack = largestPack();
        store.delete(pack.key());
        assertRestoreRefused(snapshot.id(), pack.key().value(), "missing");
        assertThat(verify(snapshot.id(), VerifyLevel.METADATA).problems()).anySatisfy(p -> {
            assertThat(p.object()).isEqualTo(pack.key().value());
            assertThat(p.reason()).isEqualTo("missing");
        });
    }

    @Test
    void twoIndexFilesNamingTheSameChunksInDifferentPacksEitherCopyServes() throws Exception {
        BlobInfo pack = largestPack();
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
        assertRestoresCorrectly(snapshot.id(), source);
        store.delete(pack.key());
        assertRestoresCorrectly(snapshot.id(), source);
        assertThat(verify(snapshot.id(), VerifyLevel.METADATA).ok()).isTrue();
        store.put(pack.key(), body);
        store.delete(PackFormat.key(copyId));
        assertRestoresCorrectly(snapshot.id(), source);
    }

    @Test
    void aPackTruncatedMidBlobIsAClearErrorAndWritesNothing() throws Exception {
        BlobInfo pack = largestPack();
        byte[] body = store.getBytes(pack.key());
        store.put(pack.key(), Arrays.copyOf(body, body.length / 2 + 3));
        assertRestoreRefused(snapshot.id(), pack.key().value(), "truncated");
        assertThat(verify(snapshot.id(), VerifyLevel.METADATA).problems()).singleElement().satisfies(p -> {
            assertThat(p.object()).isEqualTo(pack.key().value());
            assertThat(p.reason()).contains("truncated");
        });
    }

    /**
     * Two packs' contents swapped: each key now holds blobs sealed for other chunks (or too few
     * bytes for what the index places in it). Blobs are bound to their chunk ids and headers to
     * their pack ids, so neither pack serves a byte of the other.
     */
    @Test
    void twoPacksWithTheirContentsSwappedAreRefusedNamingThePack() throws Exception {
        Set<BlobKey> before = keys(list("packs"));
        Snapshot second = repo.backup(unrelatedTree());
        BlobInfo firstPack = largest(list("packs").stream().filter(p -> before.contains(p.key())).toList());
        BlobInfo secondPack = largest(list("packs").stream().filter(p -> !before.contains(p.key())).toList());
        byte[] a = store.getBytes(firstPack.key());
        byte[] b = store.getBytes(secondPack.key());
        store.put(firstPack.key(), b);
        store.put(secondPack.key(), a);

        // a key given the shorter pack may also end before the last blob the index places in it
        String[] causes = Stream.concat(Stream.of(NOT_THE_CHUNKS_BLOB), Stream.of("truncated")).toArray(String[]::new);
        assertRestoreRefusedWithAnyCause(snapshot.id(), firstPack.key().value(), causes);
        assertRestoreRefusedWithAnyCause(second.id(), secondPack.key().value(), causes);
        assertThat(verify(snapshot.id(), VerifyLevel.DATA).problems()).isNotEmpty()
                .allSatisfy(p -> assertThat(p.object()).isEqualTo(firstPack.key().value()));
        assertThat(verify(second.id(), VerifyLevel.DATA).problems()).isNotEmpty()
                .allSatisfy(p -> assertThat(p.object()).isEqualTo(secondPack.key().value()));
    }

    /** A pack renamed over another pack's key: the renamed one is missing, the other holds blobs of other chunks. */
    @Test
    void aPackRenamedToAnotherPacksKeyIsRefusedNamingBothPacks() throws Exception {
        Set<BlobKey> before = keys(list("packs"));
        Snapshot second = repo.backup(unrelatedTree());
        BlobInfo firstPack = largest(list("packs").stream().filter(p -> before.contains(p.key())).toList());
        BlobInfo secondPack = largest(list("packs").stream().filter(p -> !before.contains(p.key())).toList());
        // the larger of the two moves over the smaller, so that the new content is long enough for every blob the index places in it
        BlobInfo moved = firstPack.size() >= secondPack.size() ? firstPack : secondPack;
        BlobInfo overwritten = moved == firstPack ? secondPack : firstPack;
        store.put(overwritten.key(), store.getBytes(moved.key()));
        store.delete(moved.key());
        Snapshot ofMoved = moved == firstPack ? snapshot : second;
        Snapshot ofOverwritten = moved == firstPack ? second : snapshot;

        assertRestoreRefused(ofMoved.id(), moved.key().value(), "missing");
        assertRestoreRefusedWithAnyCause(ofOverwritten.id(), overwritten.key().value(), NOT_THE_CHUNKS_BLOB);
        assertThat(verify(ofOverwritten.id(), VerifyLevel.DATA).problems()).isNotEmpty().allSatisfy(p -> {
            assertThat(p.object()).isEqualTo(overwritten.key().value());
            assertThat(p.reason()).containsAnyOf(NOT_THE_CHUNKS_BLOB);
        });
    }

    /** The first two blobs of a pack exchanged in place: the index's offsets now frame the wrong ciphertext. */
    @Test
    void twoBlobsSwappedWithinAPackAreRefusedNamingThePackAndBothChunks() throws Exception {
        BlobInfo pack = largestPack();
        byte[] body = store.getBytes(pack.key());
        List<PackFormat.Blob> blobs = new ArrayList<>(header(pack.key(), body));
        blobs.sort(Comparator.comparingInt(PackFormat.Blob::offset));
        PackFormat.Blob first = blobs.get(0);
        PackFormat.Blob second = blobs.get(1);
        assertThat(second.offset()).isEqualTo(first.offset() + first.length());
        byte[] swapped = body.clone();
        System.arraycopy(body, second.offset(), swapped, first.offset(), second.length());
        System.arraycopy(body, first.offset(), swapped, first.offset() + second.length(), first.length());
        store.put(pack.key(), swapped);

        // the chunk framed on the other blob's start fails authentication; the one framed mid-blob
        // usually fails earlier, on an envelope byte (which blobs come first depends on scheduling)
        assertRestoreRefusedWithAnyCause(snapshot.id(), pack.key().value(), NOT_THE_CHUNKS_BLOB);
        assertThat(verify(snapshot.id(), VerifyLevel.DATA).problems()).hasSize(2).allSatisfy(p -> {
            assertThat(p.object()).isEqualTo(pack.key().value());
            assertThat(p.reason()).containsAnyOf(NOT_THE_CHUNKS_BLOB);
        }).anySatisfy(p -> assertThat(p.reason()).contains(first.id().hex(), "failed authentication"))
                .anySatisfy(p -> assertThat(p.reason()).contains(second.id().hex()));
    }

    @Test
    void aHostileHeaderLengthIsRefusedBeforeAnythingIsAllocated() throws Exception {
        BlobInfo pack = largestPack();
        byte[] body = store.getBytes(pack.key());
        ByteBuffer.wrap(body, body.length - PackFormat.TRAILER, 4).putInt(Integer.MAX_VALUE);
        store.put(pack.key(), body);
        assertThatThrownBy(() -> PackHeaders.read(context(), pack.key(), store.stat(pack.key())))
                .isInstanceOf(CorruptObjectException.class).hasMessageContaining("impossible for a pack of " + body.length);
        assertThat(verify(snapshot.id(), VerifyLevel.DATA).problems()).anySatisfy(p -> {
            assertThat(p.object()).isEqualTo(pack.key().value());
            assertThat(p.reason()).contains("impossible");
        });
        assertRestoresCorrectly(snapshot.id(), source); // the blobs themselves are intact
    }

    @Test
    void aHostileBlobCountInAHeaderOrAnIndexIsRefusedNamingTheObject() throws Exception {
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
        assertRestoreRefused(snapshot.id(), IndexFile.key(id).value(), "damaged", "more than its size allows");
        assertThatThrownBy(() -> repo.prune(false)).isInstanceOf(CorruptObjectException.class).hasMessageContaining("refused");
        assertThat(list("packs")).isNotEmpty();
    }

    @Test
    void aTamperedIndexFileIsNeverTrusted() throws Exception {
        List<BlobInfo> indexes = list("index");
        for (BlobInfo index : indexes) {
            byte[] body = store.getBytes(index.key());
            body[body.length / 2] ^= 1;
            store.put(index.key(), body);
        }
        assertRestoreRefused(snapshot.id(), "index/", "failed authentication");
    }

    @Test
    void aVersionOneRepositoryIsRefusedNamingItsVersion() throws IOException {
        String config = new String(store.getBytes(BlobKey.of("config")), StandardCharsets.UTF_8);
        try (BlobStore old = openStore("v1")) {
            old.put(BlobKey.of("config"), config.replace("\"version\" : 2", "\"version\" : 1").getBytes(StandardCharsets.UTF_8));
            // refused on open, before a snapshot could be named, so nothing can reach a restore target
            assertThatThrownBy(() -> Repository.open(old, KeyProvider.rawKey(TestRepos.RAW_KEY), TestRepos.options()))
                    .isInstanceOf(UnsupportedFormatException.class).hasMessageContaining("version 1").hasMessageContaining("reads version 2");
        }
    }

    // --- reads of the damaged repository, each with the backend's transient faults armed

    private VerifyReport verify(SnapshotId id, VerifyLevel level) throws Exception {
        return underFaults(() -> repo.verify(id, level));
    }

    private void restore(SnapshotId id, Path target, RestoreOptions options) throws Exception {
        underFaults(() -> repo.restore(id, target, options));
    }

    private <T> T underFaults(Callable<T> read) throws Exception {
        Runnable disarm = armTransientFaults(store);
        T result;
        try {
            result = read.call();
        } catch (Exception | AssertionError e) {
            try {
                disarm.run();
            } catch (AssertionError d) {
                e.addSuppressed(d); // the read's own failure says more
            }
            throw e;
        }
        disarm.run();
        return result;
    }

    private void assertRestoresCorrectly(SnapshotId id, Path expected) throws Exception {
        Path target = Files.createDirectories(tmp.resolve("targets-" + (++targets))).resolve("restored");
        restore(id, target, RestoreOptions.defaults());
        assertThat(TestRepos.sameTree(expected, target)).as("restore of %s", id).isTrue();
    }

    private void assertRestoreRefused(SnapshotId id, String... messageParts) throws Exception {
        assertRestoreRefused(id, m -> assertThat(m).contains(messageParts));
    }

    private void assertRestoreRefusedWithAnyCause(SnapshotId id, String object, String... causes) throws Exception {
        assertRestoreRefused(id, m -> assertThat(m).contains(object).containsAnyOf(causes));
    }

    /**
     * Restores {@code id} into a new target and over an existing, unrelated tree; both must fail
     * with a {@link CorruptObjectException} whose message passes {@code message}, the new target
     * must not exist, the existing one must be as it was, and nothing (no staging) may be left beside them.
     */
    private void assertRestoreRefused(SnapshotId id, Consumer<String> message) throws Exception {
        Path parent = Files.createDirectories(tmp.resolve("targets-" + (++targets)));
        Path fresh = parent.resolve("new");
        Path existing = TestRepos.checkpoint(parent.resolve("existing"), 5);
        Path asItWas = TestRepos.checkpoint(tmp.resolve("as-it-was-" + targets), 5);
        refused(id, fresh, RestoreOptions.defaults(), message);
        refused(id, existing, RestoreOptions.builder().replaceExisting(true).build(), message);
        assertThat(fresh).doesNotExist();
        assertThat(TestRepos.sameTree(asItWas, existing)).as("the existing target is as it was").isTrue();
        try (Stream<Path> beside = Files.list(parent)) {
            assertThat(beside).containsExactly(existing);
        }
    }

    private void refused(SnapshotId id, Path target, RestoreOptions options, Consumer<String> message) {
        assertThatThrownBy(() -> restore(id, target, options)).as("restore into %s", target.getFileName())
                .isInstanceOf(CorruptObjectException.class).satisfies(e -> message.accept(e.getMessage()));
    }

    /** A tree that shares no chunk with the checkpoint (whose files are drawn with seeds 77 and 78), so that its snapshot needs only packs of its own. */
    private Path unrelatedTree() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("unrelated"));
        Files.write(dir.resolve("weights.bin"), TestRepos.random(4242, 400_000));
        return dir;
    }

    // --- the objects, through the SPI

    private Context context() throws IOException {
        return new Context(store, crypto, null, RepositoryConfig.fromJson(store.getBytes(BlobKey.of("config")), "c"),
                TestRepos.options(), null, null);
    }

    private List<BlobInfo> list(String prefix) throws IOException {
        try (Stream<BlobInfo> s = store.list(prefix)) {
            return new ArrayList<>(s.toList());
        }
    }

    private static Set<BlobKey> keys(List<BlobInfo> infos) {
        Set<BlobKey> keys = new HashSet<>();
        infos.forEach(i -> keys.add(i.key()));
        return keys;
    }

    private static BlobInfo largest(List<BlobInfo> packs) {
        return packs.stream().max(Comparator.comparingLong(BlobInfo::size)).orElseThrow();
    }

    private BlobInfo largestPack() throws IOException {
        return largest(list("packs"));
    }

    private static int headerStart(byte[] pack) {
        int headerLength = PackFormat.readTrailer(pack, pack.length - PackFormat.TRAILER, pack.length, "t");
        return pack.length - PackFormat.TRAILER - headerLength;
    }

    private List<PackFormat.Blob> header(BlobKey key, byte[] body) {
        int headerStart = headerStart(body);
        byte[] sealed = Arrays.copyOfRange(body, headerStart, body.length - PackFormat.TRAILER);
        byte[] plain = crypto.openObject(PackFormat.HEADER_DOMAIN, PackFormat.parseName(key.name()), sealed, 1 << 26, "t");
        return PackFormat.decodeHeader(plain, headerStart, 1 << 20, "t");
    }

    private List<IndexFile.PackEntry> readIndex(BlobKey key) throws IOException {
        byte[] id = PackFormat.parseName(key.name());
        return IndexFile.decode(crypto.openObject(IndexFile.DOMAIN, id, store.getBytes(key), IndexFile.MAX_PLAIN, "t"), 1 << 20, "t");
    }

    private void writeIndex(List<IndexFile.PackEntry> packs) throws IOException {
        byte[] id = Crypto.randomBytes(32);
        store.put(IndexFile.key(id), crypto.sealObject(IndexFile.DOMAIN, id, false, IndexFile.encode(packs)));
    }
}
