package io.dr4j.backup;

import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStore;
import io.dr4j.storage.ForwardingBlobStore;
import io.dr4j.storage.LocalBlobStore;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * The victim of {@link LockTest}'s killed backups: a separate JVM that runs a real backup whose
 * first pack upload stalls (as over a dead link), prints {@code stalled} and waits to be killed
 * with SIGKILL, leaving its shared lock behind.
 */
public final class AbandonedBackupChild {

    private AbandonedBackupChild() {
    }

    public static void main(String[] args) throws Exception {
        try (LocalBlobStore local = LocalBlobStore.open(Path.of(args[0]));
             Repository repo = Repository.open(new StallingStore(local), KeyProvider.rawKey(TestRepos.RAW_KEY),
                     RepositoryOptions.builder().noCache().workers(1).ioConcurrency(2).inFlightBytes(8 << 20)
                             .host("abandoned-" + args[2]).build())) {
            repo.backup(Path.of(args[1]));
        }
    }

    /** Delegates to the local store; a put of a pack never returns. */
    private static final class StallingStore extends ForwardingBlobStore {

        StallingStore(BlobStore delegate) {
            super(delegate);
        }

        private static void stallIfPack(BlobKey key) throws IOException {
            if (key.value().startsWith("packs/")) {
                System.out.println("stalled");
                System.out.flush();
                try {
                    new CountDownLatch(1).await();
                } catch (InterruptedException e) {
                    throw new java.io.InterruptedIOException();
                }
            }
        }

        @Override
        public void put(BlobKey key, Path source) throws IOException {
            stallIfPack(key);
            super.put(key, source);
        }

        @Override
        public void put(BlobKey key, byte[] data) throws IOException {
            stallIfPack(key);
            super.put(key, data);
        }

        @Override
        public void put(BlobKey key, byte[] data, int offset, int length) throws IOException {
            stallIfPack(key);
            super.put(key, data, offset, length);
        }

        @Override
        public void put(BlobKey key, InputStream data, long length) throws IOException {
            stallIfPack(key);
            super.put(key, data, length);
        }

        @Override
        public void putIfAbsent(BlobKey key, byte[] data) throws IOException {
            stallIfPack(key);
            super.putIfAbsent(key, data);
        }
    }
}
