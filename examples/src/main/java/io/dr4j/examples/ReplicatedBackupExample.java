package io.dr4j.examples;

import io.dr4j.backup.BackupOptions;
import io.dr4j.backup.KeyProvider;
import io.dr4j.backup.Repository;
import io.dr4j.backup.Snapshot;
import io.dr4j.backup.UnsupportedFormatException;
import io.dr4j.drill.DrillReport;
import io.dr4j.drill.DrillRunner;
import io.dr4j.drill.RecoveryObjectives;
import io.dr4j.drill.RecoveryPointMonitor;
import io.dr4j.examples.cli.RepositoryUris;
import io.dr4j.replication.MemberStatus;
import io.dr4j.replication.ReplicatedBlobStore;
import io.dr4j.replication.ReplicationStatus;
import io.dr4j.storage.BlobStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Backs a checkpoint up to one repository replicated across a local disk, S3 and Azure, then
 * drills a restore from each replica alone (as if the others were lost) and prints the current
 * RPO including replication lag. Configured by environment variables, so that no secret is on
 * the command line:
 * <ul>
 *   <li>{@code DR4J_KEY}: the repository key, 64 hex digits (required; e.g. {@code openssl rand -hex 32});</li>
 *   <li>{@code DR4J_LOCAL_URI}: the local replica (default {@code file://$PWD/dr4j-replica});</li>
 *   <li>{@code DR4J_S3_URI}: e.g. {@code s3://my-bucket/dr4j/llama} (optional); {@code DR4J_S3_ENDPOINT} for
 *       an S3-compatible server (then path-style and S3-compatible mode are used), credentials from
 *       {@code AWS_ACCESS_KEY_ID} / {@code AWS_SECRET_ACCESS_KEY} or the AWS default chain, region from
 *       {@code AWS_REGION};</li>
 *   <li>{@code DR4J_AZURE_URI}: e.g. {@code azure://dr4j/llama} (optional), with the connection
 *       string in {@code DR4J_AZURE_CONNECTION_STRING};</li>
 *   <li>{@code DR4J_WRITE_QUORUM}: acknowledgements per write (default: a majority).</li>
 * </ul>
 *
 * <p>Run: {@code DR4J_KEY=$(openssl rand -hex 32) DR4J_S3_URI=s3://bucket/dr4j java -cp examples/target/dr4j.jar
 * io.dr4j.examples.ReplicatedBackupExample /path/to/checkpoint}
 */
public final class ReplicatedBackupExample {

    private ReplicatedBackupExample() {
    }

    private static Repository openOrInit(BlobStore store, KeyProvider key) {
        try {
            return Repository.open(store, key);
        } catch (UnsupportedFormatException e) {
            System.out.println("no repository yet: creating one");
            return Repository.init(store, key);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: ReplicatedBackupExample CHECKPOINT_DIR (configuration in DR4J_* variables, see javadoc)");
            System.exit(2);
        }
        Map<String, String> env = System.getenv();
        String hex = env.get("DR4J_KEY");
        if (hex == null || !hex.matches("[0-9a-fA-F]{64}")) {
            System.err.println("set DR4J_KEY to the repository key, 64 hex digits (e.g. DR4J_KEY=$(openssl rand -hex 32))");
            System.exit(2);
        }
        KeyProvider key = KeyProvider.rawKey(HexFormat.of().parseHex(hex));
        List<String> members = new ArrayList<>();
        members.add(env.getOrDefault("DR4J_LOCAL_URI", Path.of("dr4j-replica").toAbsolutePath().toUri().toString()));
        if (env.get("DR4J_S3_URI") != null) {
            String endpoint = env.get("DR4J_S3_ENDPOINT");
            members.add(endpoint == null ? env.get("DR4J_S3_URI")
                    : env.get("DR4J_S3_URI") + "?endpoint=" + endpoint + "&pathStyle=true&compatible=true");
        }
        if (env.get("DR4J_AZURE_URI") != null) {
            members.add(env.get("DR4J_AZURE_URI"));
        }
        RepositoryUris.Settings settings = RepositoryUris.Settings.defaults(env).creatingLocal();
        settings = new RepositoryUris.Settings(settings.env(), settings.s3Endpoint(),
                java.util.Optional.ofNullable(env.get("AWS_REGION")), false, false, true, settings.azureConnectionStringEnv(),
                true, env.get("DR4J_WRITE_QUORUM") == null ? java.util.OptionalInt.empty()
                        : java.util.OptionalInt.of(Integer.parseInt(env.get("DR4J_WRITE_QUORUM"))),
                java.util.Optional.of(Path.of("dr4j-repair-log").toAbsolutePath()));
        System.out.println("replicas: " + members.stream().map(m -> m.replaceAll("\\?.*", "")).toList());

        List<BlobStore> alone = new ArrayList<>();
        try (BlobStore store = RepositoryUris.open(members, settings)) {
            try (Repository repo = openOrInit(store, key)) {
                Snapshot s = repo.backup(Path.of(args[0]), BackupOptions.builder().tag("replicated-example").build());
                System.out.printf("snapshot %s: %d files, %d bytes, %d new bytes stored%n", s.id(), s.stats().files(),
                        s.totalBytes(), s.stats().newBytesStored());
            }
            RecoveryObjectives objectives = RecoveryObjectives.builder("example").rpo(Duration.ofHours(1))
                    .rto(Duration.ofMinutes(30)).build();
            RecoveryPointMonitor.Builder monitor = RecoveryPointMonitor.builder(objectives);
            if (store instanceof ReplicatedBlobStore replicated) {
                replicated.awaitBackground(Duration.ofMinutes(5));
                ReplicationStatus status = replicated.status();
                for (MemberStatus m : status.members()) {
                    System.out.printf("  %-45s %-9s owes %d writes, lag %s%n", m.name(), m.health(), m.owedWrites(),
                            m.lag(status.at()));
                    // a monitored replica's RPO is its verified snapshot's age plus how far it lags
                    monitor.store(m.name(), () -> replicated.status().member(m.name())
                            .map(ms -> ms.lag(replicated.status().at())).orElse(Duration.ZERO));
                }
            } else {
                monitor.store(store.name());
            }
            RecoveryPointMonitor rpo = monitor.onExceeded(p -> System.out.println("ALERT: RPO exceeded on " + p.store())).build();
            // drill each replica on its own: can we recover if it is all that is left?
            for (String member : members) {
                BlobStore one = RepositoryUris.openOne(member, settings);
                alone.add(one);
                DrillReport report = DrillRunner.builder(one, key).objectives(objectives)
                        .scratchDirectory(Path.of(System.getProperty("java.io.tmpdir"), "dr4j-drill")).build().run();
                System.out.print(report.toText());
                String name = store instanceof ReplicatedBlobStore r
                        ? r.memberNames().get(members.indexOf(member)) : store.name();
                if (report.passed()) {
                    rpo.recordVerified(name, report.snapshotTime().orElseThrow());
                }
            }
            rpo.check().forEach(p -> System.out.println("current RPO of " + p.store() + ": "
                    + p.current().map(Duration::toString).orElse("unknown") + " (objective " + p.objective() + ")"));
        } finally {
            for (BlobStore s : alone) {
                s.close();
            }
        }
    }
}
