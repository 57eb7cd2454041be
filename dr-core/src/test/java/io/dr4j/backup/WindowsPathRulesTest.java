package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.storage.InMemoryBlobStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A snapshot that would be unsafe on Windows is refused on every platform, before anything is
 * written; on Linux (where these tests run) the non-portable ones restore only when the caller
 * says so, the unsafe ones never.
 */
class WindowsPathRulesTest {

    @TempDir
    Path tmp;

    private final InMemoryBlobStore store = InMemoryBlobStore.create("mem");
    private Repository repo;

    @BeforeEach
    void create() {
        repo = TestRepos.create(store);
    }

    @AfterEach
    void close() {
        repo.close();
    }

    private static Manifest.Entry dir(String path) {
        return new Manifest.Entry(new SnapshotEntry(path, SnapshotEntry.Type.DIRECTORY, 0, Optional.empty(), Instant.EPOCH,
                Optional.empty(), 0), List.of());
    }

    private void assertRefused(RestoreOptions options, String why, Manifest.Entry... entries) throws Exception {
        SnapshotId id = TestRepos.craftSnapshot(store, List.of(entries));
        Path target = tmp.resolve("target");
        assertThatThrownBy(() -> repo.restore(id, target, options)).as(entries[entries.length - 1].entry().path())
                .isInstanceOf(UnsafePathException.class).hasMessageContaining("nothing was restored").hasMessageContaining(why);
        assertThat(target).doesNotExist();
    }

    private void assertRestoredWhenAllowed(Manifest.Entry... entries) throws Exception {
        SnapshotId id = TestRepos.craftSnapshot(store, List.of(entries));
        Path target = tmp.resolve("allowed");
        repo.restore(id, target, RestoreOptions.builder().allowNonPortablePaths(true).build());
        for (Manifest.Entry e : entries) {
            assertThat(target.resolve(e.entry().path())).isDirectory();
        }
        io.dr4j.testing.TestFiles.deleteTree(target);
    }

    @Test
    void driveRelativeAndDriveAbsolutePathsAreRefusedEvenWhenAllowed() throws Exception {
        for (String path : List.of("C:x", "C:/x", "z:", "d:..")) {
            assertRefused(RestoreOptions.defaults(), "absolute", dir(path));
            assertRefused(RestoreOptions.builder().allowNonPortablePaths(true).build(), "absolute", dir(path));
        }
    }

    @Test
    void backslashSeparatorsAndControlCharactersAreRefusedEvenWhenAllowed() throws Exception {
        for (String path : List.of("a\\b", "..\\escape", "\\\\server\\share")) {
            assertRefused(RestoreOptions.builder().allowNonPortablePaths(true).build(), "backslash", dir(path));
        }
        for (String path : List.of("a\u0001b", "tab\there", "del\u007f")) {
            assertRefused(RestoreOptions.builder().allowNonPortablePaths(true).build(), "control character", dir(path));
        }
    }

    @Test
    void alternateDataStreamsAndWindowsForbiddenCharactersAreRefusedUnlessAllowed() throws Exception {
        assertRefused(RestoreOptions.defaults(), "alternate data stream", dir("weights.bin:hidden"));
        assertRefused(RestoreOptions.defaults(), "alternate data stream", dir("a"), dir("a/file::$DATA"));
        for (String c : List.of("<", ">", "\"", "|", "?", "*")) {
            assertRefused(RestoreOptions.defaults(), "not allowed in Windows names", dir("x" + c + "y"));
        }
        assertRestoredWhenAllowed(dir("step:1000"), dir("what?"));
    }

    @Test
    void reservedDeviceNamesAreRefusedWithOrWithoutExtensionInAnyCaseUnlessAllowed() throws Exception {
        List<String> names = List.of("CON", "prn", "Aux", "nul", "NUL.txt", "nul.tar.gz", "com1", "COM9.json", "lpt1",
                "Lpt9.log", "con .txt", "COM\u00b9");
        for (String name : names) {
            assertRefused(RestoreOptions.defaults(), "Windows device name", dir("model"), dir("model/" + name));
        }
        assertRestoredWhenAllowed(dir("nul.txt"), dir("COM1"));
        // near misses are ordinary names
        assertRestoredWhenAllowed(dir("console"), dir("com10"), dir("lpt"), dir("nullable.txt"), dir("auxiliary"));
        SnapshotId id = TestRepos.craftSnapshot(store, List.of(dir("console"), dir("com10"), dir("xnul")));
        repo.restore(id, tmp.resolve("plain"), RestoreOptions.defaults());
        assertThat(tmp.resolve("plain/com10")).isDirectory();
    }

    @Test
    void trailingDotsAndSpacesAreRefusedUnlessAllowed() throws Exception {
        for (String name : List.of("name.", "name ", "dir./x", "...")) {
            assertRefused(RestoreOptions.defaults(), "Windows drops it", dir(name));
        }
        assertRestoredWhenAllowed(dir("name."), dir("other "));
    }

    @Test
    void pathsCollidingUnderCaseFoldingOrNormalizationAreRefusedUnlessAllowed() throws Exception {
        assertRefused(RestoreOptions.defaults(), "case-insensitive or Unicode-normalizing", dir("Model"), dir("model"));
        assertRefused(RestoreOptions.defaults(), "case-insensitive or Unicode-normalizing", dir("a"), dir("a/README"),
                dir("a/readme"));
        // U+00E9 against e + U+0301: the same name after NFC
        assertRefused(RestoreOptions.defaults(), "case-insensitive or Unicode-normalizing", dir("caf\u00e9"), dir("cafe\u0301"));
        assertRefused(RestoreOptions.defaults(), "case-insensitive or Unicode-normalizing", dir("STRASSE"), dir("stra\u00dfe"));
        assertRestoredWhenAllowed(dir("Model"), dir("model"), dir("caf\u00e9"), dir("cafe\u0301"));
    }

    @Test
    void anOrdinaryCheckpointStillRestores() throws Exception {
        Path source = TestRepos.checkpoint(tmp.resolve("src"), 3);
        Snapshot s = repo.backup(source);
        repo.restore(s.id(), tmp.resolve("out"), RestoreOptions.defaults());
        assertThat(TestRepos.sameTree(source, tmp.resolve("out"))).isTrue();
        assertThat(Files.exists(tmp.resolve("out/config.json"))).isTrue();
    }
}
