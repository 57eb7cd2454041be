package io.dr4j.backup;

import io.dr4j.storage.LocalBlobStore;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.Random;

/**
 * The victim of {@link CrashTest}: a separate JVM that backs up or restores until it is killed
 * with SIGKILL. Prints a line before each operation so the parent can aim its kill.
 */
public final class CrashChild {

    private CrashChild() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        Path repoDir = Path.of(args[1]);
        RepositoryOptions options = RepositoryOptions.builder().noCache().workers(2).ioConcurrency(2)
                .inFlightBytes(8 << 20).host("crash-child").build();
        try (LocalBlobStore store = LocalBlobStore.open(repoDir);
             Repository repo = Repository.open(store, KeyProvider.rawKey(TestRepos.RAW_KEY), options)) {
            if (mode.equals("backup-once")) {
                System.out.println("started");
                System.out.flush();
                Snapshot s = repo.backup(Path.of(args[2]), BackupOptions.builder().label("writer", args[3]).tag(args[3]).build());
                System.out.println("done " + s.id());
                System.out.flush();
            } else if (mode.equals("prune")) {
                try (Repository pruning = Repository.open(store, KeyProvider.rawKey(TestRepos.RAW_KEY),
                        RepositoryOptions.builder().noCache().workers(2).ioConcurrency(2).host("crash-child")
                                .pruneGracePeriod(java.time.Duration.ZERO).repackThreshold(0).build())) {
                    System.out.println("pruning");
                    System.out.flush();
                    System.out.println("pruned " + pruning.prune(false));
                    System.out.flush();
                }
            } else if (mode.equals("backup")) {
                Path source = Path.of(args[2]);
                Random random = new Random(Long.parseLong(args[3]));
                for (int round = 0; ; round++) {
                    // rewrite a stretch of one shard so that every round stores new chunks
                    try (RandomAccessFile f = new RandomAccessFile(source.resolve("shards/model-00001.safetensors").toFile(), "rw")) {
                        byte[] patch = new byte[64 << 10];
                        random.nextBytes(patch);
                        f.seek(random.nextInt((int) f.length() - patch.length));
                        f.write(patch);
                    }
                    System.out.println("backup " + round);
                    System.out.flush();
                    Snapshot s = repo.backup(source, BackupOptions.builder().rereadUnchanged(true).build());
                    System.out.println("done " + s.id());
                    System.out.flush();
                }
            } else {
                SnapshotId id = SnapshotId.of(args[2]);
                Path target = Path.of(args[3]);
                System.out.println("restoring");
                System.out.flush();
                repo.restore(id, target, RestoreOptions.builder().replaceExisting(true).build());
                System.out.println("restored");
                System.out.flush();
                Thread.sleep(60_000);
            }
        }
    }
}
