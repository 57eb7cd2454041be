package io.dr4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --metrics-file}: the repository's meters written as JSON when a command ends, also when it fails. */
class MetricsFileCliTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private final CliRunner cli = new CliRunner(Map.of());
    private Path key;

    private String[] args(String command, String... rest) {
        return CliRunner.args(CliRunner.localRepo(tmp.resolve("repo")), key, command, rest);
    }

    @BeforeEach
    void setUp() throws Exception {
        key = tmp.resolve("repo.key");
        assertThat(cli.run(args("init", "--generate-key")).exitCode()).isZero();
        byte[] shard = new byte[700_000];
        new Random(3).nextBytes(shard);
        Files.createDirectories(tmp.resolve("ckpt"));
        Files.write(tmp.resolve("ckpt/model.safetensors.part"), shard);
    }

    private static JsonNode meter(JsonNode doc, String name, String tagKey, String tagValue) {
        for (JsonNode m : doc.get("meters")) {
            if (m.get("name").asText().equals(name) && tagValue.equals(m.get("tags").path(tagKey).asText())) {
                return m;
            }
        }
        throw new AssertionError("no meter " + name + "{" + tagKey + "=" + tagValue + "} in " + doc);
    }

    @Test
    void aBackupWritesItsTimerAndByteCounters() throws Exception {
        Path file = tmp.resolve("metrics.json");
        CliRunner.Result r = cli.run(args("backup", tmp.resolve("ckpt").toString(), "--metrics-file", file.toString()));
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode doc = JSON.readTree(Files.readString(file));
        assertThat(doc.get("exitCode").asInt()).isZero();
        JsonNode timer = meter(doc, "dr4j.repository.operation", "operation", "backup");
        assertThat(timer.get("type").asText()).isEqualTo("timer");
        assertThat(timer.get("tags").get("outcome").asText()).isEqualTo("success");
        assertThat(timer.get("values").get("count").asDouble()).isEqualTo(1.0);
        assertThat(meter(doc, "dr4j.repository.bytes.read", "operation", "backup").get("values").get("count").asDouble())
                .isEqualTo(700_000.0);
        assertThat(Files.exists(tmp.resolve("metrics.json.tmp"))).isFalse();
    }

    @Test
    void aFailedCommandStillWritesItsFailureCounter() throws Exception {
        Path file = tmp.resolve("metrics.json");
        assertThat(cli.run(args("backup", tmp.resolve("ckpt").toString())).exitCode()).isZero();
        Files.walk(tmp.resolve("repo/packs")).filter(Files::isRegularFile).forEach(p -> {
            try {
                byte[] b = Files.readAllBytes(p);
                b[b.length / 3] ^= 0x40;
                Files.write(p, b);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        CliRunner.Result r = cli.run(args("restore latest", tmp.resolve("out").toString(), "--metrics-file", file.toString()));
        assertThat(r.exitCode()).isNotZero();
        JsonNode doc = JSON.readTree(Files.readString(file));
        assertThat(doc.get("exitCode").asInt()).isEqualTo(r.exitCode());
        JsonNode failures = meter(doc, "dr4j.repository.failures", "operation", "restore");
        assertThat(failures.get("values").get("count").asDouble()).isEqualTo(1.0);
        assertThat(failures.get("tags").get("exception").asText()).isEqualTo("CorruptObjectException");
    }

    @Test
    void withoutTheOptionNoFileIsWritten() throws Exception {
        assertThat(cli.run(args("backup", tmp.resolve("ckpt").toString())).exitCode()).isZero();
        try (var files = Files.list(tmp)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains("metrics"));
        }
    }
}
