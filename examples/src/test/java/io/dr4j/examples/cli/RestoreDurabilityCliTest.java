package io.dr4j.examples.cli;

import static io.dr4j.examples.cli.CliRunner.args;
import static io.dr4j.examples.cli.CliRunner.localRepo;
import static org.assertj.core.api.Assertions.assertThat;

import io.dr4j.examples.QuickStartAccess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code restore --durability}: both levels restore the same bytes, and the choice is honoured. What tells them apart
 * is whether the restore forces the new tree to disk, which a test cannot see in the files; the JVM's flight
 * recorder can: it records every {@code FileChannel.force} (event {@code jdk.FileForce}) with its path.
 */
class RestoreDurabilityCliTest {

    private static final List<String> FILES = List.of("config.json", "shards/model-00001.safetensors",
            "shards/model-00002.safetensors", "tokenizer/vocab.txt");

    @TempDir
    Path tmp;

    private final CliRunner cli = new CliRunner(Map.of());
    private Path key;
    private Path source;
    private Path restores;

    @BeforeEach
    void backUp() throws Exception {
        key = tmp.resolve("k");
        Files.writeString(key, HexFormat.of().formatHex(new byte[32]));
        source = tmp.resolve("ckpt");
        Random random = new Random(5);
        for (String f : FILES) {
            Files.createDirectories(source.resolve(f).getParent());
            byte[] bytes = new byte[f.endsWith(".safetensors") ? 600_000 : 5_000];
            random.nextBytes(bytes);
            Files.write(source.resolve(f), bytes);
        }
        cli.ok(args(localRepo(tmp.resolve("repo")), key, "init"));
        cli.ok(args(localRepo(tmp.resolve("repo")), key, "backup", source.toString()));
        restores = Files.createDirectory(tmp.resolve("restores"));
    }

    private CliRunner.Result restore(String... options) {
        List<String> rest = new java.util.ArrayList<>(List.of("latest", restores.resolve("target").toString()));
        rest.addAll(List.of(options));
        return cli.run(args(localRepo(tmp.resolve("repo")), key, "restore", rest.toArray(String[]::new)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"power-loss", "process-crash"})
    void eitherDurabilityRestoresTheTreeByteForByte(String level) throws Exception {
        CliRunner.Result r = restore("--durability", level);

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(QuickStartAccess.treeDigest(restores.resolve("target"))).isEqualTo(QuickStartAccess.treeDigest(source));
    }

    @Test
    void powerLossForcesEveryRestoredFileAndTheSwapToDisk() throws Exception {
        List<String> forced = forcedUnder(restores, () -> restore());

        // every file of the staged tree (.target.staging-…/PATH), then the parent of the target after the rename
        for (String f : FILES) {
            assertThat(forced).as(f).anyMatch(p -> p.endsWith("/" + f) && !p.startsWith(restores.resolve("target") + "/"));
        }
        assertThat(forced).contains(restores.toString());
        assertThat(QuickStartAccess.treeDigest(restores.resolve("target"))).isEqualTo(QuickStartAccess.treeDigest(source));
    }

    @Test
    void processCrashForcesNothingOfTheRestoredTree() throws Exception {
        List<String> forced = forcedUnder(restores, () -> restore("--durability", "process-crash"));

        assertThat(forced).isEmpty();
        assertThat(QuickStartAccess.treeDigest(restores.resolve("target"))).isEqualTo(QuickStartAccess.treeDigest(source));
    }

    @ParameterizedTest
    @ValueSource(strings = {"fast", "POWER_LOSS", "power_loss", "none", ""})
    void anUnknownDurabilityIsRefusedNamingTheLevelsBeforeAnythingIsWritten(String level) {
        CliRunner.Result r = restore("--durability", level);

        assertThat(r.exitCode()).isEqualTo(ExitCode.USAGE);
        assertThat(r.err()).contains("--durability must be power-loss or process-crash, not '" + level + "'");
        assertThat(restores).isEmptyDirectory();
    }

    /** Runs {@code restore} (asserting exit 0) while the flight recorder records forces; returns the paths forced under {@code dir}. */
    private List<String> forcedUnder(Path dir, Supplier<CliRunner.Result> restore) throws Exception {
        Path file = tmp.resolve("forces.jfr");
        try (Recording recording = new Recording()) {
            recording.enable("jdk.FileForce").withThreshold(Duration.ZERO);
            recording.start();
            CliRunner.Result r = restore.get();
            recording.stop();
            assertThat(r.exitCode()).as(r.err()).isZero();
            recording.dump(file);
        }
        return RecordingFile.readAllEvents(file).stream().filter(e -> e.getEventType().getName().equals("jdk.FileForce"))
                .map((RecordedEvent e) -> e.getString("path"))
                .filter(p -> p != null && (p.equals(dir.toString()) || p.startsWith(dir + "/"))).toList();
    }
}
