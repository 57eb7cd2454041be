package io.dr4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI side of URI strictness, excludes and rate limits (local repositories only). */
class OpsCliTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private final CliRunner cli = new CliRunner(Map.of("XDG_CACHE_HOME", "/nonexistent-dr4j-cache"));
    private Path key;
    private Path src;

    @BeforeEach
    void setUp() throws Exception {
        key = tmp.resolve("k");
        Files.writeString(key, HexFormat.of().formatHex(new byte[32]));
        src = tmp.resolve("ckpt");
        Files.createDirectories(src.resolve("optimizer"));
        byte[] shard = new byte[200_000];
        new Random(1).nextBytes(shard);
        Files.write(src.resolve("model.safetensors"), shard);
        Files.write(src.resolve("optimizer/state.pt"), shard);
        Files.writeString(src.resolve("scratch.tmp"), "tmp");
    }

    private String repo() {
        return tmp.resolve("repo").toUri().toString();
    }

    @Test
    void aFileUriWithAHostIsRefusedBeforeAnythingIsCreated() {
        String name = "dr4j-uri-trap-" + System.nanoTime();
        CliRunner.Result r = cli.run("init", "--repo", "file://" + name, "--key-file", key.toString());
        assertThat(r.exitCode()).isEqualTo(ExitCode.USAGE);
        assertThat(r.err()).contains("did you mean file:" + name + " (relative) or file:///" + name + " (absolute)?");
        assertThat(Path.of(name)).doesNotExist();
        assertThat(Path.of("").toAbsolutePath().resolve("config")).doesNotExist();
    }

    @Test
    void excludesFromOptionsAndFilesAreAppliedAndRecorded() throws Exception {
        assertThat(cli.run("init", "--repo", repo(), "--key-file", key.toString()).exitCode()).isEqualTo(ExitCode.OK);
        Path file = tmp.resolve("excludes");
        Files.writeString(file, "# optimizer states are rebuilt on resume\noptimizer/\n\n  \n");
        CliRunner.Result b = cli.run("backup", "--repo", repo(), "--key-file", key.toString(), "--json",
                "--exclude", "*.tmp", "--exclude-file", file.toString(), src.toString());
        assertThat(b.exitCode()).as(b.err()).isEqualTo(ExitCode.OK);
        JsonNode snap = JSON.readTree(b.out());
        assertThat(snap.get("files").asInt()).isEqualTo(1);
        assertThat(snap.get("excludes").toString()).isEqualTo("[\"*.tmp\",\"optimizer/\"]");

        CliRunner.Result r = cli.run("restore", "--repo", repo(), "--key-file", key.toString(), "latest",
                tmp.resolve("out").toString());
        assertThat(r.exitCode()).as(r.err()).isEqualTo(ExitCode.OK);
        assertThat(tmp.resolve("out/model.safetensors")).exists();
        assertThat(tmp.resolve("out/optimizer")).doesNotExist();
        assertThat(tmp.resolve("out/scratch.tmp")).doesNotExist();
    }

    @Test
    void excludesThatMatchEverythingAreAUsageErrorUnlessAllowed() throws Exception {
        assertThat(cli.run("init", "--repo", repo(), "--key-file", key.toString()).exitCode()).isEqualTo(ExitCode.OK);
        CliRunner.Result all = cli.run("backup", "--repo", repo(), "--key-file", key.toString(), "--exclude", "**",
                src.toString());
        assertThat(all.exitCode()).isEqualTo(ExitCode.USAGE);
        assertThat(all.err()).contains("match every file of", "--allow-empty");
        assertThat(cli.run("snapshots", "--repo", repo(), "--key-file", key.toString(), "--json").out().trim())
                .isEqualTo("[ ]");
        assertThat(cli.run("backup", "--repo", repo(), "--key-file", key.toString(), "--exclude", "**", "--allow-empty",
                src.toString()).exitCode()).isEqualTo(ExitCode.OK);

        CliRunner.Result missing = cli.run("backup", "--repo", repo(), "--key-file", key.toString(), "--exclude-file",
                tmp.resolve("nope").toString(), src.toString());
        assertThat(missing.exitCode()).isEqualTo(ExitCode.USAGE);
        assertThat(missing.err()).contains("--exclude-file", "no such file");
        CliRunner.Result bad = cli.run("backup", "--repo", repo(), "--key-file", key.toString(), "--exclude", "../x",
                src.toString());
        assertThat(bad.exitCode()).isEqualTo(ExitCode.USAGE);
        assertThat(bad.err()).contains("exclude pattern '../x'");
    }

    @Test
    void rateLimitsTakeUnitsAndRefuseZeroNegativeAndNonsense() throws Exception {
        Path repoDir = tmp.resolve("limited");
        for (String[] bad : new String[][] {{"--limit-upload", "0"}, {"--limit-upload", "-5MiB"},
                {"--limit-download", "0M"}, {"--limit-download", "fast"}, {"--limit-upload", "10parsecs"}}) {
            CliRunner.Result r = cli.run("init", "--repo", repoDir.toString(), "--key-file", key.toString(), bad[0], bad[1]);
            assertThat(r.exitCode()).as(String.join(" ", bad)).isEqualTo(ExitCode.USAGE);
            assertThat(r.err()).contains(bad[0]);
            assertThat(repoDir).as("nothing created for " + String.join(" ", bad)).doesNotExist();
        }
        assertThat(Units.parseBytes("x", "50MiB")).isEqualTo(50L << 20);
        assertThat(Units.parseBytes("x", "100M")).isEqualTo(100L << 20);
        assertThat(Units.parseBytes("x", "800KB/s")).isEqualTo(800_000);
        assertThat(Units.parseBytes("x", "1.5G")).isEqualTo(3L << 29);
        assertThat(Units.parseBytes("x", "4096")).isEqualTo(4096);

        assertThat(cli.run("init", "--repo", repoDir.toString(), "--key-file", key.toString()).exitCode()).isEqualTo(ExitCode.OK);
        CliRunner.Result b = cli.run("backup", "--repo", repoDir.toString(), "--key-file", key.toString(),
                "--limit-upload", "1GiB", "--limit-download", "1GiB", src.toString());
        assertThat(b.exitCode()).as(b.err()).isEqualTo(ExitCode.OK);
    }
}
