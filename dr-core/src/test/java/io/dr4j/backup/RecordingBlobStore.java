package io.dr4j.backup;

import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStore;
import io.dr4j.storage.ForwardingBlobStore;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Passes every call to a delegate and records the reads: ranged (key, offset, length) and whole;
 * for tests of what an operation reads. For the positional reads ({@code read},
 * {@code readVerified}: what restore, verify and copy use) it also keeps the peak number and
 * bytes of reads outstanding at once, and can hold each one back until others join it, so that a
 * test of an in-flight bound sees as much concurrency as the caller allows.
 */
final class RecordingBlobStore extends ForwardingBlobStore {

    record Read(BlobKey key, long offset, long length) {
    }

    private final List<Read> reads = new ArrayList<>();
    private final List<BlobKey> whole = new ArrayList<>();
    private int outstanding;
    private long outstandingBytes;
    private int peakOutstanding;
    private long peakOutstandingBytes;
    private int holdUntil;
    private long holdNanos;

    RecordingBlobStore(BlobStore delegate) {
        super(delegate);
    }

    synchronized List<Read> rangedReads() {
        return List.copyOf(reads);
    }

    synchronized List<BlobKey> wholeReads() {
        return List.copyOf(whole);
    }

    /** The most positional reads that were in progress at once since the last {@link #clear}. */
    synchronized int peakOutstanding() {
        return peakOutstanding;
    }

    /** The most bytes that positional reads in progress at once asked for since the last {@link #clear}. */
    synchronized long peakOutstandingBytes() {
        return peakOutstandingBytes;
    }

    /**
     * From now on, each positional read waits (before reading) until {@code concurrent} reads are
     * in progress or {@code atMost} has passed: a caller that lets more reads out than it should is
     * then caught doing so, instead of being saved by a fast store.
     */
    synchronized void holdPositionalReads(int concurrent, Duration atMost) {
        holdUntil = concurrent;
        holdNanos = atMost.toNanos();
    }

    synchronized void clear() {
        reads.clear();
        whole.clear();
        peakOutstanding = 0;
        peakOutstandingBytes = 0;
    }

    private synchronized void recordWhole(BlobKey key) {
        whole.add(key);
    }

    private synchronized void recordRange(BlobKey key, long offset, long length) {
        reads.add(new Read(key, offset, length));
    }

    private synchronized void begin(long bytes) throws IOException {
        outstanding++;
        outstandingBytes += bytes;
        peakOutstanding = Math.max(peakOutstanding, outstanding);
        peakOutstandingBytes = Math.max(peakOutstandingBytes, outstandingBytes);
        notifyAll();
        long deadline = System.nanoTime() + holdNanos;
        try {
            for (long left = holdNanos; outstanding < holdUntil && left > 0; left = deadline - System.nanoTime()) {
                wait(Math.max(1, left / 1_000_000));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            end(bytes);
            throw new java.io.InterruptedIOException("held read interrupted");
        }
    }

    private synchronized void end(long bytes) {
        outstanding--;
        outstandingBytes -= bytes;
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
        long bytes = dst.remaining();
        recordRange(key, offset, bytes);
        begin(bytes);
        try {
            delegate().read(key, offset, dst);
        } finally {
            end(bytes);
        }
    }

    @Override
    public void readVerified(BlobKey key, long offset, ByteBuffer dst, Predicate<ByteBuffer> authentic) throws IOException {
        long bytes = dst.remaining();
        recordRange(key, offset, bytes);
        begin(bytes);
        try {
            delegate().readVerified(key, offset, dst, authentic);
        } finally {
            end(bytes);
        }
    }
}
