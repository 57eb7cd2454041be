package io.dr4j.examples.cli;

import com.azure.storage.blob.BlobServiceClientBuilder;
import io.dr4j.aws.S3ProxyServer;
import io.dr4j.azure.Azurite;
import io.dr4j.testing.TestFiles;
import static io.dr4j.examples.cli.CliRunner.args;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dr4j.examples.QuickStartAccess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliRoundTripTest {

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

    private List<String> localRepo() {
        return List.of("--repo", tmp.resolve("repo").toUri().toString());
    }

    private List<String> s3Repo(String bucket) {
        s3.createBucket(bucket);
        return List.of("--repo", "s3://" + bucket + "/backups/llama", "--s3-endpoint", s3.endpoint().toString(),
                "--s3-path-style", "--s3-compatible", "--s3-no-conditional-puts");
    }

    private List<String> azureRepo(String container) {
        new BlobServiceClientBuilder().connectionString(azurite.connectionString()).buildClient()
                .createBlobContainer(container);
        return List.of("--repo", "azure://" + container + "/backups/llama");
    }

    private Path checkpoint(long seed) throws IOException {
        Path dir = tmp.resolve("ckpt");
        Files.createDirectories(dir.resolve("shards"));
        byte[] bytes = new byte[700_000];
        new Random(seed).nextBytes(bytes);
        Files.write(dir.resolve("shards/model-00001.safetensors"), bytes);
        Files.writeString(dir.resolve("config.json"), "{\"step\": " + seed + "}\n");
        return dir;
    }

    @Test
    void roundTripsACheckpointThroughALocalRepository() throws Exception {
        roundTrip(localRepo());
    }

    @Test
    void roundTripsACheckpointThroughAnS3ProxyRepository() throws Exception {
        roundTrip(s3Repo("cli-round-trip"));
    }

    @Test
    void roundTripsACheckpointThroughAnAzuriteRepository() throws Exception {
        roundTrip(azureRepo("cli-round-trip"));
    }

    @Test
    void roundTripsThroughAReplicatedSetOfLocalS3AndAzureAndRestoresFromEachAlone() throws Exception {
        List<String> local = localRepo();
        List<String> s3Member = s3Repo("cli-replicated");
        List<String> azureMember = azureRepo("cli-replicated");
        String s3Uri = s3Member.get(1) + "?endpoint=" + s3.endpoint() + "&pathStyle=true&compatible=true&conditionalPuts=false";
        List<String> replicated = List.of("--repo", "replicated:" + local.get(1) + "," + s3Uri + "," + azureMember.get(1),
                "--repair-log", tmp.resolve("repair-log").toString());
        roundTrip(replicated);

        Path key = tmp.resolve("repo.key");
        for (List<String> alone : List.of(local, List.of("--repo", s3Uri), azureMember)) {
            Path target = tmp.resolve("alone-" + Math.abs(alone.get(1).hashCode()));
            CliRunner.Result r = cli.run(args(alone, key, "restore", "latest", target.toString()));
            assertThat(r.exitCode()).as(alone + ": " + r.err()).isZero();
            assertThat(digest(target)).isEqualTo(digest(tmp.resolve("ckpt")));
        }
    }

    private void roundTrip(List<String> repo) throws Exception {
        Path key = tmp.resolve("repo.key");
        CliRunner.Result init = cli.run(args(repo, key, "init", "--generate-key"));
        assertThat(init.exitCode()).as(init.err()).isZero();
        assertThat(init.out()).contains("created repository");
        assertThat(Files.readString(key).strip()).matches("[0-9a-f]{64}");

        Path source = checkpoint(1);
        CliRunner.Result b1 = cli.run(args(repo, key, "backup", source.toString(), "--tag", "nightly", "--label", "model=llama", "--json",
                "--progress"));
        assertThat(b1.exitCode()).as(b1.err()).isZero();
        assertThat(b1.err()).as("progress bar on stderr").contains("backup  [", "100%");
        String first = JSON.readTree(b1.out()).get("id").asText();

        checkpoint(2);
        CliRunner.Result b2 = cli.run(args(repo, key, "backup", source.toString(), "--label", "model=llama", "--json"));
        assertThat(b2.exitCode()).as(b2.err()).isZero();
        String second = JSON.readTree(b2.out()).get("id").asText();

        JsonNode list = JSON.readTree(cli.run(args(repo, key, "snapshots", "--json")).out());
        assertThat(list).hasSize(2);
        assertThat(list.get(0).get("tags").get(0).asText()).isEqualTo("nightly");

        CliRunner.Result diff = cli.run(args(repo, key, "diff", first.substring(0, 8), "latest"));
        assertThat(diff.exitCode()).as(diff.err()).isZero();
        assertThat(diff.out()).contains("M config.json", "M shards/model-00001.safetensors");

        CliRunner.Result verify = cli.run(args(repo, key, "verify", "--data", "--json"));
        assertThat(verify.exitCode()).as(verify.err()).isZero();
        assertThat(JSON.readTree(verify.out()).get("ok").asBoolean()).isTrue();

        Path target = tmp.resolve("restored");
        CliRunner.Result restore = cli.run(args(repo, key, "restore", "latest", target.toString()));
        assertThat(restore.exitCode()).as(restore.err()).isZero();
        assertThat(restore.out()).contains("restored snapshot " + second);
        assertThat(digest(target)).isEqualTo(digest(source));

        CliRunner.Result again = cli.run(args(repo, key, "restore", "latest", target.toString()));
        assertThat(again.exitCode()).as("a non-empty target is refused").isEqualTo(ExitCode.TARGET_REFUSED);

        CliRunner.Result drill = cli.run(args(repo, key, "drill", "--scratch", tmp.resolve("scratch").toString(), "--rpo", "1h",
                "--rto", "10m", "--set", "llama", "--json"));
        assertThat(drill.exitCode()).as(drill.out() + drill.err()).isZero();
        JsonNode report = JSON.readTree(drill.out());
        assertThat(report.get("outcome").asText()).isEqualTo("PASSED");
        assertThat(report.at("/snapshot/id").asText()).isEqualTo(second);

        CliRunner.Result forget = cli.run(args(repo, key, "forget", "--keep-last", "1", "--prune"));
        assertThat(forget.exitCode()).as(forget.err()).isZero();
        assertThat(forget.out()).contains("forget " + first);
        assertThat(JSON.readTree(cli.run(args(repo, key, "snapshots", "--json")).out())).hasSize(1);
    }

    @Test
    void aWrongKeyExitsWithFourAndTouchesNothing() throws Exception {
        Path key = tmp.resolve("repo.key");
        assertThat(cli.run(args(localRepo(), key, "init", "--generate-key")).exitCode()).isZero();
        Path other = tmp.resolve("other.key");
        Files.writeString(other, HexFormat.of().formatHex(new byte[32]));

        CliRunner.Result r = cli.run(args(localRepo(), other, "snapshots"));

        assertThat(r.exitCode()).isEqualTo(ExitCode.WRONG_KEY);
        assertThat(r.err()).contains("wrong key").doesNotContain(Files.readString(key).strip());
        assertThat(cli.run(args(localRepo(), other, "drill", "--scratch", tmp.resolve("s").toString())).exitCode())
                .isEqualTo(ExitCode.WRONG_KEY);
    }

    @Test
    void aDamagedChunkFailsVerifyAndTheDrillWithExitThree() throws Exception {
        Path key = tmp.resolve("repo.key");
        assertThat(cli.run(args(localRepo(), key, "init", "--generate-key")).exitCode()).isZero();
        assertThat(cli.run(args(localRepo(), key, "backup", checkpoint(1).toString())).exitCode()).isZero();
        Path chunk;
        try (Stream<Path> walk = Files.walk(tmp.resolve("repo/packs"))) {
            chunk = walk.filter(Files::isRegularFile).sorted().findFirst().orElseThrow();
        }
        byte[] bytes = Files.readAllBytes(chunk);
        bytes[20] ^= 1; // inside the pack's first chunk blob
        Files.write(chunk, bytes);
        String object = tmp.resolve("repo").relativize(chunk).toString();

        CliRunner.Result verify = cli.run(args(localRepo(), key, "verify", "--data"));
        CliRunner.Result drill = cli.run(args(localRepo(), key, "drill", "--scratch", tmp.resolve("s").toString()));

        assertThat(verify.exitCode()).isEqualTo(ExitCode.CHECK_FAILED);
        assertThat(verify.out()).contains("DAMAGED", object);
        assertThat(drill.exitCode()).isEqualTo(ExitCode.CHECK_FAILED);
        assertThat(drill.out()).contains("DR drill FAILED", "CORRUPT_OBJECT", object);
    }

    @Test
    void usageErrorsExitWithTwoAndNameTheCause() {
        Path key = tmp.resolve("missing.key");
        CliRunner.Result badScheme = cli.run(args(List.of("--repo", "ftp://host/x"), key, "snapshots"));
        assertThat(badScheme.exitCode()).isEqualTo(ExitCode.USAGE);
        assertThat(badScheme.err()).contains("unknown repository scheme 'ftp'");

        CliRunner.Result noKey = cli.run("snapshots", "--repo", tmp.toUri().toString());
        assertThat(noKey.exitCode()).isEqualTo(ExitCode.USAGE);
        assertThat(noKey.err()).contains("no repository key");

        CliRunner.Result unknown = cli.run("explode");
        assertThat(unknown.exitCode()).isEqualTo(ExitCode.USAGE);

        CliRunner.Result badDuration = cli.run("drill", "--rpo", "soon");
        assertThat(badDuration.exitCode()).isEqualTo(ExitCode.USAGE);
        assertThat(badDuration.err()).contains("'soon' is not a duration");
    }

    @Test
    void aMissingRepositoryExitsWithFive() throws Exception {
        Path key = tmp.resolve("k");
        Files.writeString(key, HexFormat.of().formatHex(new byte[32]));
        Files.createDirectories(tmp.resolve("empty"));

        assertThat(cli.run(args(List.of("--repo", tmp.resolve("absent").toString()), key, "snapshots")).exitCode())
                .isEqualTo(ExitCode.NOT_FOUND);
        assertThat(cli.run(args(List.of("--repo", tmp.resolve("empty").toString()), key, "snapshots")).exitCode())
                .isEqualTo(ExitCode.NOT_FOUND);
    }

    @Test
    void repairCopiesWhatAReplicaLostAndThatReplicaAloneThenRestores() throws Exception {
        Path key = tmp.resolve("repo.key");
        List<String> replicated = List.of("--repo", tmp.resolve("site-a").toUri().toString(),
                "--repo", tmp.resolve("site-b").toUri().toString(), "--repair-log", tmp.resolve("repair-log").toString());
        assertThat(cli.run(args(replicated, key, "init", "--generate-key")).exitCode()).isZero();
        Path source = checkpoint(3);
        CliRunner.Result backup = cli.run(args(replicated, key, "backup", source.toString()));
        assertThat(backup.exitCode()).as(backup.err()).isZero();

        TestFiles.deleteTree(tmp.resolve("site-b/packs"));
        CliRunner.Result repair = cli.run(args(replicated, key, "repair", "--json"));

        assertThat(repair.exitCode()).as(repair.out() + repair.err()).isZero();
        assertThat(JSON.readTree(repair.out()).get("objectsCopied").asLong()).isPositive();
        Path target = tmp.resolve("from-b");
        CliRunner.Result restore = cli.run(args(List.of("--repo", tmp.resolve("site-b").toUri().toString()), key, "restore",
                "latest", target.toString()));
        assertThat(restore.exitCode()).as(restore.err()).isZero();
        assertThat(digest(target)).isEqualTo(digest(source));
    }

    @Test
    void repairOfASingleRepositoryIsAUsageError() throws Exception {
        Path key = tmp.resolve("repo.key");
        assertThat(cli.run(args(localRepo(), key, "init", "--generate-key")).exitCode()).isZero();
        CliRunner.Result r = cli.run(args(localRepo(), key, "repair"));
        assertThat(r.exitCode()).isEqualTo(ExitCode.USAGE);
        assertThat(r.err()).contains("replicated set");
    }

    private static String digest(Path root) throws IOException {
        return QuickStartAccess.treeDigest(root);
    }
}
