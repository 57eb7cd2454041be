package io.dr4j.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The behaviour every {@link BlobStore} promises, as one abstract JUnit 5 suite. A backend (or
 * decorator) is trusted when a subclass that supplies it passes every test here. Tests for an
 * optional {@link Capability} run when the store declares it, and the declaration is then
 * checked by them.
 *
 * <p>Subclasses implement {@link #newStore()} to return an empty store for each test; the suite
 * closes it after the test. Shipped in dr-core's test-jar.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
public abstract class BlobStoreContract {

    /** Size of the "multi-MiB" objects; subclasses may lower it for slow servers. */
    protected int largeObjectSize() {
        return 12 * 1024 * 1024 + 17;
    }

    /** How many keys the pagination test lists; must exceed the backend's page size (1,000 on S3 and Azure). */
    protected int paginationKeyCount() {
        return 1_050;
    }

    /** Returns a new, empty store for one test. */
    protected abstract BlobStore newStore() throws Exception;

    @TempDir
    protected Path tempDir;

    protected BlobStore store;

    @BeforeEach
    void openStore() throws Exception {
        store = newStore();
    }

    @AfterEach
    void closeStore() throws Exception {
        if (store != null) {
            store.close();
        }
    }

    protected static BlobKey key(String value) {
        return BlobKey.of(value);
    }

    protected static byte[] randomBytes(long seed, int size) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    protected Set<String> listKeys(String prefix) throws IOException {
        try (Stream<BlobInfo> listing = store.list(prefix)) {
            return listing.map(i -> i.key().value()).collect(Collectors.toSet());
        }
    }

    @Test
    void nameIsNotBlank() {
        assertThat(store.name()).isNotBlank();
    }

    @Test
    void putThenGetReturnsSameBytes() throws IOException {
        byte[] data = "hello, checkpoint".getBytes(StandardCharsets.UTF_8);
        store.put(key("a/b/c.txt"), data);
        assertThat(store.getBytes(key("a/b/c.txt"))).isEqualTo(data);
        try (InputStream in = store.get(key("a/b/c.txt"))) {
            assertThat(in.readAllBytes()).isEqualTo(data);
        }
    }

    @Test
    void emptyObjectRoundTrips() throws IOException {
        store.put(key("empty"), new byte[0]);
        assertThat(store.getBytes(key("empty"))).isEmpty();
        assertThat(store.stat(key("empty")).size()).isZero();
        assertThat(listKeys("")).contains("empty");
    }

    @Test
    void oneByteObjectRoundTrips() throws IOException {
        store.put(key("one"), new byte[] {42});
        assertThat(store.getBytes(key("one"))).containsExactly(42);
        assertThat(store.stat(key("one")).size()).isEqualTo(1);
    }

    @Test
    void largeObjectFromFileRoundTrips() throws IOException {
        byte[] data = randomBytes(1, largeObjectSize());
        Path source = tempDir.resolve("large.bin");
        Files.write(source, data);
        store.put(key("large/from-file"), source);
        assertThat(store.stat(key("large/from-file")).size()).isEqualTo(data.length);
        try (InputStream in = store.get(key("large/from-file"))) {
            assertThat(readInSmallPieces(in)).isEqualTo(data);
        }
        assertThat(Files.readAllBytes(source)).isEqualTo(data);
    }

    @Test
    void largeObjectFromStreamRoundTrips() throws IOException {
        byte[] data = randomBytes(2, largeObjectSize());
        store.put(key("large/from-stream"), new ByteArrayInputStream(data), data.length);
        assertThat(store.getBytes(key("large/from-stream"))).isEqualTo(data);
    }

    @Test
    void streamPutReadsExactlyTheGivenLength() throws IOException {
        byte[] data = randomBytes(3, 1000);
        ByteArrayInputStream in = new ByteArrayInputStream(data);
        store.put(key("prefix-of-stream"), in, 600);
        assertThat(store.getBytes(key("prefix-of-stream"))).isEqualTo(Arrays.copyOf(data, 600));
    }

    @Test
    void shortStreamFailsAndLeavesPreviousObject() throws IOException {
        store.put(key("short"), "before".getBytes(StandardCharsets.UTF_8));
        byte[] data = randomBytes(4, 100);
        assertThatThrownBy(() -> store.put(key("short"), new ByteArrayInputStream(data), 200))
                .isInstanceOf(IOException.class);
        assertThat(store.getBytes(key("short"))).asString(StandardCharsets.UTF_8).isEqualTo("before");
    }

    @Test
    void shortStreamFailsAndLeavesNoObject() throws IOException {
        byte[] data = randomBytes(5, 100);
        assertThatThrownBy(() -> store.put(key("never"), new ByteArrayInputStream(data), 101))
                .isInstanceOf(IOException.class);
        assertThat(store.find(key("never"))).isEmpty();
    }

    @Test
    void putReplacesExistingObject() throws IOException {
        store.put(key("k"), randomBytes(6, 5000));
        byte[] second = randomBytes(7, 300);
        store.put(key("k"), second);
        assertThat(store.getBytes(key("k"))).isEqualTo(second);
        assertThat(store.stat(key("k")).size()).isEqualTo(300);
    }

    @Test
    void getOfMissingKeyThrowsNoSuchFileNamingTheKey() {
        assertThatThrownBy(() -> store.get(key("missing/object")))
                .isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining("missing/object");
        assertThatThrownBy(() -> store.getBytes(key("missing/object")))
                .isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> store.get(key("missing/object"), 0, 10))
                .isInstanceOf(NoSuchFileException.class);
    }

    @Test
    void statReportsSizeAndRecentModificationTime() throws IOException {
        Instant before = Instant.now().minus(Duration.ofMinutes(5));
        store.put(key("s/t/a/t"), randomBytes(8, 1234));
        BlobInfo info = store.stat(key("s/t/a/t"));
        assertThat(info.key()).isEqualTo(key("s/t/a/t"));
        assertThat(info.size()).isEqualTo(1234);
        assertThat(info.lastModified()).isAfter(before).isBefore(Instant.now().plus(Duration.ofMinutes(5)));
        assertThat(store.find(key("s/t/a/t"))).contains(info);
    }

    @Test
    void statOfMissingKeyThrowsNoSuchFile() {
        assertThatThrownBy(() -> store.stat(key("nope"))).isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining("nope");
    }

    @Test
    void statOfADirectoryLikePrefixIsNotFound() throws IOException {
        store.put(key("dir/child"), new byte[] {1});
        assertThatThrownBy(() -> store.stat(key("dir"))).isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> store.get(key("dir"))).isInstanceOf(NoSuchFileException.class);
    }

    @Test
    void rangedReadsReturnTheRequestedSlice() throws IOException {
        byte[] data = randomBytes(9, 10_000);
        store.put(key("ranged"), data);
        assertThat(readRange("ranged", 0, 10)).isEqualTo(Arrays.copyOfRange(data, 0, 10));
        assertThat(readRange("ranged", 1234, 4321)).isEqualTo(Arrays.copyOfRange(data, 1234, 1234 + 4321));
        assertThat(readRange("ranged", 9_990, 10)).isEqualTo(Arrays.copyOfRange(data, 9_990, 10_000));
        assertThat(readRange("ranged", 0, 10_000)).isEqualTo(data);
    }

    @Test
    void rangedReadsAtAndPastTheEnd() throws IOException {
        byte[] data = randomBytes(10, 1000);
        store.put(key("edge"), data);
        assertThat(readRange("edge", 990, 100)).isEqualTo(Arrays.copyOfRange(data, 990, 1000));
        assertThat(readRange("edge", 999, 1)).containsExactly(data[999]);
        assertThat(readRange("edge", 1000, 10)).isEmpty();
        assertThat(readRange("edge", 0, 0)).isEmpty();
        assertThat(readRange("edge", 500, 0)).isEmpty();
        assertThat(readRange("edge", 0, Long.MAX_VALUE)).isEqualTo(data);
        assertThatThrownBy(() -> store.get(key("edge"), 1001, 1)).isInstanceOf(EOFException.class);
        assertThatThrownBy(() -> store.get(key("edge"), -1, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.get(key("edge"), 0, -1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void putOfAnArrayRangeStoresExactlyThatRange() throws IOException {
        byte[] data = randomBytes(24, 3 * 1024 * 1024 + 5);
        store.put(key("range-put"), data, 1000, 2 * 1024 * 1024 + 3);
        assertThat(store.getBytes(key("range-put"))).isEqualTo(Arrays.copyOfRange(data, 1000, 1000 + 2 * 1024 * 1024 + 3));
        assertThatThrownBy(() -> store.put(key("range-bad"), data, data.length - 1, 2)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void readFillsTheCallersBufferAtItsPosition() throws IOException {
        byte[] data = randomBytes(21, 70_000);
        store.put(key("into-buffer"), data);
        ByteBuffer heap = ByteBuffer.allocate(50_000);
        heap.position(7).limit(7 + 40_000);
        store.read(key("into-buffer"), 12_345, heap);
        assertThat(heap.position()).isEqualTo(7 + 40_000);
        assertThat(Arrays.copyOfRange(heap.array(), 7, 7 + 40_000)).isEqualTo(Arrays.copyOfRange(data, 12_345, 52_345));
        byte[] big = randomBytes(25, 3 * 1024 * 1024 + 11);
        store.put(key("into-buffer-big"), big);
        ByteBuffer whole = ByteBuffer.allocate(big.length - 5);
        store.read(key("into-buffer-big"), 5, whole);
        assertThat(whole.array()).isEqualTo(Arrays.copyOfRange(big, 5, big.length));
        ByteBuffer direct = ByteBuffer.allocateDirect(1000);
        store.read(key("into-buffer"), 69_000, direct);
        byte[] got = new byte[1000];
        direct.flip().get(got);
        assertThat(got).isEqualTo(Arrays.copyOfRange(data, 69_000, 70_000));
    }

    /**
     * A read into a buffer of a range spanning many of a backend's transfer parts (S3 parts, Azure
     * ranges), at unaligned offsets, into a heap buffer at a position and into a direct buffer:
     * the parallel ranged reads land each slice where it belongs.
     */
    @Test
    void largeReadsIntoBuffersSpanManyParts() throws IOException {
        int size = largeObjectSize();
        byte[] data = randomBytes(24, size);
        store.put(key("into-buffer/large"), data);
        ByteBuffer heap = ByteBuffer.allocate(size);
        heap.position(3).limit(3 + size - 1001);
        store.read(key("into-buffer/large"), 1001, heap);
        assertThat(heap.position()).isEqualTo(3 + size - 1001);
        assertThat(Arrays.copyOfRange(heap.array(), 3, 3 + size - 1001)).isEqualTo(Arrays.copyOfRange(data, 1001, size));
        ByteBuffer direct = ByteBuffer.allocateDirect(size - 7);
        store.read(key("into-buffer/large"), 7, direct);
        byte[] got = new byte[size - 7];
        direct.flip().get(got);
        assertThat(got).isEqualTo(Arrays.copyOfRange(data, 7, size));
        assertThatThrownBy(() -> store.read(key("into-buffer/large"), 1, ByteBuffer.allocate(size)))
                .isInstanceOf(EOFException.class);
    }

    @Test
    void readPastTheEndIsEofAndOfAMissingKeyIsNoSuchFile() throws IOException {
        store.put(key("short"), randomBytes(22, 100));
        assertThatThrownBy(() -> store.read(key("short"), 50, ByteBuffer.allocate(51))).isInstanceOf(EOFException.class);
        assertThatThrownBy(() -> store.read(key("absent"), 0, ByteBuffer.allocate(1))).isInstanceOf(NoSuchFileException.class);
    }

    @Test
    void readVerifiedPassesTheRangeToTheCheckAndRefusesWhatItRejects() throws IOException {
        byte[] data = randomBytes(23, 5000);
        store.put(key("checked"), data);
        ByteBuffer dst = ByteBuffer.allocate(1000);
        List<byte[]> seen = new ArrayList<>();
        store.readVerified(key("checked"), 4000, dst, view -> {
            byte[] b = new byte[view.remaining()];
            view.get(b);
            seen.add(b);
            return true;
        });
        assertThat(seen).hasSize(1);
        assertThat(seen.get(0)).isEqualTo(Arrays.copyOfRange(data, 4000, 5000));
        assertThatThrownBy(() -> store.readVerified(key("checked"), 0, ByteBuffer.allocate(10), view -> false))
                .isInstanceOf(RejectedBlobException.class)
                .hasMessageContaining("checked");
    }

    @Test
    void getBytesVerifiedReturnsWhatTheCheckAcceptsAndTellsRejectedTooLargeAndMissingApart() throws IOException {
        byte[] data = randomBytes(25, 3000);
        store.put(key("whole/checked"), data);
        List<byte[]> seen = new ArrayList<>();
        byte[] got = store.getBytesVerified(key("whole/checked"), 3000, bytes -> seen.add(bytes.clone()));
        assertThat(got).isEqualTo(data);
        assertThat(seen).hasSize(1);
        assertThat(seen.get(0)).isEqualTo(data);
        assertThat(store.getBytesVerified(key("whole/checked"), Long.MAX_VALUE, bytes -> true)).isEqualTo(data);
        store.put(key("whole/empty"), new byte[0]);
        assertThat(store.getBytesVerified(key("whole/empty"), 0, bytes -> bytes.length == 0)).isEmpty();

        assertThatThrownBy(() -> store.getBytesVerified(key("whole/checked"), 3000, bytes -> false))
                .isInstanceOfSatisfying(RejectedBlobException.class, e -> assertThat(e.tooLarge()).isFalse())
                .hasMessageContaining("whole/checked").hasMessageContaining("verification");
        AtomicBoolean checked = new AtomicBoolean();
        assertThatThrownBy(() -> store.getBytesVerified(key("whole/checked"), 2999, bytes -> {
            checked.set(true);
            return true;
        }))
                .isInstanceOfSatisfying(RejectedBlobException.class, e -> assertThat(e.tooLarge()).isTrue())
                .hasMessageContaining("whole/checked").hasMessageContaining("2999");
        assertThat(checked).as("an object over the ceiling never reaches the check").isFalse();
        assertThatThrownBy(() -> store.getBytesVerified(key("whole/absent"), 3000, bytes -> true))
                .isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> store.getBytesVerified(key("whole/checked"), -1, bytes -> true))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rangedReadOfEmptyObject() throws IOException {
        store.put(key("empty-ranged"), new byte[0]);
        assertThat(readRange("empty-ranged", 0, 10)).isEmpty();
    }

    @Test
    void unicodeKeysRoundTripAndList() throws IOException {
        List<String> keys = List.of("modèles/llama-3/étape-100/shard-0.bin", "模型/检查点/权重.safetensors",
                "emoji/🚀/weights", "space in/the name", "a+b=c&d/%20x");
        for (String k : keys) {
            store.put(key(k), k.getBytes(StandardCharsets.UTF_8));
        }
        for (String k : keys) {
            assertThat(store.getBytes(key(k))).asString(StandardCharsets.UTF_8).isEqualTo(k);
        }
        assertThat(listKeys("")).containsExactlyInAnyOrderElementsOf(keys);
        assertThat(listKeys("模型")).containsExactly("模型/检查点/权重.safetensors");
    }

    @Test
    void invalidKeysAreRejectedBeforeReachingTheStore() {
        for (String bad : List.of("", "/abs", "trailing/", "a//b", "../escape", "a/../../b", "a/./b", "back\\slash",
                "nul\u0000byte", "x".repeat(BlobKey.MAX_SEGMENT_LENGTH + 1))) {
            assertThatThrownBy(() -> BlobKey.of(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("Invalid blob key");
        }
        assertThatThrownBy(() -> store.list("a/")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void listingPagesThroughMoreThanAThousandKeys() throws Exception {
        int count = paginationKeyCount();
        putMany("many/%05d", count);
        store.put(key("other/x"), new byte[] {1});
        Set<String> listed = listKeys("many");
        assertThat(listed).hasSize(count);
        assertThat(listed).containsAll(IntStream.range(0, count).mapToObj(i -> String.format("many/%05d", i)).toList());
        try (Stream<BlobInfo> listing = store.list("many")) {
            assertThat(listing.allMatch(info -> info.size() == 10)).isTrue();
        }
        assertThat(listKeys("")).hasSize(count + 1);
    }

    /**
     * A lazy listing fetches later pages (or walks later directories) only as the stream is
     * consumed, so keys deleted after the first element was taken, and before the listing reached
     * them, are not listed. An eager listing (everything fetched by {@code list} itself) still
     * returns them and fails here. The keys deleted are the last ones in key order, beyond the
     * first page of any paged backend (see {@link #paginationKeyCount()}); each key sits in its own
     * directory, so a file-system walk reaches a directory that is empty by then.
     */
    @Test
    void listingIsLazy() throws Exception {
        int count = paginationKeyCount();
        int deleted = 20;
        putMany("lazy/%05d/x", count);
        Set<String> listed = new HashSet<>();
        Set<String> gone = new HashSet<>();
        try (Stream<BlobInfo> listing = store.list("lazy")) {
            java.util.Iterator<BlobInfo> it = listing.iterator();
            String first = it.next().key().value();
            listed.add(first);
            for (int i = count - deleted; i < count; i++) {
                String k = String.format("lazy/%05d/x", i);
                if (!k.equals(first)) {
                    store.delete(key(k));
                    gone.add(k);
                }
            }
            it.forEachRemaining(info -> listed.add(info.key().value()));
        }
        assertThat(listed).as("keys deleted before the listing reached them").doesNotContainAnyElementsOf(gone);
        assertThat(listed).hasSize(count - gone.size());
    }

    /** Puts {@code count} small objects named by {@code format} (with the index) in parallel. */
    protected void putMany(String format, int count) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> puts = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                String k = String.format(format, i);
                puts.add(pool.submit(() -> {
                    store.put(key(k), k.getBytes(StandardCharsets.UTF_8));
                    return null;
                }));
            }
            for (Future<?> f : puts) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void prefixListingDoesNotMatchSiblings() throws IOException {
        store.put(key("a/b/1"), new byte[] {1});
        store.put(key("a/b/sub/2"), new byte[] {2});
        store.put(key("a/bc/3"), new byte[] {3});
        store.put(key("a/b.x"), new byte[] {4});
        store.put(key("ab/5"), new byte[] {5});
        assertThat(listKeys("a/b")).containsExactlyInAnyOrder("a/b/1", "a/b/sub/2");
        assertThat(listKeys("a")).containsExactlyInAnyOrder("a/b/1", "a/b/sub/2", "a/bc/3", "a/b.x");
        assertThat(listKeys("a/b/1")).isEmpty();
        assertThat(listKeys("missing")).isEmpty();
    }

    @Test
    void listingReportsSizes() throws IOException {
        store.put(key("sized/a"), new byte[7]);
        store.put(key("sized/b"), new byte[0]);
        try (Stream<BlobInfo> listing = store.list("sized")) {
            assertThat(listing.collect(Collectors.toMap(i -> i.key().value(), BlobInfo::size)))
                    .containsEntry("sized/a", 7L).containsEntry("sized/b", 0L).hasSize(2);
        }
    }

    @Test
    void deleteRemovesTheObject() throws IOException {
        store.put(key("d/x"), new byte[] {1});
        store.put(key("d/y"), new byte[] {2});
        store.delete(key("d/x"));
        assertThat(store.find(key("d/x"))).isEmpty();
        assertThatThrownBy(() -> store.get(key("d/x"))).isInstanceOf(NoSuchFileException.class);
        assertThat(listKeys("d")).containsExactly("d/y");
    }

    @Test
    void deleteOfMissingKeySucceeds() throws IOException {
        store.delete(key("never/existed"));
        store.put(key("once"), new byte[] {1});
        store.delete(key("once"));
        store.delete(key("once"));
        assertThat(listKeys("")).isEmpty();
    }

    @Test
    void putIfAbsentCreatesThenRefuses() throws IOException {
        store.putIfAbsent(key("lock/owner"), "first".getBytes(StandardCharsets.UTF_8));
        assertThat(store.getBytes(key("lock/owner"))).asString(StandardCharsets.UTF_8).isEqualTo("first");
        assertThatThrownBy(() -> store.putIfAbsent(key("lock/owner"), "second".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(FileAlreadyExistsException.class)
                .hasMessageContaining("lock/owner");
        assertThat(store.getBytes(key("lock/owner"))).asString(StandardCharsets.UTF_8).isEqualTo("first");
    }

    @Test
    void concurrentPutIfAbsentHasExactlyOneWinnerWhenDeclared() throws Exception {
        // not declared: putIfAbsent is documented as best effort, and the test does not apply
        assumeTrue(store.supportsConditionalPut(), "the store does not declare CONDITIONAL_PUT");
        int writers = 8;
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < writers; i++) {
                byte[] body = ("writer-" + i).getBytes(StandardCharsets.UTF_8);
                results.add(pool.submit(() -> {
                    start.await();
                    try {
                        store.putIfAbsent(key("race/lock"), body);
                        return true;
                    } catch (FileAlreadyExistsException e) {
                        return false;
                    }
                }));
            }
            start.countDown();
            int winners = 0;
            for (Future<Boolean> f : results) {
                winners += f.get() ? 1 : 0;
            }
            assertThat(winners).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void concurrentPutsToOneKeyNeverMix() throws Exception {
        int writers = 6;
        int size = 1024 * 1024;
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> futures = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                byte[] body = new byte[size];
                Arrays.fill(body, (byte) (w + 1));
                futures.add(pool.submit((Callable<Void>) () -> {
                    start.await();
                    for (int round = 0; round < 3; round++) {
                        store.put(key("contended"), body);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        byte[] result = store.getBytes(key("contended"));
        assertThat(result).hasSize(size);
        assertUniform(result);
    }

    @Test
    void concurrentReadersSeeWholeObjectsOnly() throws Exception {
        int size = 256 * 1024;
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            byte[] initial = new byte[size];
            store.put(key("hot"), initial);
            Future<Integer> writer = pool.submit(() -> {
                int rounds = 0;
                for (; rounds < 40; rounds++) {
                    byte[] body = new byte[size];
                    Arrays.fill(body, (byte) rounds);
                    store.put(key("hot"), body);
                }
                stop.set(true);
                return rounds;
            });
            List<Future<Integer>> readers = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                readers.add(pool.submit(() -> {
                    int reads = 0;
                    while (!stop.get() || reads == 0) {
                        byte[] seen = store.getBytes(key("hot"));
                        assertThat(seen).hasSize(size);
                        assertUniform(seen);
                        reads++;
                    }
                    return reads;
                }));
            }
            assertThat(writer.get(2, TimeUnit.MINUTES)).isEqualTo(40);
            for (Future<Integer> reader : readers) {
                assertThat(reader.get(2, TimeUnit.MINUTES)).isPositive();
            }
        } finally {
            stop.set(true);
            pool.shutdownNow();
        }
    }

    @Test
    void keysAreIndependentOfEachOther() throws IOException {
        Set<String> written = new HashSet<>();
        for (int i = 0; i < 30; i++) {
            String k = "indep/" + (i % 3) + "/" + i;
            store.put(key(k), randomBytes(i, 100 + i));
            written.add(k);
        }
        for (int i = 0; i < 30; i++) {
            assertThat(store.getBytes(key("indep/" + (i % 3) + "/" + i))).isEqualTo(randomBytes(i, 100 + i));
        }
        assertThat(listKeys("indep")).isEqualTo(written);
    }

    /** The prefix a subclass configures its store to lock, if the store declares {@link Capability#OBJECT_LOCK}. */
    public static final String LOCKED_PREFIX = "locked";

    /** The prefix a subclass configures its store to write to a non-default tier, if it declares {@link Capability#STORAGE_TIERS}. */
    public static final String TIERED_PREFIX = "cold";

    /**
     * The prefix under which a store that declares {@link Capability#OBJECT_LOCK} writes locked
     * objects: {@link #LOCKED_PREFIX} unless a subclass says otherwise.
     */
    protected String lockedPrefix() {
        return LOCKED_PREFIX;
    }

    /**
     * The prefix that a store declaring {@link Capability#STORAGE_TIERS} writes to a tier other
     * than its default: {@link #TIERED_PREFIX} unless a subclass says otherwise.
     */
    protected String tieredPrefix() {
        return TIERED_PREFIX;
    }

    /**
     * The tier the server reports for {@code key} (read outside the SPI, e.g. with the SDK),
     * empty for the default tier. A subclass whose store declares {@link Capability#STORAGE_TIERS}
     * overrides it where the tier can be observed; the default says it cannot.
     *
     * @throws UnsupportedOperationException if the tier cannot be observed
     */
    protected java.util.Optional<String> tierOf(BlobKey key) throws IOException {
        throw new UnsupportedOperationException("tier not observable");
    }

    /**
     * A store that declares {@link Capability#OBJECT_LOCK} never writes a lockable object
     * unlocked: either the object is written and then can be neither replaced nor deleted, or the
     * put is refused as permanent (the server cannot lock) and nothing is written.
     */
    @Test
    void lockedObjectsAreImmutableOrRefusedWhenDeclared() throws IOException {
        assumeTrue(store.capabilities().contains(Capability.OBJECT_LOCK), "the store does not declare OBJECT_LOCK");
        BlobKey locked = key(lockedPrefix() + "/manifest-1");
        byte[] data = "immutable".getBytes(StandardCharsets.UTF_8);
        try {
            store.put(locked, data);
        } catch (PermanentBlobStoreException refused) {
            assertThat(store.find(locked)).as("a refused locked put writes nothing").isEmpty();
            return;
        }
        assertThatThrownBy(() -> store.put(locked, new byte[] {1})).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> store.delete(locked)).isInstanceOf(IOException.class);
        assertThat(store.getBytes(locked)).isEqualTo(data);
        BlobKey free = key("unlocked/x");
        store.put(free, data);
        store.delete(free);
        assertThat(store.find(free)).isEmpty();
    }

    /**
     * A store that declares {@link Capability#STORAGE_TIERS} places objects under its tiered
     * prefix in another tier than the rest, and they behave as any object (put, stat, list, read).
     */
    @Test
    void tieredObjectsRoundTripInTheirTierWhenDeclared() throws IOException {
        assumeTrue(store.capabilities().contains(Capability.STORAGE_TIERS), "the store does not declare STORAGE_TIERS");
        BlobKey tiered = key(tieredPrefix() + "/s1");
        BlobKey plain = key("untiered/s1");
        byte[] data = randomBytes(77, 4096);
        store.put(tiered, data);
        store.put(plain, data);
        assertThat(store.getBytes(tiered)).isEqualTo(data);
        assertThat(store.stat(tiered).size()).isEqualTo(data.length);
        assertThat(listKeys(tieredPrefix())).contains(tiered.value());
        java.util.Optional<String> tier;
        try {
            tier = tierOf(tiered);
        } catch (UnsupportedOperationException notObservable) {
            return;
        }
        assertThat(tier).as("tier of " + tiered).isPresent().isNotEqualTo(tierOf(plain));
    }

    @Test
    void putFromMissingFileFailsWithNoSuchFile() {
        assertThatThrownBy(() -> store.put(key("from/missing"), tempDir.resolve("does-not-exist")))
                .isInstanceOf(NoSuchFileException.class);
    }

    protected byte[] readRange(String k, long offset, long length) throws IOException {
        try (InputStream in = store.get(key(k), offset, length)) {
            return in.readAllBytes();
        }
    }

    private static byte[] readInSmallPieces(InputStream in) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        byte[] buf = new byte[8191];
        int n;
        while ((n = in.read(buf)) >= 0) {
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    private static void assertUniform(byte[] body) {
        byte first = body[0];
        for (int i = 1; i < body.length; i++) {
            if (body[i] != first) {
                throw new AssertionError("object mixes two writes: byte 0 is " + first + " but byte " + i + " is " + body[i]);
            }
        }
    }
}
