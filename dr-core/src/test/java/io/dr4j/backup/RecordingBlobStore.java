package io.dr4j.backup;

import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStore;
import io.dr4j.storage.ForwardingBlobStore;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** Passes every call to a delegate and records the reads: ranged (key, offset, length) and whole; for tests of what an operation reads. */
final class RecordingBlobStore extends ForwardingBlobStore {

    record Read(BlobKey key, long offset, long length) {
    }

    private final List<Read> reads = new ArrayList<>();
    private final List<BlobKey> whole = new ArrayList<>();

    RecordingBlobStore(BlobStore delegate) {
        super(delegate);
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

    private synchronized void recordWhole(BlobKey key) {
        whole.add(key);
    }

    private synchronized void recordRange(BlobKey key, long offset, long length) {
        reads.add(new Read(key, offset, length));
    }

    @Override
    public InputStream get(BlobKey key) throws IOException {
        recordWhole(key);
        return delegate().get(key);
    }

    @Override
    public byte[] getBytes(BlobKey key) throws IOException {
        recordWhole(key);
        return delegate().getBytes(key);
    }

    @Override
    public byte[] getBytesVerified(BlobKey key, long maxBytes, Predicate<byte[]> authentic) throws IOException {
        recordWhole(key);
        return delegate().getBytesVerified(key, maxBytes, authentic);
    }

    @Override
    public InputStream get(BlobKey key, long offset, long length) throws IOException {
        recordRange(key, offset, length);
        return delegate().get(key, offset, length);
    }

    @Override
    public void read(BlobKey key, long offset, ByteBuffer dst) throws IOException {
        recordRange(key, offset, dst.remaining());
        delegate().read(key, offset, dst);
    }

    @Override
    public void readVerified(BlobKey key, long offset, ByteBuffer dst, Predicate<ByteBuffer> authentic) throws IOException {
        recordRange(key, offset, dst.remaining());
        delegate().readVerified(key, offset, dst, authentic);
    }
}
