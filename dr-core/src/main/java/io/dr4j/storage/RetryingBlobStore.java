package io.dr4j.storage;

import dev.failsafe.Failsafe;
import dev.failsafe.FailsafeException;
import dev.failsafe.FailsafeExecutor;
import dev.failsafe.RetryPolicy;
import dev.failsafe.function.CheckedSupplier;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * A {@link BlobStore} decorator that retries {@link TransientBlobStoreException transient}
 * failures with exponential backoff and jitter: the one place in dr4j where storage retries
 * live (a Failsafe {@link RetryPolicy}). Permanent failures, "not found" and "already exists"
 * pass through at once.
 *
 * <p>Puts from a file or byte array are retried as a whole (they are idempotent: the store's
 * atomic put means a retried put never leaves a mix). A put from a stream is not retried, since
 * the stream is consumed. A listing is retried only while opening it; a failure while paging
 * surfaces to the caller. Reads are retried while opening the stream.
 *
 * <p>Names, capabilities and {@code close} pass through ({@link ForwardingBlobStore}); every
 * call that reaches the store is retried. Thread-safe if the delegate is. {@link #close()}
 * closes the delegate.
 */
public final class RetryingBlobStore extends ForwardingBlobStore {

    private final FailsafeExecutor<Object> executor;
    private final int maxAttempts;

    private RetryingBlobStore(BlobStore delegate, int maxAttempts, Duration initialDelay, Duration maxDelay) {
        super(delegate);
        this.maxAttempts = maxAttempts;
        RetryPolicy<Object> policy = RetryPolicy.builder()
                .handleIf(BlobStoreException::isTransient)
                .withMaxAttempts(maxAttempts)
                .withBackoff(initialDelay, maxDelay.compareTo(initialDelay) < 0 ? initialDelay : maxDelay)
                .withJitter(0.25)
                .build();
        this.executor = Failsafe.with(policy);
    }

    /** Wraps {@code delegate} with the default policy: 5 attempts, backoff 100 ms doubling to 5 s. */
    public static RetryingBlobStore wrap(BlobStore delegate) {
        return builder(delegate).build();
    }

    /** Returns a builder for a retrying decorator of {@code delegate}. */
    public static Builder builder(BlobStore delegate) {
        return new Builder(delegate);
    }

    /** Builds a {@link RetryingBlobStore}. Not thread-safe. */
    public static final class Builder {
        private final BlobStore delegate;
        private int maxAttempts = 5;
        private Duration initialDelay = Duration.ofMillis(100);
        private Duration maxDelay = Duration.ofSeconds(5);

        private Builder(BlobStore delegate) {
            this.delegate = Objects.requireNonNull(delegate, "delegate");
        }

        /** Total attempts including the first (default 5, at least 1). */
        public Builder maxAttempts(int maxAttempts) {
            if (maxAttempts < 1) {
                throw new IllegalArgumentException("maxAttempts must be at least 1, was " + maxAttempts);
            }
            this.maxAttempts = maxAttempts;
            return this;
        }

        /** Backoff before the first retry, doubling up to {@code maxDelay} (defaults 100 ms and 5 s). */
        public Builder backoff(Duration initialDelay, Duration maxDelay) {
            if (initialDelay.isNegative() || initialDelay.isZero() || maxDelay.compareTo(initialDelay) < 0) {
                throw new IllegalArgumentException("backoff needs 0 < initialDelay <= maxDelay, was "
                        + initialDelay + " and " + maxDelay);
            }
            this.initialDelay = initialDelay;
            this.maxDelay = maxDelay;
            return this;
        }

        public RetryingBlobStore build() {
            return new RetryingBlobStore(delegate, maxAttempts, initialDelay, maxDelay);
        }
    }

    /** Total attempts per operation, including the first. */
    public int maxAttempts() {
        return maxAttempts;
    }

    @Override
    public void put(BlobKey key, Path source) throws IOException {
        run(() -> {
            delegate().put(key, source);
            return null;
        });
    }

    @Override
    public void put(BlobKey key, byte[] data, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, data.length);
        run(() -> {
            delegate().put(key, data, offset, length);
            return null;
        });
    }

    @Override
    public void put(BlobKey key, byte[] data) throws IOException {
        run(() -> {
            delegate().put(key, data);
            return null;
        });
    }

    @Override
    public void put(BlobKey key, InputStream data, long length) throws IOException {
        delegate().put(key, data, length);
    }

    @Override
    public void putIfAbsent(BlobKey key, byte[] data) throws IOException {
        // Not retried blindly: a first attempt that landed but reported a transient error would
        // make the retry see "already exists". The caller decides.
        delegate().putIfAbsent(key, data);
    }

    @Override
    public InputStream get(BlobKey key) throws IOException {
        return run(() -> delegate().get(key));
    }

    @Override
    public InputStream get(BlobKey key, long offset, long length) throws IOException {
        return run(() -> delegate().get(key, offset, length));
    }

    @Override
    public byte[] getBytes(BlobKey key) throws IOException {
        return run(() -> delegate().getBytes(key));
    }

    @Override
    public void read(BlobKey key, long offset, ByteBuffer dst) throws IOException {
        int start = dst.position();
        run(() -> {
            dst.position(start);
            delegate().read(key, offset, dst);
            return null;
        });
    }

    /** Retries transient failures; a copy the check rejects is permanent and is not read again here. */
    @Override
    public void readVerified(BlobKey key, long offset, ByteBuffer dst, Predicate<ByteBuffer> authentic) throws IOException {
        int start = dst.position();
        run(() -> {
            dst.position(start);
            delegate().readVerified(key, offset, dst, authentic);
            return null;
        });
    }

    /** Retries transient failures; an object whose copies are all rejected is permanent and is not read again here. */
    @Override
    public byte[] getBytesVerified(BlobKey key, long maxBytes, Predicate<byte[]> authentic) throws IOException {
        return run(() -> delegate().getBytesVerified(key, maxBytes, authentic));
    }

    @Override
    public BlobInfo stat(BlobKey key) throws IOException {
        return run(() -> delegate().stat(key));
    }

    @Override
    public Optional<BlobInfo> find(BlobKey key) throws IOException {
        return run(() -> delegate().find(key));
    }

    @Override
    public Stream<BlobInfo> list(String prefix) throws IOException {
        return run(() -> delegate().list(prefix));
    }

    @Override
    public void delete(BlobKey key) throws IOException {
        run(() -> {
            delegate().delete(key);
            return null;
        });
    }

    @Override
    public int cleanupIncompleteUploads(Duration olderThan) throws IOException {
        return run(() -> delegate().cleanupIncompleteUploads(olderThan));
    }

    @Override
    public String toString() {
        return "retrying(" + delegate() + ")";
    }

    private <T> T run(CheckedSupplier<T> call) throws IOException {
        try {
            return executor.get(call::get);
        } catch (FailsafeException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException) {
                throw (IOException) cause;
            }
            if (cause instanceof InterruptedException) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException(delegate().name() + ": interrupted while retrying");
            }
            throw e;
        }
    }
}
