package io.dr4j.storage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * A {@link BlobStore} that passes every call, the interface's default methods included, to a
 * delegate: the base of a decorator, which overrides only what it changes (as Guava's
 * {@code Forwarding*} types do for collections).
 *
 * <p>Forwarding the default methods is the point. A decorator written against the bare interface
 * inherits {@link #cleanupIncompleteUploads}'s "do nothing", so a prune through it never aborts
 * the S3 multipart uploads below it; it inherits {@link #read(BlobKey, long, ByteBuffer)}'s
 * stream copy instead of the backend's read into the caller's buffer, and
 * {@link #readVerified}'s and {@link #getBytesVerified}'s single read instead of a replicated
 * store's read around a damaged copy. Here each of them reaches the delegate.
 *
 * <p>The other side of that: a decorator that changes how bytes move (pacing, counting,
 * recording) must override each method that moves them: the four {@code put}s and
 * {@link #putIfAbsent}, both {@code get}s, {@link #getBytes}, {@link #read(BlobKey, long,
 * ByteBuffer) read}, {@link #readVerified} and {@link #getBytesVerified}.
 * {@code ForwardingBlobStoreTest} checks both halves for dr4j's own decorators.
 *
 * <p>Thread-safe if the delegate is and the subclass's own state is. {@link #close()} closes the
 * delegate.
 */
public abstract class ForwardingBlobStore implements BlobStore {

    private final BlobStore delegate;

    /** @param delegate the store every call goes to unless the subclass overrides it */
    protected ForwardingBlobStore(BlobStore delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    /** The wrapped store. */
    public BlobStore delegate() {
        return delegate;
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
    public boolean supportsConditionalPut() {
        return delegate.supportsConditionalPut();
    }

    @Override
    public void put(BlobKey key, Path source) throws IOException {
        delegate.put(key, source);
    }

    @Override
    public void put(BlobKey key, byte[] data) throws IOException {
        delegate.put(key, data);
    }

    @Override
    public void put(BlobKey key, byte[] data, int offset, int length) throws IOException {
        delegate.put(key, data, offset, length);
    }

    @Override
    public void put(BlobKey key, InputStream data, long length) throws IOException {
        delegate.put(key, data, length);
    }

    @Override
    public void putIfAbsent(BlobKey key, byte[] data) throws IOException {
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
    public byte[] getBytes(BlobKey key) throws IOException {
        return delegate.getBytes(key);
    }

    @Override
    public void read(BlobKey key, long offset, ByteBuffer dst) throws IOException {
        delegate.read(key, offset, dst);
    }

    @Override
    public void readVerified(BlobKey key, long offset, ByteBuffer dst, Predicate<ByteBuffer> authentic) throws IOException {
        delegate.readVerified(key, offset, dst, authentic);
    }

    @Override
    public byte[] getBytesVerified(BlobKey key, long maxBytes, Predicate<byte[]> authentic) throws IOException {
        return delegate.getBytesVerified(key, maxBytes, authentic);
    }

    @Override
    public BlobInfo stat(BlobKey key) throws IOException {
        return delegate.stat(key);
    }

    @Override
    public Optional<BlobInfo> find(BlobKey key) throws IOException {
        return delegate.find(key);
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
    public int cleanupIncompleteUploads(Duration olderThan) throws IOException {
        return delegate.cleanupIncompleteUploads(olderThan);
    }

    @Override
    public void close() throws IOException {
        delegate.close();
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "(" + delegate + ")";
    }
}
