package io.dr4j.backup;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What a {@link Repository#copyTo} call did. Immutable.
 *
 * @param copied snapshots written into the destination (same ids as in the source)
 * @param skipped selected snapshots the destination already held
 * @param chunksCopied chunks read from the source and stored in the destination
 * @param chunksPresent chunks read from the source that the destination already held (from its own backups)
 * @param chunksSkipped chunk references an earlier copy had already stored (not read again)
 * @param bytesRead sealed bytes read from the source's packs
 * @param bytesWritten bytes stored in the destination (packs, index files), manifests excluded
 * @param storeReads ranged reads of source packs
 * @param objectsWritten objects stored in the destination (packs, index files, copy maps, manifests)
 * @param duration wall time
 */
public record CopyResult(List<SnapshotId> copied, List<SnapshotId> skipped, long chunksCopied, long chunksPresent,
        long chunksSkipped, long bytesRead, long bytesWritten, long storeReads, long objectsWritten, Duration duration) {

    public CopyResult {
        copied = List.copyOf(copied);
        skipped = List.copyOf(skipped);
        Objects.requireNonNull(duration, "duration");
    }
}
