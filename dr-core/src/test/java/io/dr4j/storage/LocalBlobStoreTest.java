package io.dr4j.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class LocalBlobStoreTest extends BlobStoreContract {

    @Override
    protected BlobStore newStore() throws IOException {
        return LocalBlobStore.open(tempDir.resolve("store"));
    }

    private Path root() {
        return ((LocalBlobStore) store).root();
    }

    @Test
    void aListingSkipsObjectsDeletedWhileItRuns() throws Exception {
        for (int i = 0; i < 300; i++) {
            store.put(key(String.format("locks/%032x", i)), new byte[1]);
            store.put(key(String.format("packs/%02x/p%03d", i % 4, i)), new byte[1]);
        }
        for (String prefix : new String[] {"locks", "packs"}) {
            long seen;
            try (Stream<BlobInfo> listing = store.list(prefix)) {
                java.util.Iterator<BlobInfo> it = listing.iterator();
                assertThat(it.hasNext()).isTrue();
                it.next();
                // everything the walk has read from the directory but not yet looked at disappears
                try (Stream<Path> files = Files.walk(tempDir.resolve("store").resolve(prefix))) {
                    for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        Files.delete(p);
                    }
                }
                seen = 1;
                while (it.hasNext()) {
                    it.next();
                    seen++;
                }
            }
            assertThat(seen).isBetween(1L, 300L);
        }
    }

    @Test
    void objectsAreFilesUnderTheRoot() throws IOException {
        store.put(key("chunks/ab/abcdef"), new byte[] {1, 2, 3});
        assertThat(root().resolve("chunks/ab/abcdef")).hasBinaryContent(new byte[] {1, 2, 3});
    }

    @Test
    void noTemporaryFilesRemainAfterPuts() throws IOException {
        store.put(key("x"), new byte[100]);
        store.put(key("y"), tempDir.resolve("store").resolve("x"));
        assertThatThrownBy(() -> store.put(key("z"), new java.io.ByteArrayInputStream(new byte[3]), 10))
                .isInstanceOf(java.io.EOFException.class);
        try (Stream<Path> tmp = Files.walk(root().resolve(LocalBlobStore.TMP_DIR))) {
            assertThat(tmp.filter(Files::isRegularFile)).isEmpty();
        }
    }

    @Test
    void reservedTemporaryDirectoryIsNotAKey() throws IOException {
        assertThatThrownBy(() -> store.put(key(LocalBlobStore.TMP_DIR + "/x"), new byte[1]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reserved");
        store.put(key("visible"), new byte[1]);
        assertThat(listKeys("")).containsExactly("visible");
    }

    @Test
    void symlinkedDirectoryInsideRootIsNotFollowed() throws IOException {
        Path outside = Files.createDirectories(tempDir.resolve("outside"));
        Files.write(outside.resolve("secret"), new byte[] {9});
        Files.createSymbolicLink(root().resolve("link"), outside);
        assertThatThrownBy(() -> store.get(key("link/secret")))
                .isInstanceOf(PermanentBlobStoreException.class).hasMessageContaining("symbolic link");
        assertThatThrownBy(() -> store.put(key("link/new"), new byte[] {1}))
                .isInstanceOf(PermanentBlobStoreException.class).hasMessageContaining("symbolic link");
        assertThat(outside.resolve("new")).doesNotExist();
        assertThat(listKeys("")).isEmpty();
    }

    @Test
    void symlinkedObjectIsNotRead() throws IOException {
        Path outside = Files.write(tempDir.resolve("outside-file"), new byte[] {7});
        Files.createSymbolicLink(root().resolve("file-link"), outside);
        assertThatThrownBy(() -> store.get(key("file-link"))).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> store.stat(key("file-link"))).isInstanceOf(NoSuchFileException.class);
        store.delete(key("file-link"));
        assertThat(outside).exists();
    }

    @Test
    void staleTemporaryFilesAreRemovedOnOpen() throws IOException {
        Path tmp = root().resolve(LocalBlobStore.TMP_DIR);
        Path stale = Files.write(tmp.resolve("put-stale.tmp"), new byte[10]);
        Files.setLastModifiedTime(stale, FileTime.from(Instant.now().minus(Duration.ofDays(2))));
        Path fresh = Files.write(tmp.resolve("put-fresh.tmp"), new byte[10]);
        Path staleInSpread = Files.write(Files.createDirectories(tmp.resolve("3")).resolve("put-x-3.tmp"), new byte[1]);
        Files.setLastModifiedTime(staleInSpread, FileTime.from(Instant.now().minus(Duration.ofDays(2))));
        LocalBlobStore.open(root()).close();
        assertThat(stale).doesNotExist();
        assertThat(staleInSpread).doesNotExist();
        assertThat(fresh).exists();
    }

    @Test
    void fileAndDirectoryAtOneNameIsAClearError() throws IOException {
        store.put(key("a"), new byte[] {1});
        assertThatThrownBy(() -> store.put(key("a/b"), new byte[] {2}))
                .isInstanceOf(PermanentBlobStoreException.class).hasMessageContaining("a/b");
        assertThat(store.getBytes(key("a"))).containsExactly(1);
    }

    @Test
    void missingRootIsAnErrorWhenCreationIsOff() {
        assertThatThrownBy(() -> LocalBlobStore.builder(tempDir.resolve("absent")).createIfMissing(false).build())
                .isInstanceOf(NoSuchFileException.class);
    }

    @Test
    void unsyncedStoreStillRoundTrips() throws IOException {
        try (LocalBlobStore fast = LocalBlobStore.builder(tempDir.resolve("fast")).sync(false).build()) {
            fast.put(key("k"), new byte[] {5});
            assertThat(fast.getBytes(key("k"))).containsExactly(5);
        }
    }
}
