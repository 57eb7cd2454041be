package io.dr4j.backup;

import java.time.Duration;

/**
 * Figures of one backup run.
 *
 * @param files regular files in the snapshot
 * @param directories directories in the snapshot (including the root)
 * @param totalBytes bytes of all files in the snapshot
 * @param bytesRead bytes read from the source (files unchanged since the parent are not re-read)
 * @param newBytesStored bytes written to the store for new chunks (sealed, after compression)
 * @param newChunks chunks written
 * @param reusedChunks chunk references satisfied by chunks already in the repository
 * @param unchangedFiles files whose chunk list was taken from the parent without reading
 * @param duration wall time of the backup
 */
public record SnapshotStats(long files, long directories, long totalBytes, long bytesRead, long newBytesStored,
        long newChunks, long reusedChunks, long unchangedFiles, Duration duration) {
}
