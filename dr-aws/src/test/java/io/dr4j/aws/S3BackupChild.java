package io.dr4j.aws;

import io.dr4j.backup.BackupOptions;
import io.dr4j.backup.KeyProvider;
import io.dr4j.backup.Repository;
import io.dr4j.backup.RepositoryOptions;
import io.dr4j.backup.Snapshot;
import io.dr4j.backup.TestRepos;
import io.dr4j.storage.BlobStore;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * One writer of {@link S3ConcurrentBackupProcessesTest}: a separate JVM that opens the repository
 * on the parent's S3Proxy as another host would, prints {@code ready}, waits for {@code go} on its
 * standard input (so that the writers start together, JVM start-up done) and backs up one tree,
 * printing {@code done <snapshot id>}. Exits on its own after {@link #WATCHDOG_MILLIS} whatever
 * happens, so that a stuck writer cannot hold up the build.
 *
 * <p>Arguments: endpoint, bucket, key prefix, source directory, host name.
 */
public final class S3BackupChild {

    static final long WATCHDOG_MILLIS = 120_000;

    private S3BackupChild() {
    }

    public static void main(String[] args) throws Exception {
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(WATCHDOG_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            System.out.println("watchdog: giving up after " + WATCHDOG_MILLIS + " ms");
            System.out.flush();
            Runtime.getRuntime().halt(3);
        }, "watchdog");
        watchdog.setDaemon(true);
        watchdog.start();

        URI endpoint = URI.create(args[0]);
        String host = args[4];
        // as S3ProxyServer.storeBuilder: S3-compatible checksum mode, path style, no conditional puts
        try (BlobStore store = S3BlobStore.builder(args[1]).endpoint(endpoint).pathStyle(true).s3Compatible(true)
                     .conditionalPuts(false).keyPrefix(args[2])
                     .credentials(StaticCredentialsProvider.create(
                             AwsBasicCredentials.create(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY)))
                     .build();
             Repository repo = Repository.open(store, KeyProvider.rawKey(TestRepos.RAW_KEY),
                     RepositoryOptions.builder().noCache().workers(2).ioConcurrency(4).host(host).build())) {
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            System.out.println("ready");
            System.out.flush();
            if (!"go".equals(in.readLine())) {
                throw new IllegalStateException("expected go on standard input");
            }
            Snapshot s = repo.backup(Path.of(args[3]), BackupOptions.builder().tag(host).build());
            System.out.println("done " + s.id().value());
            System.out.flush();
        }
    }
}
