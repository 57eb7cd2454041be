package io.dr4j.backup;

import java.util.List;
import java.util.Objects;

/**
 * Space figures of a set of snapshots, from {@link Repository#stats()} (every snapshot) or
 * {@link Repository#stats(List)} (chosen ones), computed from their manifests and the index
 * alone: no pack is read. Immutable.
 *
 * <p>"Distinct chunks" means each chunk once, however many files and snapshots of the set
 * reference it; it is what deduplication stores. Three ratios follow from the figures:
 * {@link #dedupRatio()} = {@code rawBytes / plainBytes}, {@link #compressionRatio()} =
 * {@code plainBytes / storedBytes} and {@link #totalRatio()} = {@code rawBytes / storedBytes}
 * (their product), each 0 when its denominator is 0. A ratio above 1 is a saving: two snapshots of
 * the same data have a dedup ratio of 2 (plus whatever repeats inside one snapshot); random data
 * has a compression ratio just below 1 (each sealed blob carries a few dozen bytes of nonce, tag
 * and framing).
 *
 * @param snapshots the snapshots counted, oldest first
 * @param files regular files, summed over the snapshots (a file in two snapshots counts twice)
 * @param rawBytes bytes of those files summed over the snapshots: what restoring each of them would write
 * @param chunks distinct chunks the snapshots reference that the index places in a pack the store holds
 * @param plainBytes plaintext bytes of those distinct chunks: the data after deduplication, before compression
 * @param storedBytes sealed bytes of those chunks' blobs (compressed, encrypted, with each blob's overhead): what
 *     the snapshots occupy in the store, a chunk shared by several of them counted once; pack headers and other
 *     chunks in the same packs are excluded
 * @param packs distinct packs holding at least one of those chunks (a reader of the set touches these)
 * @param packBytes object sizes of those packs, summed; includes their headers and any other chunks they hold,
 *     so it is at least {@code storedBytes}
 * @param missingChunks distinct chunks the snapshots reference that the index does not place in a pack the store
 *     holds; excluded from every other figure but {@code rawBytes} and {@code files} (run verify: such snapshots
 *     cannot be restored)
 * @param repository figures of the whole store, whatever snapshots were chosen
 */
public record RepositoryStats(List<SnapshotId> snapshots, long files, long rawBytes, long chunks, long plainBytes,
        long storedBytes, long packs, long packBytes, long missingChunks, Store repository) {

    public RepositoryStats {
        snapshots = List.copyOf(snapshots);
        Objects.requireNonNull(repository, "repository");
    }

    /**
     * What the store holds, referenced or not, from the index and the listing of pack objects.
     *
     * @param snapshots snapshots in the repository
     * @param chunks distinct chunks the index places in packs the store holds
     * @param plainBytes plaintext bytes of those chunks
     * @param storedBytes sealed bytes of their blobs
     * @param packs pack objects in the store (including packs no index names yet: a running or dead backup's)
     * @param packBytes object sizes of those packs, summed: the repository's data on the store, headers and
     *     duplicate or unreferenced blobs included
     * @param indexFiles index files read
     */
    public record Store(long snapshots, long chunks, long plainBytes, long storedBytes, long packs, long packBytes,
            long indexFiles) {
    }

    /** {@code rawBytes / plainBytes}: logical bytes per distinct byte; 0 if no chunk was found. */
    public double dedupRatio() {
        return ratio(rawBytes, plainBytes);
    }

    /** {@code plainBytes / storedBytes}: distinct bytes per stored byte; 0 if no chunk was found. */
    public double compressionRatio() {
        return ratio(plainBytes, storedBytes);
    }

    /** {@code rawBytes / storedBytes}: logical bytes per stored byte, deduplication and compression together. */
    public double totalRatio() {
        return ratio(rawBytes, storedBytes);
    }

    private static double ratio(long a, long b) {
        return b == 0 ? 0 : (double) a / b;
    }
}
