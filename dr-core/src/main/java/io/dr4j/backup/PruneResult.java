package io.dr4j.backup;

/**
 * What {@link Repository#prune} found and removed.
 *
 * @param snapshots live snapshots whose chunks were marked
 * @param referencedChunks distinct chunks they reference
 * @param deletedChunks unreferenced chunks deleted (or, in a dry run, that would be)
 * @param deletedBytes stored bytes of those chunks
 * @param youngUnreferencedChunks unreferenced chunks kept because they are younger than the grace period
 * @param dryRun whether nothing was actually deleted
 */
public record PruneResult(long snapshots, long referencedChunks, long deletedChunks, long deletedBytes,
        long youngUnreferencedChunks, boolean dryRun) {
}
