package io.dr4j.storage;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * A {@link BlobStore} decorator that bounds the bytes per second sent to the store (every put)
 * and read from it (every get and ranged read), each with its own token bucket, so that a
 * backup does not starve a model server's network. The limit is shared by every thread using
 * this instance: a backup's several pack writers together stay under it.
 *
 * <p>Granularity: a put or ranged read of a buffer or file waits for its whole length before it
 * is sent (packs are ~16 MiB, so a 50 MiB/s limit sends a pack about every third of a second at
 * the link's speed); streams are paced as they are read, in reads of at most 64 KiB. Listings,
 * stats and deletes are not limited. The bucket holds a tenth of a second's bytes (at least
 * 64 KiB), the burst after an idle spell.
 *
 * <p>Listings, stats, deletes, {@code cleanupIncompleteUploads} and the rest pass through
 * unchanged ({@link ForwardingBlobStore}). Thread-safe if the delegate is. {@link #close()}
 * closes the delegate.
 */
public final class RateLimitedBlobStore extends ForwardingBlobStore {

    private static final int STREAM_SLICE = 64 << 10;

    private final Optional<ByteRateLimiter> upload;
    private final Optional<ByteRateLimiter> download;

    RateLimitedBlobStore(BlobStore delegate, Optional<ByteRateLimiter> upload, Optional<ByteRateLimiter> download) {
        super(delegate);
        this.upload = upload;
        this.download = download;
    }

    /**
     * Wraps {@code delegate} with the given limits in bytes per second (empty: unlimited).
     *
     * @throws IllegalArgumentException if a limit is zero or negative
     */
    public static RateLimitedBlobStore wrap(BlobStore delegate, OptionalLong uploadBytesPerSecond,
            OptionalLong downloadBytesPerSecond) {
        return wrap(delegate, uploadBytesPerSecond, downloadBytesPerSecond, System::nanoTime,
                nanos -> java.util.concurrent.TimeUnit.NANOSECONDS.sleep(nanos));
    }

    static RateLimitedBlobStore wrap(BlobStore delegate, OptionalLong up, OptionalLong down, LongSupplier ticker,
            ByteRateLimiter.Sleeper sleeper) {
        return new RateLimitedBlobStore(delegate, limiter("upload", up, ticker, sleeper),
                limiter("download", down, ticker, sleeper));
    }

    private static Optional<ByteRateLimiter> limiter(String what, OptionalLong limit, LongSupplier ticker,
            ByteRateLimiter.Sleeper sleeper) {
        if (limit.isEmpty()) {
            return Optional.empty();
        }
        long rate = limit.getAsLong();
        if (rate <= 0) {
            throw new IllegalArgumentException("the " + what + " limit must be a positive number of bytes per second, was "
                    + rate);
        }
        return Optional.of(new ByteRateLimiter(rate, Math.max(64 << 10, rate / 10), ticker, sleeper));
    }

    /** The upload limit in bytes per second, if any. */
    public OptionalLong uploadLimit() {
        return upload.map(l -> OptionalLong.of(l.bytesPerSecond())).orElse(OptionalLong.empty());
    }

    /** The download limit in bytes per second, if any. */
    public OptionalLong downloadLimit() {
        return download.map(l -> OptionalLong.of(l.bytesPerSecond())).orElse(OptionalLong.empty());
    }

    @Override
    public void put(BlobKey key, Path source) throws IOException {
        take(upload, Files.size(source));
        delegate().put(key, source);
    }

    @Override
    public void put(BlobKey key, byte[] data) throws IOException {
        take(upload, data.length);
        delegate().put(key, data);
    }

    @Override
    public void put(BlobKey key, byte[] data, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, data.length);
        take(upload, length);
        delegate().put(key, data, offset, length);
    }

    @Override
    public void put(BlobKey key, InputStream data, long length) throws IOException {
        delegate().put(key, upload.isPresent() ? new Paced(data, upload.get()) : data, length);
    }

    @Override
    public void putIfAbsent(BlobKey key, byte[] data) throws IOException {
        take(upload, data.length);
        delegate().putIfAbsent(key, data);
    }

    @Override
    public InputStream get(BlobKey key) throws IOException {
        InputStream in = delegate().get(key);
        return download.isPresent() ? new Paced(in, download.get()) : in;
    }

    @Override
    public byte[] getBytes(BlobKey key) throws IOException {
        byte[] bytes = delegate().getBytes(key); // the size is known only afterwards: paid for after
        take(download, bytes.length);
        return bytes;
    }

    @Override
    public InputStream get(BlobKey key, long offset, long length) throws IOException {
        InputStream in = delegate().get(key, offset, length);
        return download.isPresent() ? new Paced(in, download.get()) : in;
    }

    @Override
    public void read(BlobKey key, long offset, ByteBuffer dst) throws IOException {
        take(download, dst.remaining());
        delegate().read(key, offset, dst);
    }

    @Override
    public void readVerified(BlobKey key, long offset, ByteBuffer dst, Predicate<ByteBuffer> authentic) throws IOException {
        take(download, dst.remaining());
        delegate().readVerified(key, offset, dst, authentic);
    }

    @Override
    public byte[] getBytesVerified(BlobKey key, long maxBytes, Predicate<byte[]> authentic) throws IOException {
        byte[] bytes = delegate().getBytesVerified(key, maxBytes, authentic); // as getBytes: paid for after
        take(download, bytes.length);
        return bytes;
    }

    @Override
    public String toString() {
        return "rateLimited(" + delegate() + ")";
    }

    private static void take(Optional<ByteRateLimiter> limiter, long bytes) throws IOException {
        if (limiter.isPresent()) {
            limiter.get().acquire(bytes);
        }
    }

    /** Paces a stream: each read waits for the bytes it is about to return. */
    private static final class Paced extends FilterInputStream {
        private final ByteRateLimiter limiter;

        Paced(InputStream in, ByteRateLimiter limiter) {
            super(in);
            this.limiter = limiter;
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                limiter.acquire(1);
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, Math.min(len, STREAM_SLICE));
            if (n > 0) {
                limiter.acquire(n);
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            return in.skip(n);
        }
    }
}
