package io.dr4j.examples.cli;

import static io.dr4j.examples.cli.CliRunner.args;
import static org.assertj.core.api.Assertions.assertThat;

import com.azure.storage.blob.BlobServiceClientBuilder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dr4j.aws.S3ProxyServer;
import io.dr4j.azure.Azurite;
import io.dr4j.examples.QuickStartAccess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dr4j copy} across backends: local → S3Proxy → Azurite, each hop under a key of its own, and its refusals. */
class CliCopyTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static CloudServers servers;
    private static S3ProxyServer s3;
    private static Azurite azurite;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startServers() throws Exception {
        servers = CloudServers.start();
        s3 = servers.s3;
        azurite = servers.azurite;
    }

    @AfterAll
    static void stopServers() throws Exception {
        servers.close();
    }

    private final CliRunner cli = new CliRunner(servers.env());

    private String localUri() {
        return tmp.resolve("repo").toUri().toString();
    }

    private String s3Uri(String bucket) {
        s3.createBucket(bucket);
        return "s3://" + bucket + "/dr/llama";
    }

    private List<String> s3Flags() {
        return List.of("--s3-endpoint", s3.endpoint().toString(), "--s3-path-style", "--s3-compatible",
                "--s3-no-conditional-puts");
    }

    private String azureUri(String container) {
        new BlobServiceClientBuilder().connectionString(azurite.connectionString()).buildClient().createBlobContainer(container);
        return "azure://" + container + "/dr/llama";
    }

    private static List<String> with(List<String> a, String... b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(Arrays.asList(b));
        return all;
    }

    private Path checkpoint(long seed) throws IOException {
        Path dir = tmp.resolve("ckpt");
        Files.createDirectories(dir.resolve("shards"));
        byte[] bytes = new byte[900_000];
        new Random(seed).nextBytes(bytes);
        Files.write(dir.resolve("shards/model-00001.safetensors"), bytes);
        Files.writeString(dir.resolve("config.json"), "{\"step\": " + seed + "}\n");
        return dir;
    }

    private void init(List<String> repo, Path key) {
        CliRunner.Result r = cli.run(args(repo, key, "init", "--generate-key"));
        assertThat(r.exitCode()).as(r.err()).isZero();
    }

    private static long files(Path root) throws IOException {
        if (!Files.exists(root)) {
            return 0;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(Files::isRegularFile).filter(p -> !p.toString().contains("/locks/")).count();
        }
    }

    @Test
    void copiesLocalToS3ToAzureIncrementallyAndTheLastHopVerifiesAndRestores() throws Exception {
        List<String> local = List.of("--repo", localUri());
        Path localKey = tmp.resolve("local.key");
        init(local, localKey);
        String s3 = s3Uri("copy-dr");
        List<String> s3Repo = with(List.of("--repo", s3), s3Flags().toArray(String[]::new));
        Path s3Key = tmp.resolve("s3.key");
        init(s3Repo, s3Key);
        String azure = azureUri("copy-dr");
        Path azureKey = tmp.resolve("azure.key");
        init(List.of("--repo", azure), azureKey);

        Path source = checkpoint(1);
        CliRunner.Result b1 = cli.run(args(local, localKey, "backup", source.toString(), "--tag", "nightly", "--json"));
        assertThat(b1.exitCode()).as(b1.err()).isZero();
        String first = JSON.readTree(b1.out()).get("id").asText();

        List<String> toS3 = with(s3Flags(), "--to", s3, "--to-key-file", s3Key.toString(), "--json");
        CliRunner.Result c1 = cli.run(args(local, localKey, "copy", toS3.toArray(String[]::new)));
        assertThat(c1.exitCode()).as(c1.err()).isZero();
        JsonNode r1 = JSON.readTree(c1.out());
        assertThat(r1.get("copied").get(0).asText()).isEqualTo(first);
        assertThat(r1.get("chunksCopied").asLong()).isPositive();

        checkpoint(2);
        CliRunner.Result b2 = cli.run(args(local, localKey, "backup", source.toString(), "--json"));
        assertThat(b2.exitCode()).as(b2.err()).isZero();
        String second = JSON.readTree(b2.out()).get("id").asText();
        CliRunner.Result c2 = cli.run(args(local, localKey, "copy", toS3.toArray(String[]::new)));
        assertThat(c2.exitCode()).as(c2.err()).isZero();
        JsonNode r2 = JSON.readTree(c2.out());
        assertThat(r2.get("copied")).hasSize(1);
        assertThat(r2.get("copied").get(0).asText()).isEqualTo(second);
        assertThat(r2.get("skipped").get(0).asText()).isEqualTo(first);

        // S3 → Azure, only the latest
        CliRunner.Result c3 = cli.run(args(s3Repo, s3Key, "copy", "latest", "--to", azure, "--to-key-file", azureKey.toString(),
                "--json"));
        assertThat(c3.exitCode()).as(c3.err()).isZero();
        assertThat(JSON.readTree(c3.out()).get("copied").get(0).asText()).isEqualTo(second);

        List<String> azureRepo = List.of("--repo", azure);
        CliRunner.Result verify = cli.run(args(azureRepo, azureKey, "verify", "--data", "--json"));
        assertThat(verify.exitCode()).as(verify.out() + verify.err()).isZero();
        Path target = tmp.resolve("restored");
        CliRunner.Result restore = cli.run(args(azureRepo, azureKey, "restore", second.substring(0, 8), target.toString()));
        assertThat(restore.exitCode()).as(restore.err()).isZero();
        assertThat(QuickStartAccess.treeDigest(target)).isEqualTo(QuickStartAccess.treeDigest(source));
        // and the first hop's older snapshot restores from S3
        Path older = tmp.resolve("older");
        checkpoint(1);
        CliRunner.Result restoreOld = cli.run(args(s3Repo, s3Key, "restore", first, older.toString()));
        assertThat(restoreOld.exitCode()).as(restoreOld.err()).isZero();
        assertThat(QuickStartAccess.treeDigest(older)).isEqualTo(QuickStartAccess.treeDigest(source));
    }

    @Test
    void refusesAWrongDestinationKeyACopyIntoItselfAnEmptySelectionAndAMissingDestinationKey() throws Exception {
        List<String> local = List.of("--repo", localUri());
        Path key = tmp.resolve("local.key");
        init(local, key);
        assertThat(cli.run(args(local, key, "backup", checkpoint(1).toString())).exitCode()).isZero();
        Path dest = tmp.resolve("dest");
        List<String> destRepo = List.of("--repo", dest.toUri().toString());
        Path destKey = tmp.resolve("dest.key");
        init(destRepo, destKey);
        long destFiles = files(dest);
        Path wrong = tmp.resolve("wrong.key");
        Files.writeString(wrong, HexFormat.of().formatHex(new byte[32]));

        CliRunner.Result wrongKey = cli.run(args(local, key, "copy", "--to", dest.toUri().toString(), "--to-key-file",
                wrong.toString()));
        assertThat(wrongKey.exitCode()).as(wrongKey.err()).isEqualTo(ExitCode.WRONG_KEY);
        assertThat(wrongKey.err()).contains("wrong key");
        assertThat(files(dest)).isEqualTo(destFiles);

        CliRunner.Result itself = cli.run(args(local, key, "copy", "--to", localUri(), "--to-key-file", key.toString()));
        assertThat(itself.exitCode()).as(itself.err()).isEqualTo(ExitCode.USAGE);
        assertThat(itself.err()).contains("into itself");

        CliRunner.Result nothing = cli.run(args(local, key, "copy", "--tag", "absent", "--to", dest.toUri().toString(),
                "--to-key-file", destKey.toString()));
        assertThat(nothing.exitCode()).as(nothing.err()).isEqualTo(ExitCode.NOT_FOUND);
        assertThat(nothing.err()).contains("absent");
        assertThat(files(dest)).isEqualTo(destFiles);

        CliRunner.Result noKey = cli.run(args(local, key, "copy", "--to", dest.toUri().toString()));
        assertThat(noKey.exitCode()).isEqualTo(ExitCode.USAGE);
        assertThat(noKey.err()).contains("no destination key");
    }
}
