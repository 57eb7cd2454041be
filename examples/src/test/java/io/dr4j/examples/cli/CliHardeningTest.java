package io.dr4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dr4j} on a rolled-back store (exit 8, accept-rollback) and {@code dr4j unlock}. */
class CliHardeningTest {

    @TempDir
    Path tmp;

    private final CliRunner cli = new CliRunner(Map.of());

    private String[] args(String command, String... rest) {
        List<String> all = new ArrayList<>(List.of(command, "--repo", tmp.resolve("repo").toUri().toString(), "--key-file",
                tmp.resolve("repo.key").toString()));
        all.addAll(Arrays.asList(rest));
        return all.toArray(String[]::new);
    }

    private CliRunner.Result ok(String command, String... rest) {
        CliRunner.Result r = cli.run(args(command, rest));
        assertThat(r.exitCode()).as(command + ": " + r.err()).isZero();
        return r;
    }

    private Path checkpoint(int step) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("ckpt"));
        Files.writeString(dir.resolve("config.json"), "{\"step\": " + step + "}\n");
        Files.write(dir.resolve("weights.bin"), new byte[1000 + step]);
        return dir;
    }

    private List<Path> snapshotFiles() throws IOException {
        try (Stream<Path> s = Files.list(tmp.resolve("repo/snapshots"))) {
            return s.toList();
        }
    }

    @Test
    void aRolledBackStoreExitsWithEightUntilTheRollbackIsAccepted() throws Exception {
        ok("init", "--generate-key");
        ok("backup", checkpoint(1).toString());
        List<Path> first = snapshotFiles();
        ok("backup", checkpoint(2).toString());
        ok("restore", "latest", tmp.resolve("out1").toString());
        // delete the newest manifest directly in the store
        for (Path p : snapshotFiles()) {
            if (!first.contains(p)) {
                Files.delete(p);
            }
        }
        CliRunner.Result r = cli.run(args("restore", "latest", tmp.resolve("out2").toString()));
        assertThat(r.exitCode()).as(r.err()).isEqualTo(ExitCode.ROLLBACK);
        assertThat(r.err()).contains("rollback detected").contains("accept-rollback");
        assertThat(tmp.resolve("out2")).doesNotExist();
        assertThat(cli.run(args("drill", "--scratch", tmp.resolve("scratch").toString())).exitCode()).isEqualTo(ExitCode.ROLLBACK);
        ok("accept-rollback");
        ok("restore", "latest", tmp.resolve("out2").toString());
        assertThat(Files.readString(tmp.resolve("out2/config.json"))).contains("\"step\": 1");
        assertThat(cli.run(args("--help")).out() + cli.run("--help").out()).contains("8  rollback detected");
    }

    @Test
    void unlockRemovesStaleLocksAndWithAllLiveOnesWithAWarning() throws Exception {
        ok("init", "--generate-key");
        Path locks = Files.createDirectories(tmp.resolve("repo/locks"));
        String json = "{\"mode\":\"shared\",\"host\":\"%s\",\"pid\":1,\"purpose\":\"backup\",\"created\":\"2026-01-01T00:00:00Z\","
                + "\"refreshed\":\"2026-01-01T00:00:00Z\"}";
        Path stale = Files.writeString(locks.resolve("0123456789abcdef0123456789abcdef"), String.format(json, "killed-host"),
                StandardCharsets.UTF_8);
        Files.setLastModifiedTime(stale, FileTime.from(Instant.now().minus(Duration.ofHours(2))));
        Files.writeString(locks.resolve("fedcba9876543210fedcba9876543210"), String.format(json, "running-host"));

        CliRunner.Result r = ok("unlock");
        assertThat(r.out()).contains("removed stale shared lock of killed-host").contains("removed 1 lock(s)");
        assertThat(locks.resolve("fedcba9876543210fedcba9876543210")).exists();

        r = ok("unlock", "--all");
        assertThat(r.err()).contains("warning");
        assertThat(r.out()).contains("removed LIVE shared lock of running-host");
        try (Stream<Path> left = Files.list(locks)) {
            assertThat(left).isEmpty();
        }
    }
}
