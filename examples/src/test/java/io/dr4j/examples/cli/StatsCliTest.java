package io.dr4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dr4j stats} against a local repository holding two backups of the same checkpoint. */
class StatsCliTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private final CliRunner cli = new CliRunner(Map.of("XDG_STATE_HOME", "/nonexistent-never-used"));
    private Path key;
    private long treeBytes;

    private String[] args(String command, String... rest) {
        return CliRunner.args(CliRunner.localRepo(tmp.resolve("repo")), key, command, rest);
    }

    @BeforeEach
    void setUp() throws Exception {
        key = tmp.resolve("repo.key");
        cli.ok(args("init", "--generate-key"));
        Path src = Files.createDirectories(tmp.resolve("ckpt/shards"));
        byte[] shard = new byte[1_500_000];
        new Random(9).nextBytes(shard);
        Files.write(src.resolve("model-00001.safetensors"), shard);
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 20_000; i++) {
            text.append("step ").append(i).append(" loss ").append(i % 97).append('\n');
        }
        Files.writeString(tmp.resolve("ckpt/log.txt"), text);
        treeBytes = shard.length + Files.size(tmp.resolve("ckpt/log.txt"));
        cli.ok(args("backup", tmp.resolve("ckpt").toString()));
        cli.ok(args("backup", tmp.resolve("ckpt").toString()));
    }

    /** Blob bytes of the pack files, from FORMAT.md's trailer (blobs ‖ sealed header ‖ be32(header length) ‖ magic). */
    private long blobBytesOnDisk() throws Exception {
        long sum = 0;
        try (Stream<Path> walk = Files.walk(tmp.resolve("repo/packs"))) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                byte[] b = Files.readAllBytes(p);
                sum += b.length - 12 - ByteBuffer.wrap(b, b.length - 12, 4).getInt();
            }
        }
        return sum;
    }

    @Test
    void jsonGivesTheRepositorysAndTheChosenSnapshotsFigures() throws Exception {
        JsonNode all = JSON.readTree(cli.ok(args("stats", "--json")).out());
        assertThat(all.get("scope").asText()).isEqualTo("repository");
        assertThat(all.get("snapshots")).hasSize(2);
        assertThat(all.get("files").asLong()).isEqualTo(4);
        assertThat(all.get("rawBytes").asLong()).isEqualTo(2 * treeBytes);
        assertThat(all.get("plainBytes").asLong()).isEqualTo(treeBytes);
        assertThat(all.get("dedupRatio").asDouble()).isEqualTo(2.0);
        assertThat(all.get("storedBytes").asLong()).isEqualTo(blobBytesOnDisk());
        assertThat(all.get("compressionRatio").asDouble()).isGreaterThan(1.0); // the log compresses, the shard does not
        assertThat(all.get("missingChunks").asLong()).isZero();
        assertThat(all.get("repository").get("snapshots").asLong()).isEqualTo(2);

        String newest = JSON.readTree(cli.ok(args("snapshots", "--json")).out()).get(1).get("id").asText();
        JsonNode one = JSON.readTree(cli.ok(args("stats", newest.substring(0, 8), "--json")).out());
        assertThat(one.get("scope").asText()).isEqualTo("snapshots");
        assertThat(one.get("snapshots")).hasSize(1);
        assertThat(one.get("snapshots").get(0).asText()).isEqualTo(newest);
        assertThat(one.get("rawBytes").asLong()).isEqualTo(treeBytes);
        assertThat(one.get("dedupRatio").asDouble()).isEqualTo(1.0);
        assertThat(one.get("storedBytes").asLong()).isEqualTo(all.get("storedBytes").asLong());

        JsonNode latest = JSON.readTree(cli.ok(args("stats", "latest", "--json")).out());
        assertThat(latest.get("snapshots").get(0).asText()).isEqualTo(newest);
    }

    @Test
    void textNamesEachFigure() {
        String out = cli.ok(args("stats")).out();
        assertThat(out).contains("snapshots              2 of 2", "dedup ratio            2.00x", "raw size", "stored size",
                "compression ratio", "unreferenced");
    }

    @Test
    void anUnknownSnapshotIsRefusedWithNotFound() {
        CliRunner.Result r = cli.run(args("stats", "deadbeef", "--json"));
        assertThat(r.exitCode()).isEqualTo(ExitCode.NOT_FOUND);
        assertThat(r.err()).contains("deadbeef");
        assertThat(r.out()).isEmpty();
        CliRunner.Result bad = cli.run(args("stats", "not-an-id"));
        assertThat(bad.exitCode()).isEqualTo(ExitCode.NOT_FOUND);
        assertThat(bad.err()).contains("not-an-id");
    }
}
