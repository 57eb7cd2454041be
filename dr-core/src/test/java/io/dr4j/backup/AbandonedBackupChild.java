package io.dr4j.backup;

import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStore;
import io.dr4j.storage.Capability;
import io.dr4j.storage.LocalBlobStore;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;

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
    private static final class StallingStore implements BlobStore {
        private final BlobStore delegate;

        StallingStore(BlobStore delegate) {
            this.delegate = delegate;
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
        public String name() {
            return delegate.name();
        }

        @Override
        public Set<Capability> capabilities() {
            return delegate.capabilities();
        }

        @Override
        public void put(BlobKey key, Path source) throws IOException {
            stallIfPack(key);
            delegate.put(key, source);
        }

        @Override
        public void put(BlobKey key, byte[] data, int offset, int length) throws IOException {
            stallIfPack(key);
            delegate.put(key, data, offset, length);
        }

        @Override
        public void put(BlobKey key, InputStream data, long length) throws IOException {
            stallIfPack(key);
            delegate.put(key, data, length);
        }

        @Override
        public void putIfAbsent(BlobKey key, byte[] data) throws IOException {
            stallIfPack(key);
            delegate.putIfAbsent(key, data);
        }

        @Override
        public InputStream get(BlobKey key) throws IOException {
            return delegate.get(key);
        }

        @Override
        public InputStream get(BlobKey key, long offset, long length) throws IOException {
            return delegate.get(key, offset, length);
        }

        @Override
        public BlobInfo stat(BlobKey key) throws IOException {
            return delegate.stat(key);
        }

        @Override
        public Stream<BlobInfo> list(String prefix) throws IOException {
            return delegate.list(prefix);
        }

        @Override
        public void delete(BlobKey key) throws IOException {
            delegate.delete(key);
        }

        @Override
        public void close() throws IOException {
            delegate.close();
        }
    }
}
