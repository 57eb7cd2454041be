package io.dr4j.backup;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

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
 * @param byDtype the bytes read and stored per dtype of the chunks, keyed {@code BF16}, {@code F16},
 *     {@code F32} (chunks mostly of that dtype in a safetensors file) and {@code other} (everything
 *     else); only dtypes that were read appear; empty for snapshots written before these figures existed
 */
public record SnapshotStats(long files, long directories, long totalBytes, long bytesRead, long newBytesStored,
        long newChunks, long reusedChunks, long unchangedFiles, Duration duration, Map<String, DtypeStats> byDtype) {

    /**
     * What one dtype's chunks cost.
     *
     * @param bytesRead plain bytes of chunks of this dtype read from the source
     * @param bytesStored sealed bytes written for the new ones among them (chunks already stored cost nothing)
     */
    public record DtypeStats(long bytesRead, long bytesStored) {

        /** Stored per read byte: what this backup added per byte it read, 0 if nothing was read. */
        public double ratio() {
            return bytesRead == 0 ? 0 : (double) bytesStored / bytesRead;
        }
    }

    public SnapshotStats {
        Objects.requireNonNull(duration, "duration");
        byDtype = java.util.Collections.unmodifiableMap(new TreeMap<>(byDtype));
    }

    /** Figures without a per-dtype breakdown. */
    public SnapshotStats(long files, long directories, long totalBytes, long bytesRead, long newBytesStored,
            long newChunks, long reusedChunks, long unchangedFiles, Duration duration) {
        this(files, directories, totalBytes, bytesRead, newBytesStored, newChunks, reusedChunks, unchangedFiles, duration,
                Map.of());
    }
}
