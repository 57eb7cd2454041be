package io.dr4j.backup;

import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStore;
import io.dr4j.storage.Capability;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/** Passes every call to a delegate and records the ranged reads (key, offset, length); for tests of what an operation reads. */
final class RecordingBlobStore implements BlobStore {

    record Read(BlobKey key, long offset, long length) {
    }

    private final BlobStore delegate;
    private final List<Read> reads = new ArrayList<>();
    private final List<BlobKey> whole = new ArrayList<>();

    RecordingBlobStore(BlobStore delegate) {
        this.delegate = delegate;
    }

    synchronized List<Read> rangedReads() {
        return List.copyOf(reads);
    }

    synchronized List<BlobKey> wholeReads() {
        return List.copyOf(whole);
    }

    synchronized void clear() {
        reads.clear();
        whole.clear();
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
        delegate.put(key, source);
    }

    @Override
    public void put(BlobKey key, InputStream data, long length) throws IOException {
        delegate.put(key, data, length);
    }

    @Override
    public void put(BlobKey key, byte[] data, int offset, int length) throws IOException {
        delegate.put(key, data, offset, length);
    }

    @Override
    public void putIfAbsent(BlobKey key, byte[] data) throws IOException {
        delegate.putIfAbsent(key, data);
    }

    @Override
    public InputStream get(BlobKey key) throws IOException {
        synchronized (this) {
            whole.add(key);
        }
        return delegate.get(key);
    }

    @Override
    public InputStream get(BlobKey key, long offset, long length) throws IOException {
        synchronized (this) {
            reads.add(new Read(key, offset, length));
        }
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
