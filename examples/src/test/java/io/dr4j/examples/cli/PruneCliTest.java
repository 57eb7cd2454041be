package io.dr4j.examples.cli;

import static io.dr4j.examples.cli.CliRunner.args;
import static io.dr4j.examples.cli.CliRunner.localRepo;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dr4j.examples.QuickStartAccess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code forget --prune} and {@code prune} free the space of a forgotten snapshot for real: the repository's bytes on
 * disk shrink by the data only that snapshot used, once its packs are older than {@code --grace}, and what is left
 * verifies and restores.
 */
class PruneCliTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MiB = 1 << 20;
    /** What the second backup rewrites: the bytes only the first snapshot references. */
    private static final long DEAD = 12L * MiB;

    @TempDir
    Path tmp;

    private final CliRunner cli = new CliRunner(Map.of());
    private Path key;
    private Path repoDir;
    private List<String> repo;
    private Path source;
    private String first;
    private String second;

    /** Two snapshots: 13 MiB, then the same tree with 12 MiB of it rewritten (1 MiB unchanged). */
    @BeforeEach
    void twoSnapshotsThatShareLittle() throws Exception {
        key = tmp.resolve("k");
        Files.writeString(key, HexFormat.of().formatHex(new byte[32]));
        repoDir = tmp.resolve("repo");
        repo = localRepo(repoDir);
        source = tmp.resolve("ckpt");
        Files.createDirectories(source);
        Files.write(source.resolve("tokenizer.bin"), random(1, MiB));
        cli.ok(args(repo, key, "init", "--pack-size", "4MiB"));

        writeShards(2);
        first = JSON.readTree(cli.ok(args(repo, key, "backup", source.toString(), "--json")).out()).get("id").asText();
        writeShards(3);
        second = JSON.readTree(cli.ok(args(repo, key, "backup", source.toString(), "--json")).out()).get("id").asText();
    }

    private void writeShards(long seed) throws IOException {
        Files.write(source.resolve("model-00001.safetensors"), random(seed, 6 * MiB));
        Files.write(source.resolve("model-00002.safetensors"), random(seed * 31, 6 * MiB));
    }

    @Test
    void forgetWithPruneAndNoGraceFreesTheForgottenSnapshotsDataAndKeepsTheOtherWhole() throws Exception {
        long before = bytesOnDisk();

        CliRunner.Result forget = cli.ok(args(repo, key, "forget", "--keep-last", "1", "--prune", "--grace", "0s", "--json"));

        JsonNode r = JSON.readTree(forget.out());
        assertThat(r.get("removed")).extracting(JsonNode::asText).containsExactly(first);
        JsonNode prune = r.get("prune");
        assertThat(prune.get("packsDeleted").asLong() + prune.get("packsRepacked").asLong()).isPositive();
        assertThat(prune.get("deletedBytes").asLong()).isGreaterThanOrEqualTo(DEAD * 9 / 10);
        assertThat(bytesOnDisk()).as("bytes on disk, %d before", before).isLessThanOrEqualTo(before - DEAD * 9 / 10);
        assertTheSecondSnapshotIsWhole();
    }

    @Test
    void packsYoungerThanTheGracePeriodSurviveUntilPruneIsGivenAShorterOne() throws Exception {
        Set<Path> packs = packs();
        long before = bytesOnDisk();

        CliRunner.Result forget = cli.ok(args(repo, key, "forget", "--keep-last", "1", "--prune", "--json"));

        JsonNode kept = JSON.readTree(forget.out()).get("prune");
        assertThat(kept.get("deletedChunks").asLong()).as("the default grace period is 24 hours").isZero();
        assertThat(kept.get("youngUnreferencedChunks").asLong()).isPositive();
        assertThat(packs()).isEqualTo(packs);

        JsonNode pruned = JSON.readTree(cli.ok(args(repo, key, "prune", "--grace", "0s", "--json")).out());
        assertThat(pruned.get("deletedBytes").asLong()).isGreaterThanOrEqualTo(DEAD * 9 / 10);
        assertThat(bytesOnDisk()).isLessThanOrEqualTo(before - DEAD * 9 / 10);
        assertTheSecondSnapshotIsWhole();
    }

    @Test
    void graceWithoutPruneOrNegativeIsAUsageError() throws Exception {
        CliRunner.Result alone = cli.run(args(repo, key, "forget", "--keep-last", "1", "--grace", "0s"));
        assertThat(alone.exitCode()).isEqualTo(ExitCode.USAGE);
        assertThat(alone.err()).contains("give --prune too");

        CliRunner.Result negative = cli.run(args(repo, key, "prune", "--grace", "PT-1H"));
        assertThat(negative.exitCode()).isEqualTo(ExitCode.USAGE);
        assertThat(negative.err()).contains("--grace must not be negative");

        assertThat(JSON.readTree(cli.ok(args(repo, key, "snapshots", "--json")).out())).as("nothing forgotten").hasSize(2);
    }

    private void assertTheSecondSnapshotIsWhole() throws IOException {
        assertThat(JSON.readTree(cli.ok(args(repo, key, "snapshots", "--json")).out()))
                .extracting(s -> s.get("id").asText()).containsExactly(second);
        JsonNode verify = JSON.readTree(cli.ok(args(repo, key, "verify", "--data", "--json")).out());
        assertThat(verify.get("ok").asBoolean()).isTrue();
        Path target = tmp.resolve("restored");
        cli.ok(args(repo, key, "restore", "latest", target.toString()));
        assertThat(QuickStartAccess.treeDigest(target)).isEqualTo(QuickStartAccess.treeDigest(source));
    }

    private long bytesOnDisk() throws IOException {
        try (Stream<Path> walk = Files.walk(repoDir)) {
            return walk.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    private Set<Path> packs() throws IOException {
        try (Stream<Path> walk = Files.walk(repoDir.resolve("packs"))) {
            return walk.filter(Files::isRegularFile).collect(Collectors.toSet());
        }
    }

    private static byte[] random(long seed, int size) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }
}
