package io.dr4j.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Direct (page-cache bypassing) puts and ranged reads of a {@link LocalBlobStore} return exactly
 * the bytes of a buffered store, at lengths and offsets that are not block multiples, and fall
 * back to the page cache where the file system refuses {@code O_DIRECT}.
 */
class DirectIoTest {

    @TempDir
    Path dir;

    @AfterEach
    void removeTheTargetDirectory() throws IOException {
        io.dr4j.testing.TestFiles.deleteTree(Path.of("target", "direct-io-test"));
    }

    private static byte[] random(int length, long seed) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return b;
    }

    /**
     * A directory whose file system takes O_DIRECT: the test's temporary directory, or, where that
     * is a tmpfs (some CI machines), one in the module's {@code target/} on the checkout's disk.
     * Skips only where neither takes it: there the fallback is what runs.
     */
    private Path directDir() throws IOException {
        for (Path candidate : new Path[] {dir, Path.of("target", "direct-io-test")}) {
            Path d = Files.createDirectories(candidate.resolve("d" + System.nanoTime()));
            DirectIo probe = new DirectIo(true);
            Path f = Files.createFile(d.resolve("probe"));
            probe.write(f, new byte[DirectIo.MIN_LENGTH], 0, DirectIo.MIN_LENGTH, false);
            Files.delete(f);
            if (probe.enabled()) {
                return d;
            }
        }
        assumeTrue(false, "neither the temporary directory nor target/ takes O_DIRECT");
        return null;
    }

    @Test
    void directPutsAndRangedReadsMatchTheBytesAtUnalignedLengthsAndOffsets() throws IOException {
        LocalBlobStore store = LocalBlobStore.open(directDir().resolve("store"));
        int[] lengths = {DirectIo.MIN_LENGTH, DirectIo.MIN_LENGTH + 1, DirectIo.SLICE, DirectIo.SLICE + 4095,
            5 * DirectIo.SLICE + 12345};
        for (int length : lengths) {
            byte[] data = random(length + 7, length);
            BlobKey key = BlobKey.of("packs/p" + length);
            store.put(key, data, 3, length); // an offset into the array, as a pack buffer's prefix
            byte[] expected = Arrays.copyOfRange(data, 3, 3 + length);
            Path file = store.root().resolve(key.value());
            assertThat(Files.size(file)).as("size of a %d-byte put", length).isEqualTo(length);
            assertThat(Files.readAllBytes(file)).as("content of a %d-byte put", length).isEqualTo(expected);

            for (long offset : new long[] {0, 1, 4095, 4097, length - DirectIo.MIN_LENGTH}) {
                int want = (int) Math.min(DirectIo.MIN_LENGTH + 513, length - offset);
                if (want < DirectIo.MIN_LENGTH) {
                    continue;
                }
                ByteBuffer dst = ByteBuffer.allocate(want + 10).position(5).limit(5 + want);
                store.read(key, offset, dst);
                assertThat(dst.position()).isEqualTo(5 + want);
                assertThat(Arrays.copyOfRange(dst.array(), 5, 5 + want)).as("range at %d of %d", offset, length)
                        .isEqualTo(Arrays.copyOfRange(expected, (int) offset, (int) offset + want));
            }
        }
    }

    @Test
    void aDirectReadPastTheEndIsAnEofNamingTheKey() throws IOException {
        LocalBlobStore store = LocalBlobStore.open(directDir().resolve("store"));
        int length = 3 * DirectIo.SLICE + 100;
        BlobKey key = BlobKey.of("packs/short");
        store.put(key, random(length, 1), 0, length);
        ByteBuffer dst = ByteBuffer.allocate(DirectIo.MIN_LENGTH + 200);
        assertThatThrownBy(() -> store.read(key, length - DirectIo.MIN_LENGTH, dst))
                .isInstanceOf(EOFException.class).hasMessageContaining("packs/short").hasMessageContaining("ends before byte");
    }

    @Test
    void aStoreWithDirectIoOffWritesAndReadsTheSameBytes() throws IOException {
        LocalBlobStore store = LocalBlobStore.builder(dir.resolve("plain")).directIo(false).build();
        int length = 2 * DirectIo.SLICE + 77;
        byte[] data = random(length, 9);
        BlobKey key = BlobKey.of("packs/plain");
        store.put(key, data, 0, length);
        ByteBuffer dst = ByteBuffer.allocate(length - 11);
        store.read(key, 11, dst);
        assertThat(dst.array()).isEqualTo(Arrays.copyOfRange(data, 11, length));
    }

    @Test
    void smallObjectsAndRangesAreLeftToThePageCache() throws IOException {
        DirectIo direct = new DirectIo(true);
        Path f = Files.createFile(dir.resolve("small"));
        assertThat(direct.write(f, new byte[100], 0, 100, false)).isFalse();
        assertThat(Files.size(f)).isZero();
        assertThat(direct.read(f, 0, ByteBuffer.allocate(100))).isEqualTo(-1);
    }
}
