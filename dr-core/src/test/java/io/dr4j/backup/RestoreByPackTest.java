package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;

import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStore;
import io.dr4j.storage.LocalBlobStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Restore by pack (issue 12, DESIGN §3), checked from the store's side: a recording store sees
 * every ranged read, and the test derives on its own, from the index files and the manifest,
 * which reads the rule allows (blobs grouped per pack, packs in order of first use, a new range
 * only where the gap to the previous needed blob exceeds {@link #MAX_GAP} or a range would
 * outgrow a pack buffer). The repository holds two snapshots sharing chunks across four packs;
 * the one restored needs some files of the first, two copies of one of them, one file holding
 * another twice and new data, so its packs hold needed blobs, unneeded gaps and reused chunks.
 */
class RestoreByPackTest {

    /** PackFetch.MAX_GAP: the largest gap between needed blobs that one ranged read spans. */
    static final int MAX_GAP = 1 << 20;
    private static final int PACK_SIZE = InitOptions.MIN_PACK_SIZE;

    @TempDir
    static Path tmp;

    private static LocalBlobStore store;
    private static Crypto crypto;
    private static Path restored;
    private static Snapshot snapshot;
    private static int packBufferSize;

    @BeforeAll
    static void backUpTwoSnapshotsSharingChunks() throws IOException {
        store = LocalBlobStore.open(tmp.resolve("repo"));
        Path first = Files.createDirectories(tmp.resolve("first"));
        for (int i = 0; i < 12; i++) {
            // f04 is small: the gap it leaves between f03 and f05 is spanned, the larger ones are not
            Files.write(first.resolve(String.format("f%02d", i)), TestRepos.random(100 + i, i == 4 ? 300_000 : 1_200_000));
        }
        Path second = Files.createDirectories(tmp.resolve("second"));
        for (int i : new int[] {0, 3, 5, 9}) {
            Files.copy(first.resolve(String.format("f%02d", i)), Files.createDirectories(second.resolve("a")).resolve("f0" + i));
        }
        Files.copy(first.resolve("f03"), Files.createDirectories(second.resolve("b")).resolve("copy-of-f03"));
        byte[] f06 = Files.readAllBytes(first.resolve("f06"));
        ByteArrayOutputStream twice = new ByteArrayOutputStream();
        twice.writeBytes(f06);
        twice.writeBytes(f06);
        Files.write(Files.createDirectories(second.resolve("c")).resolve("f06-twice"), twice.toByteArray());
        Files.write(Files.createDirectories(second.resolve("d")).resolve("new"), TestRepos.random(999, 700_000));
        // one worker fills one pack at a time, so files lie in their packs in backup order, with gaps between them
        RepositoryOptions oneWorker = RepositoryOptions.builder().noCache().workers(1).host("test-host").build();
        try (Repository repo = Repository.init(store, KeyProvider.rawKey(TestRepos.RAW_KEY), TestRepos.init().withPackSize(PACK_SIZE)
                .withCompressionLevel(0), oneWorker)) {
            repo.backup(first);
            snapshot = repo.backup(second);
            packBufferSize = repo.context().packBufferSize();
        }
        crypto = crypto(store);
        restored = second;
    }

    private static Repository open(BlobStore through, int ioConcurrency, long inFlightBytes) {
        return Repository.open(through, KeyProvider.rawKey(TestRepos.RAW_KEY), RepositoryOptions.builder().noCache().workers(2)
                .ioConcurrency(ioConcurrency).inFlightBytes(inFlightBytes).host("test-host").build());
    }

    @Test
    void eachNeededPackIsReadOnceInTheFewestRangesInOrderOfFirstUse() throws IOException {
        List<RecordingBlobStore.Read> expected = expectedReads(store, crypto, snapshot.id(), MAX_GAP, packBufferSize);
        // the layout exercises the rule: some pack needs two ranges, some range spans an unneeded gap
        Map<BlobKey, Map<ChunkId, Location>> index = indexByPack(store, crypto);
        assertThat(expected.stream().map(RecordingBlobStore.Read::key).distinct().count()).isLessThan(expected.size());
        Set<ChunkId> needed = new java.util.HashSet<>();
        readManifest(store, crypto, snapshot.id()).entries().forEach(e -> e.chunks().forEach(c -> needed.add(c.id())));
        assertThat(expected).anySatisfy(r -> assertThat(spansAGap(r, index.get(r.key()), needed)).isTrue());

        RecordingBlobStore recording = new RecordingBlobStore(store);
        RestoreResult result;
        // one I/O thread: the reads reach the store in the order the restore issues them
        try (Repository repo = open(recording, 1, 64 << 20)) {
            recording.clear();
            result = repo.restore(snapshot.id(), tmp.resolve("in-order"), RestoreOptions.defaults());
        }
        assertThat(packReads(recording)).containsExactlyElementsOf(expected);
        assertThat(recording.wholeReads()).noneMatch(k -> k.value().startsWith("packs/"));
        assertThat(result.storeReads()).isEqualTo(expected.size());
        assertThat(TestRepos.sameTree(restored, tmp.resolve("in-order"))).isTrue();
    }

    @Test
    void aChunkUsedByTwoFilesAndAtTwoOffsetsIsFetchedOnceAndWrittenToEveryUse() throws IOException {
        Manifest manifest = readManifest(store, crypto, snapshot.id());
        Map<ChunkId, List<String>> uses = new HashMap<>();
        long totalBytes = 0;
        for (Manifest.Entry e : manifest.entries()) {
            for (Manifest.ChunkRef ref : e.chunks()) {
                uses.computeIfAbsent(ref.id(), k -> new ArrayList<>()).add(e.entry().path());
                totalBytes += ref.length();
            }
        }
        ChunkId inTwoFiles = uses.entrySet().stream().filter(u -> u.getValue().contains("a/f03") && u.getValue().contains("b/copy-of-f03"))
                .findFirst().orElseThrow().getKey();
        ChunkId twiceInOneFile = uses.entrySet().stream()
                .filter(u -> u.getValue().stream().filter("c/f06-twice"::equals).count() == 2).findFirst().orElseThrow().getKey();
        long distinctBytes = manifest.entries().stream().flatMap(e -> e.chunks().stream()).distinct()
                .mapToLong(Manifest.ChunkRef::length).sum();

        RecordingBlobStore recording = new RecordingBlobStore(store);
        RestoreResult result;
        try (Repository repo = open(recording, 8, 64 << 20)) {
            recording.clear();
            result = repo.restore(snapshot.id(), tmp.resolve("shared"), RestoreOptions.defaults());
        }
        List<RecordingBlobStore.Read> reads = packReads(recording);
        assertNoPackRegionReadTwice(reads);
        Map<ChunkId, Location> where = readIndexFiles(store, crypto);
        for (ChunkId shared : List.of(inTwoFiles, twiceInOneFile)) {
            Location blob = where.get(shared);
            assertThat(reads).filteredOn(r -> covers(r, blob)).as("ranges holding chunk %s", shared).hasSize(1);
        }
        assertThat(result.bytesDownloaded()).as("each chunk's plaintext fetched once").isEqualTo(distinctBytes)
                .isLessThan(totalBytes);
        Path out = tmp.resolve("shared");
        assertThat(out.resolve("b/copy-of-f03")).hasSameBinaryContentAs(tmp.resolve("first/f03"));
        assertThat(Files.readAllBytes(out.resolve("c/f06-twice"))).isEqualTo(Files.readAllBytes(restored.resolve("c/f06-twice")));
        assertThat(TestRepos.sameTree(restored, out)).isTrue();
    }

    @Test
    void rangedReadsInFlightStayWithinTheBudget() throws IOException {
        // three range buffers' worth: RepositoryOptions' javadoc gives min(8, max(2, inFlightBytes / pack buffer)) buffers
        long budget = 3L * packBufferSize;
        RecordingBlobStore recording = new RecordingBlobStore(store);
        try (Repository repo = open(recording, 8, budget)) {
            recording.clear();
            // each read waits for a fourth to join it (or 300 ms): a restore that let four out would be caught
            recording.holdPositionalReads(4, Duration.ofMillis(300));
            repo.restore(snapshot.id(), tmp.resolve("bounded"), RestoreOptions.defaults());
        }
        assertThat(packReads(recording).size()).isGreaterThan(3);
        assertThat(recording.peakOutstanding()).as("ranged reads at once").isLessThanOrEqualTo(3).isGreaterThan(1);
        assertThat(recording.peakOutstandingBytes()).as("bytes of ranged reads at once").isLessThanOrEqualTo(budget);
        assertThat(TestRepos.sameTree(restored, tmp.resolve("bounded"))).isTrue();
    }

    // ------------------------------------------------------------ the rule, derived from the format

    /** Where one chunk's blob lives, as the index files say. */
    record Location(BlobKey pack, long offset, long length) {
        long end() {
            return offset + length;
        }
    }

    static Crypto crypto(BlobStore store) throws IOException {
        RepositoryConfig config = RepositoryConfig.fromJson(store.getBytes(BlobKey.of("config")), "config");
        return new Crypto(Crypto.unwrap(TestRepos.RAW_KEY, config.slots().get(0).wrapped(), config.context()));
    }

    static Manifest readManifest(BlobStore store, Crypto crypto, SnapshotId id) throws IOException {
        byte[] sealed = store.getBytes(BlobKey.of("snapshots/" + id.value()));
        return Manifest.fromJson(id, crypto.openManifest(id.value(), sealed, 64 << 20, "test"), "test");
    }

    /** Every chunk's location from the index files, read and opened here (first file in key order wins, as for readers). */
    static Map<ChunkId, Location> readIndexFiles(BlobStore store, Crypto crypto) throws IOException {
        List<BlobInfo> files;
        try (Stream<BlobInfo> s = store.list("index")) {
            files = new ArrayList<>(s.toList());
        }
        files.sort(Comparator.comparing(i -> i.key().value()));
        Map<ChunkId, Location> where = new HashMap<>();
        for (BlobInfo f : files) {
            byte[] id = PackFormat.parseName(f.key().name());
            byte[] plain = crypto.openObject(IndexFile.DOMAIN, id, store.getBytes(f.key()), IndexFile.MAX_PLAIN, "test");
            for (IndexFile.PackEntry p : IndexFile.decode(plain, 1 << 24, "test")) {
                for (PackFormat.Blob b : p.blobs()) {
                    where.putIfAbsent(b.id(), new Location(PackFormat.key(p.packId()), b.offset(), b.length()));
                }
            }
        }
        return where;
    }

    static Map<BlobKey, Map<ChunkId, Location>> indexByPack(BlobStore store, Crypto crypto) throws IOException {
        Map<BlobKey, Map<ChunkId, Location>> byPack = new HashMap<>();
        readIndexFiles(store, crypto).forEach((id, l) -> byPack.computeIfAbsent(l.pack(), k -> new HashMap<>()).put(id, l));
        return byPack;
    }

    /**
     * The ranged reads a restore of {@code id} may issue, in order: packs in order of first use
     * (files in path order, each file's chunks in order), each pack's needed blobs in offset
     * order, a new range where the gap from the previous range's end exceeds {@code maxGap} or
     * the range would exceed {@code maxLength} bytes.
     */
    static List<RecordingBlobStore.Read> expectedReads(BlobStore store, Crypto crypto, SnapshotId id, int maxGap, int maxLength)
            throws IOException {
        Map<ChunkId, Location> where = readIndexFiles(store, crypto);
        List<Manifest.Entry> entries = new ArrayList<>(readManifest(store, crypto, id).entries());
        entries.sort(Comparator.comparing(e -> e.entry().path()));
        Map<BlobKey, Set<Location>> byPack = new LinkedHashMap<>();
        for (Manifest.Entry e : entries) {
            for (Manifest.ChunkRef ref : e.chunks()) {
                Location l = where.get(ref.id());
                byPack.computeIfAbsent(l.pack(), k -> new LinkedHashSet<>()).add(l);
            }
        }
        List<RecordingBlobStore.Read> reads = new ArrayList<>();
        for (Map.Entry<BlobKey, Set<Location>> pack : byPack.entrySet()) {
            List<Location> blobs = new ArrayList<>(pack.getValue());
            blobs.sort(Comparator.comparingLong(Location::offset));
            long start = blobs.get(0).offset();
            long end = blobs.get(0).end();
            for (Location b : blobs.subList(1, blobs.size())) {
                if (b.offset() - end > maxGap || b.end() - start > maxLength) {
                    reads.add(new RecordingBlobStore.Read(pack.getKey(), start, end - start));
                    start = b.offset();
                }
                end = Math.max(end, b.end());
            }
            reads.add(new RecordingBlobStore.Read(pack.getKey(), start, end - start));
        }
        return reads;
    }

    static List<RecordingBlobStore.Read> packReads(RecordingBlobStore recording) {
        return recording.rangedReads().stream().filter(r -> r.key().value().startsWith("packs/")).toList();
    }

    /** Asserts that no two ranged reads of one pack overlap (a region read twice) or repeat. */
    static void assertNoPackRegionReadTwice(List<RecordingBlobStore.Read> reads) {
        Map<BlobKey, List<RecordingBlobStore.Read>> byPack = new HashMap<>();
        reads.forEach(r -> byPack.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r));
        for (List<RecordingBlobStore.Read> ranges : byPack.values()) {
            List<RecordingBlobStore.Read> sorted = new ArrayList<>(ranges);
            sorted.sort(Comparator.comparingLong(RecordingBlobStore.Read::offset));
            for (int i = 1; i < sorted.size(); i++) {
                RecordingBlobStore.Read before = sorted.get(i - 1);
                assertThat(sorted.get(i).offset()).as("%s read again from %d", before.key(), sorted.get(i).offset())
                        .isGreaterThanOrEqualTo(before.offset() + before.length());
            }
        }
    }

    static boolean covers(RecordingBlobStore.Read r, Location blob) {
        return r.key().equals(blob.pack()) && r.offset() <= blob.offset() && blob.end() <= r.offset() + r.length();
    }

    /** Whether {@code r} also reads a blob of its pack that the snapshot does not need (it spans a gap). */
    private static boolean spansAGap(RecordingBlobStore.Read r, Map<ChunkId, Location> packBlobs, Set<ChunkId> needed) {
        return packBlobs.entrySet().stream().anyMatch(b -> !needed.contains(b.getKey()) && r.offset() <= b.getValue().offset()
                && b.getValue().end() <= r.offset() + r.length());
    }
}
