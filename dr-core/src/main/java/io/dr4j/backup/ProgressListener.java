package io.dr4j.backup;

import java.nio.file.Path;

/**
 * Receives progress of a backup or restore. Called from worker threads, possibly concurrently:
 * implementations must be thread-safe and quick (hand the figures to a UI thread, do not block).
 * All methods default to doing nothing.
 */
public interface ProgressListener {

    /** A listener that ignores everything. */
    ProgressListener NONE = new ProgressListener() {
    };

    /**
     * Called as chunks complete.
     *
     * @param bytesDone bytes processed so far (read and stored for a backup, written for a restore)
     * @param bytesTotal bytes the operation will process in all
     */
    default void onProgress(long bytesDone, long bytesTotal) {
    }

    /** Called when a file has been completely processed; {@code path} is relative to the source or target. */
    default void onFileDone(Path path, long size) {
    }
}
