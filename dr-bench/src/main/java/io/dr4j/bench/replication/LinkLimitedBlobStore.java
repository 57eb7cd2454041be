package io.dr4j.bench.replication;

import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStore;
import io.dr4j.storage.ForwardingBlobStore;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A benchmark decorator that sends every put through a simulated network link of a fixed
 * bandwidth, as a store at another site would be reached. Each instance is its own link: puts to
 * one instance share its bandwidth, puts to different instances do not. Reads, and the small
 * conditional puts, are not limited.
 *
 * <p>Thread-safe if the delegate is.
 */
final class LinkLimitedBlobStore extends ForwardingBlobStore {

    private final long bytesPerSecond;
    private long linkFreeAtNanos = System.nanoTime();

    LinkLimitedBlobStore(BlobStore delegate, long bytesPerSecond) {
        super(delegate);
        this.bytesPerSecond = bytesPerSecond;
    }

    @Override
    public String name() {
        return "link(" + bytesPerSecond / 1_000_000 + " MB/s, " + delegate().name() + ")";
    }

    @Override
    public void put(BlobKey key, Path source) throws IOException {
        try (InputStream in = Files.newInputStream(source)) {
            put(key, in, Files.size(source));
        }
    }

    @Override
    public void put(BlobKey key, byte[] data) throws IOException {
        put(key, data, 0, data.length);
    }

    @Override
    public void put(BlobKey key, byte[] data, int offset, int length) throws IOException {
        send(length);
        delegate().put(key, data, offset, length);
    }

    @Override
    public void put(BlobKey key, InputStream data, long length) throws IOException {
        delegate().put(key, new Paced(data), length);
    }

    /** Reserves link time for {@code n} bytes and waits until the link has sent them. */
    private void send(long n) throws InterruptedIOException {
        long due;
        synchronized (this) {
            long now = System.nanoTime();
            long start = Math.max(now, linkFreeAtNanos);
            linkFreeAtNanos = start + n * 1_000_000_000L / bytesPerSecond;
            due = linkFreeAtNanos;
        }
        long wait = due - System.nanoTime();
        if (wait > 0) {
            try {
                TimeUnit.NANOSECONDS.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted on the simulated link");
            }
        }
    }

    private final class Paced extends FilterInputStream {
        Paced(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                send(1);
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                send(n);
            }
            return n;
        }
    }
}
