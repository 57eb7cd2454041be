package io.dr4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dr4j key}, {@code ls}, {@code dump} and {@code verify --subset} against a local repository. */
class KeyLsDumpCliTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private final CliRunner cli = new CliRunner(Map.of("XDG_STATE_HOME", "/nonexistent-never-used",
            "NEW_PW", "correct horse battery staple", "OTHER_PW", "tr0ub4dor&3"));
    private Path key;
    private byte[] shard;

    private String[] args(String command, String... rest) {
        return CliRunner.args(CliRunner.localRepo(tmp.resolve("repo")), key, command, rest);
    }

    private String[] withPassword(String var, String command, String... rest) {
        List<String> all = new ArrayList<>(Arrays.asList(command.split(" ")));
        all.addAll(List.of("--repo", tmp.resolve("repo").toUri().toString(), "--password-env", var));
        all.addAll(Arrays.asList(rest));
        return all.toArray(String[]::new);
    }

    @BeforeEach
    void setUp() throws Exception {
        key = tmp.resolve("repo.key");
        cli.ok(args("init", "--generate-key"));
        Path src = Files.createDirectories(tmp.resolve("ckpt/shards"));
        shard = new byte[2_000_000];
        new Random(5).nextBytes(shard);
        Files.write(src.resolve("model-00001.safetensors"), shard);
        Files.write(src.resolve("model-00002.safetensors"), new byte[300_000]);
        Files.writeString(tmp.resolve("ckpt/config.json"), "{\"hidden_size\": 4096}\n");
        cli.ok(args("backup", tmp.resolve("ckpt").toString()));
    }

    @Test
    void keySlotsAreListedAddedChangedAndRemoved() throws Exception {
        JsonNode slots = JSON.readTree(cli.ok(args("key list", "--json")).out());
        assertThat(slots).hasSize(1);
        assertThat(slots.get(0).get("kind").asText()).isEqualTo("raw");
        assertThat(slots.get(0).get("current").asBoolean()).isTrue();
        String rawId = slots.get(0).get("id").asText();

        CliRunner.Result added = cli.ok(args("key add", "--new-password-env", "NEW_PW", "--label", "on-call"));
        assertThat(added.out()).contains("added", "password", "on-call");
        CliRunner.Result listed = cli.ok(withPassword("NEW_PW", "key list"));
        assertThat(listed.out()).contains(rawId, "on-call  (current)");

        // a wrong current password changes nothing
        CliRunner.Result wrong = cli.run(withPassword("OTHER_PW", "key passwd", "--new-password-env", "OTHER_PW"));
        assertThat(wrong.exitCode()).isEqualTo(ExitCode.WRONG_KEY);
        cli.ok(withPassword("NEW_PW", "key passwd", "--new-password-env", "OTHER_PW"));
        assertThat(cli.run(withPassword("NEW_PW", "snapshots")).exitCode()).isEqualTo(ExitCode.WRONG_KEY);
        cli.ok(withPassword("OTHER_PW", "snapshots"));

        // the slot that opened and the last slot stay
        CliRunner.Result self = cli.run(args("key remove", rawId));
        assertThat(self.exitCode()).isEqualTo(ExitCode.USAGE);
        assertThat(self.err()).contains("opened with");
        cli.ok(withPassword("OTHER_PW", "key remove", rawId));
        assertThat(cli.run(args("snapshots")).exitCode()).isEqualTo(ExitCode.WRONG_KEY);
        JsonNode left = JSON.readTree(cli.ok(withPassword("OTHER_PW", "key list", "--json")).out());
        assertThat(left).hasSize(1);
        CliRunner.Result last = cli.run(withPassword("OTHER_PW", "key remove", left.get(0).get("id").asText()));
        assertThat(last.exitCode()).isEqualTo(ExitCode.USAGE);
        CliRunner.Result noNewKey = cli.run(withPassword("OTHER_PW", "key add"));
        assertThat(noNewKey.exitCode()).isEqualTo(ExitCode.USAGE);
        assertThat(noNewKey.err()).contains("--new-password-file");
    }

    @Test
    void lsListsAndDumpWritesOneFile() throws Exception {
        CliRunner.Result ls = cli.ok(args("ls", "latest"));
        assertThat(ls.out()).contains("f        2000000 ", "shards/model-00001.safetensors", "d ", "shards/", "config.json");
        JsonNode entries = JSON.readTree(cli.ok(args("ls", "latest", "shards", "--json")).out());
        assertThat(entries).hasSize(3);
        assertThat(entries.get(1).get("size").asLong()).isEqualTo(2_000_000);
        assertThat(cli.ok(args("ls", "latest", "--long")).out()).contains("0644");

        Path out = tmp.resolve("restored/model.safetensors");
        Files.createDirectories(out.getParent());
        CliRunner.Result dumped = cli.ok(args("dump", "latest", "shards/model-00001.safetensors", "--output", out.toString()));
        assertThat(dumped.out()).contains("written to");
        assertThat(Files.readAllBytes(out)).isEqualTo(shard);
        assertThat(cli.ok(args("dump", "latest", "/config.json")).out()).isEqualTo("{\"hidden_size\": 4096}\n");

        CliRunner.Result dir = cli.run(args("dump", "latest", "shards", "--output", tmp.resolve("x").toString()));
        assertThat(dir.exitCode()).isEqualTo(ExitCode.USAGE);
        assertThat(dir.err()).contains("is a directory");
        assertThat(tmp.resolve("x")).doesNotExist();
        CliRunner.Result missing = cli.run(args("dump", "latest", "shards/nope"));
        assertThat(missing.exitCode()).isEqualTo(ExitCode.NOT_FOUND);
        assertThat(missing.err()).contains("no file 'shards/nope'");
        assertThat(missing.out()).isEmpty();
        assertThat(cli.run(args("ls", "latest", "nope")).exitCode()).isEqualTo(ExitCode.NOT_FOUND);
    }

    @Test
    void verifySubsetReportsWhatItReadAndRefusesBadSpecs() throws Exception {
        JsonNode full = JSON.readTree(cli.ok(args("verify", "--data", "--subset", "1/1", "--json")).out()).get("snapshots").get(0);
        assertThat(full.get("packsRead").asLong()).isEqualTo(full.get("packsTotal").asLong()).isPositive();
        assertThat(full.get("storedBytesRead").asLong()).isEqualTo(full.get("storedBytesTotal").asLong());
        long read = 0;
        for (int n = 1; n <= 3; n++) {
            JsonNode r = JSON.readTree(cli.ok(args("verify", "--data", "--subset", n + "/3", "--json")).out()).get("snapshots").get(0);
            assertThat(r.get("subset").asText()).isEqualTo(n + "/3");
            read += r.get("packsRead").asLong();
        }
        assertThat(read).isEqualTo(full.get("packsTotal").asLong());
        assertThat(cli.ok(args("verify", "--data", "--subset", "5%")).out()).containsPattern("read \\(1 of \\d+ packs, .* subset 5%\\)");
        for (String bad : List.of("0/3", "4/3", "0%", "101%", "garbage")) {
            CliRunner.Result r = cli.run(args("verify", "--data", "--subset", bad));
            assertThat(r.exitCode()).as(bad).isEqualTo(ExitCode.USAGE);
            assertThat(r.err()).as(bad).contains("subset");
        }
        assertThat(cli.run(args("verify", "--subset", "1/2")).err()).contains("give --data too");
    }
}
