package io.dr4j.bench.backup;

import io.dr4j.backup.BackupOptions;
import io.dr4j.backup.KeyProvider;
import io.dr4j.backup.Repository;
import io.dr4j.backup.RestoreOptions;
import io.dr4j.backup.RestoreResult;
import io.dr4j.backup.Snapshot;
import io.dr4j.backup.SnapshotFilter;
import io.dr4j.storage.LocalBlobStore;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One dr4j step of {@link BackupSideBySide}, run in its own JVM so that its peak RSS is its own:
 * {@code init <repo>}, {@code backup <repo> <source>}, {@code restore <repo> <target>}. Uses the
 * library's defaults throughout (password key, durable local store, default chunk sizes, worker
 * count, in-flight budget). Prints one {@code RESULT} line and the JVM's peak RSS.
 */
public final class Dr4jStep {

    private Dr4jStep() {
    }

    public static void main(String[] args) throws Exception {
        String op = args[0];
        Path repoDir = Path.of(args[1]);
        KeyProvider key = KeyProvider.password("side-by-side benchmark".toCharArray());
        try (LocalBlobStore store = LocalBlobStore.open(repoDir)) {
            if (op.equals("init")) {
                Repository.init(store, key).close();
                System.out.println("RESULT init");
                return;
            }
            try (Repository repo = Repository.open(store, key)) {
                long start = System.nanoTime();
                if (op.equals("backup")) {
                    Snapshot s = repo.backup(Path.of(args[2]), BackupOptions.defaults());
                    double seconds = (System.nanoTime() - start) / 1e9;
                    System.out.printf("RESULT backup seconds=%.3f read=%d stored=%d newChunks=%d reused=%d%n", seconds,
                            s.stats().bytesRead(), s.stats().newBytesStored(), s.stats().newChunks(), s.stats().reusedChunks());
                } else if (op.equals("restore")) {
                    RestoreResult r = repo.restoreLatest(SnapshotFilter.ALL, Path.of(args[2]), RestoreOptions.defaults());
                    double seconds = (System.nanoTime() - start) / 1e9;
                    System.out.printf("RESULT restore seconds=%.3f bytes=%d%n", seconds, r.bytes());
                } else {
                    throw new IllegalArgumentException("unknown step " + op);
                }
            }
        }
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM")) {
                System.out.println("HWM " + line.replaceAll("\\D+", "") + " kB");
            }
        }
    }
}
