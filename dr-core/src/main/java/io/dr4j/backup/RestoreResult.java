package io.dr4j.backup;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Figures of one restore.
 *
 * @param snapshot the snapshot restored
 * @param target where it now is
 * @param files files written
 * @param bytes bytes of those files
 * @param bytesDownloaded plaintext bytes of chunks fetched from the store
 * @param bytesReused plaintext bytes of chunks taken from the existing target (delta restore)
 * @param duration wall time
 * @param storeReads ranged reads of pack objects (each pack needed is read once, in as few ranges as cover its blobs)
 */
public record RestoreResult(SnapshotId snapshot, Path target, long files, long bytes, long bytesDownloaded,
        long bytesReused, Duration duration, long storeReads) {
}
