package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;

import io.dr4j.storage.LocalBlobStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

/**
 * Laws of restore by pack: for any layout of files sharing chunks, a restore reads each region of
 * a pack at most once, in exactly the ranges the gap rule allows, and restores every byte; and
 * the range planner puts every blob in one range, never lets two neighbouring ranges be one.
 */
class RestoreByPackProperties {

    @Property(tries = 12)
    void aRestoreReadsEachPackRegionAtMostOnce(@ForAll @LongRange(min = 0, max = 1_000_000) long seed) throws IOException {
        Path tmp = Files.createTempDirectory("dr4j-restore-by-pack");
        try {
            Random random = new Random(seed);
            List<byte[]> base = new ArrayList<>();
            Path first = Files.createDirectories(tmp.resolve("first"));
            for (int i = 0, n = 2 + random.nextInt(4); i < n; i++) {
                base.add(TestRepos.random(random.nextLong(), random.nextInt(2_000_000)));
                Files.write(first.resolve("base-" + i), base.get(i));
            }
            // the restored snapshot: copies, concatenations and slices of the first one's files, and new data
            Path second = Files.createDirectories(tmp.resolve("second"));
            for (int i = 0, n = 1 + random.nextInt(5); i < n; i++) {
                byte[] a = base.get(random.nextInt(base.size()));
                byte[] b = base.get(random.nextInt(base.size()));
                byte[] content = switch (random.nextInt(4)) {
                    case 0 -> a;
                    case 1 -> concat(a, b);
                    case 2 -> Arrays.copyOfRange(a, a.length / 3, a.length);
                    default -> TestRepos.random(random.nextLong(), random.nextInt(300_000));
                };
                Files.write(Files.createDirectories(second.resolve("d" + random.nextInt(3))).resolve("file-" + i), content);
            }
            LocalBlobStore store = LocalBlobStore.open(tmp.resolve("repo"));
            Snapshot snapshot;
            int packBufferSize;
            try (Repository repo = Repository.init(store, KeyProvider.rawKey(TestRepos.RAW_KEY),
                    TestRepos.init().withPackSize(InitOptions.MIN_PACK_SIZE).withCompressionLevel(0), TestRepos.options())) {
                repo.backup(first);
                snapshot = repo.backup(second);
                packBufferSize = repo.context().packBufferSize();
            }
            Crypto crypto = RestoreByPackTest.crypto(store);
            RecordingBlobStore recording = new RecordingBlobStore(store);
            try (Repository repo = TestRepos.open(recording)) {
                recording.clear();
                repo.restore(snapshot.id(), tmp.resolve("restored"), RestoreOptions.defaults());
            }
            List<RecordingBlobStore.Read> reads = RestoreByPackTest.packReads(recording);
            RestoreByPackTest.assertNoPackRegionReadTwice(reads);
            assertThat(reads).containsExactlyInAnyOrderElementsOf(
                    RestoreByPackTest.expectedReads(store, crypto, snapshot.id(), RestoreByPackTest.MAX_GAP, packBufferSize));
            assertThat(TestRepos.sameTree(second, tmp.resolve("restored"))).isTrue();
        } finally {
            RestoreStaging.deleteTree(tmp);
        }
    }

    /** A blob of a pack for the planner: where it starts and how long it is. */
    private record Blob(int offset, int length) {
        int end() {
            return offset + length;
        }
    }

    @Property(tries = 500)
    void everyBlobIsInOneRangeAndNoTwoNeighbouringRangesCouldBeOne(@ForAll @LongRange(min = 0, max = 1_000_000) long seed,
            @ForAll @IntRange(min = 0, max = 5000) int maxGap, @ForAll @IntRange(min = 1000, max = 20_000) int maxLength) {
        Random random = new Random(seed);
        List<Blob> needed = new ArrayList<>();
        int offset = 0;
        for (int i = 0, n = 1 + random.nextInt(60); i < n; i++) {
            Blob b = new Blob(offset, 1 + random.nextInt(1000));
            offset = b.end();
            if (random.nextInt(3) > 0) {
                needed.add(b); // the others are gaps: blobs of the pack this restore does not need
            } else {
                offset += random.nextInt(3000);
            }
        }
        if (needed.isEmpty()) {
            return;
        }
        List<Blob> shuffled = new ArrayList<>(needed);
        java.util.Collections.shuffle(shuffled, random);
        List<RangePlanner.Group<Blob>> groups = RangePlanner.plan(shuffled, Blob::offset, Blob::length, maxGap, maxLength);

        assertThat(groups.stream().flatMap(g -> g.blobs().stream()).toList()).containsExactlyElementsOf(needed);
        for (int i = 0; i < groups.size(); i++) {
            RangePlanner.Group<Blob> g = groups.get(i);
            List<Blob> blobs = g.blobs();
            assertThat(g.start()).isEqualTo(blobs.get(0).offset());
            assertThat(g.start() + g.length()).isEqualTo(blobs.get(blobs.size() - 1).end());
            assertThat(g.length()).isLessThanOrEqualTo(maxLength);
            for (int j = 1; j < blobs.size(); j++) {
                assertThat(blobs.get(j).offset() - blobs.get(j - 1).end()).isLessThanOrEqualTo(maxGap);
            }
            if (i > 0) {
                RangePlanner.Group<Blob> before = groups.get(i - 1);
                long gap = g.start() - (before.start() + before.length());
                long merged = g.start() + g.length() - before.start();
                assertThat(gap).isNotNegative();
                assertThat(gap > maxGap || merged > maxLength).as("ranges %d and %d could be one read", i - 1, i).isTrue();
            }
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(a);
        out.writeBytes(b);
        return out.toByteArray();
    }
}
