package io.dr4j.examples.cli;

import static io.dr4j.examples.cli.CliRunner.args;
import static io.dr4j.examples.cli.CliRunner.localRepo;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code init --pack-size}: the size reaches the repository's config and its packs; anything else is refused before anything is created. */
class PackSizeCliTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MiB = 1 << 20;

    @TempDir
    Path tmp;

    private final CliRunner cli = new CliRunner(Map.of());
    private Path key;

    @BeforeEach
    void writeKey() throws Exception {
        key = tmp.resolve("k");
        Files.writeString(key, HexFormat.of().formatHex(new byte[32]));
    }

    /** The pack size as the repository itself stores it and reads it back on open (FORMAT.md §Config). */
    private static long storedPackSize(Path repoDir) throws Exception {
        return JSON.readTree(repoDir.resolve("config").toFile()).at("/pack/targetSize").asLong();
    }

    @Test
    void backupsIntoARepositoryInitialisedWithAPackSizeCutTheirPacksToIt() throws Exception {
        Path repoDir = tmp.resolve("repo");
        CliRunner.Result init = cli.ok(args(localRepo(repoDir), key, "init", "--pack-size", "4MiB"));
        assertThat(init.out()).contains("packs of 4MiB");
        assertThat(storedPackSize(repoDir)).isEqualTo(4 * MiB);

        Path source = tmp.resolve("ckpt");
        Files.createDirectories(source);
        Random random = new Random(12);
        for (int i = 0; i < 5; i++) {
            byte[] shard = new byte[4 * MiB];
            random.nextBytes(shard);
            Files.write(source.resolve("shard-" + i + ".bin"), shard);
        }
        cli.ok(args(localRepo(repoDir), key, "backup", source.toString()));

        List<Long> packs;
        try (Stream<Path> walk = Files.walk(repoDir.resolve("packs"))) {
            packs = walk.filter(Files::isRegularFile).map(p -> p.toFile().length()).toList();
        }
        // 20 MiB of incompressible chunks: at the default 16 MiB there would be two or three packs
        assertThat(packs).hasSizeGreaterThanOrEqualTo(4);
        // a pack is closed once it reaches the target, so it may pass it by one chunk (1 MiB at most) and its header
        assertThat(packs).allSatisfy(size -> assertThat(size).isLessThanOrEqualTo(4L * MiB + MiB + 64 * 1024));
        assertThat(packs).anySatisfy(size -> assertThat(size).isGreaterThanOrEqualTo(4L * MiB));
        cli.ok(args(localRepo(repoDir), key, "verify", "--data"));
    }

    @ParameterizedTest
    @CsvSource({"4MiB, 4194304", "32MiB, 33554432", "128MiB, 134217728", "6144KiB, 6291456", "8388608, 8388608",
        "'20 MiB', 20971520"})
    void aPackSizeInBytesOrKiBOrMiBIsStoredExactly(String text, long bytes) throws Exception {
        Path repoDir = tmp.resolve("repo");
        CliRunner.Result init = cli.ok(args(localRepo(repoDir), key, "init", "--pack-size", text, "--json"));
        assertThat(JSON.readTree(init.out()).get("packSize").asLong()).isEqualTo(bytes);
        assertThat(storedPackSize(repoDir)).isEqualTo(bytes);
    }

    @Test
    void withoutThePackSizeOptionPacksAre16MiB() throws Exception {
        Path repoDir = tmp.resolve("repo");
        cli.ok(args(localRepo(repoDir), key, "init"));
        assertThat(storedPackSize(repoDir)).isEqualTo(16 * MiB);
    }

    @Test
    void initsHelpShowsThePackSizeOptionAndItsRange() {
        CliRunner.Result help = cli.ok("init", "--help");
        assertThat(help.out()).contains("--pack-size=SIZE", "4MiB to 128MiB", "default 16MiB");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "3MiB    | was 3MiB (3145728 bytes)",
        "129MiB  | was 129MiB (135266304 bytes)",
        "4194303 | was 4194303",
        "0       | was 0",
        "0MiB    | was 0MiB",
        "32M     | '32M' is ambiguous",
        "32MB    | '32MB' is ambiguous",
        "32mib   | write the unit of '32mib' as MiB: 32MiB",
        "4.5MiB  | '4.5MiB' is not a whole number of MiB",
        "4.5MB   | '4.5MB' is not a whole number; write a whole number of MiB, KiB or bytes",
        "big     | 'big' is not a size",
        "32 parsecs | unknown unit 'parsecs'",
        "99999999999999999999999MiB | was 99999999999999999999999MiB"})
    void outOfRangeAmbiguousAndMalformedSizesAreRefusedBeforeAnythingIsCreated(String text, String why) {
        Path repoDir = tmp.resolve("repo");
        Path newKey = tmp.resolve("new.key");

        CliRunner.Result r = cli.run(args(localRepo(repoDir), newKey, "init", "--generate-key", "--pack-size", text));

        assertThat(r.exitCode()).as(r.err()).isEqualTo(ExitCode.USAGE);
        assertThat(r.err()).contains("--pack-size takes 4MiB to 128MiB", why);
        if (why.contains("ambiguous")) {
            assertThat(r.err()).contains("write 32MiB for powers of 1024");
        }
        assertThat(repoDir).doesNotExist();
        assertThat(newKey).doesNotExist();
    }
}
