package io.dr4j.backup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One file a {@link RestoreRun} writes: its channel, opened once, written at chunk offsets in any
 * order from several threads, closed (and forced, for a power-loss-durable restore) after its
 * last chunk, when its size is checked against the manifest.
 */
final class RestoredFile {

    /** One place a chunk goes: a file and an offset. */
    record Use(RestoredFile out, long offset, int length) {
    }

    final Manifest.Entry entry;
    final Path path;
    private final AtomicInteger remaining;
    private final boolean durable;
    private final ProgressListener progress;
    private FileChannel channel;

    RestoredFile(Manifest.Entry entry, Path path, boolean durable, ProgressListener progress) {
        this.entry = entry;
        this.path = path;
        this.remaining = new AtomicInteger(entry.chunks().size());
        this.durable = durable;
        this.progress = progress;
    }

    /** The file's path in the snapshot, for messages. */
    String snapshotPath() {
        return entry.entry().path();
    }

    /** Writes {@code plain[0, length)} at {@code position}. */
    void write(byte[] plain, int length, long position) throws IOException {
        FileChannel ch = channel();
        // slices keep the JDK's per-thread temporary direct buffer small
        for (int done = 0; done < length; ) {
            ByteBuffer slice = ByteBuffer.wrap(plain, done, Math.min(1 << 20, length - done));
            while (slice.hasRemaining()) {
                int n = ch.write(slice, position + done);
                done += n;
            }
        }
    }

    synchronized FileChannel channel() throws IOException {
        if (channel == null) {
            channel = FileChannel.open(path, StandardOpenOption.WRITE);
        }
        return channel;
    }

    void chunkWritten() throws IOException {
        if (remaining.decrementAndGet() == 0) {
            finish();
        }
    }

    synchronized void finish() throws IOException {
        if (channel != null) {
            if (channel.size() != entry.entry().size()) {
                throw new CorruptObjectException("restored " + entry.entry().path() + " has " + channel.size()
                        + " bytes, snapshot says " + entry.entry().size());
            }
            if (durable) {
                channel.force(false);
            }
            channel.close();
            channel = null;
        }
        progress.onFileDone(Path.of(entry.entry().path()), entry.entry().size());
    }

    synchronized void closeQuietly() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // cleanup after failure
            }
            channel = null;
        }
    }
}
