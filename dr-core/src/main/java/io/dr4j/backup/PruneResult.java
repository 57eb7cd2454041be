package io.dr4j.backup;

/**
 * What {@link Repository#prune} found and removed.
 *
 * @param snapshots live snapshots whose chunks were marked
 * @param referencedChunks distinct chunks they reference
 * @param deletedChunks unreferenced (or duplicate) chunk copies removed (or, in a dry run, that would be)
 * @param deletedBytes stored bytes freed: packs deleted minus packs written by repacking
 * @param youngUnreferencedChunks unreferenced chunks kept because their pack is younger than the grace period
 * @param dryRun whether nothing was actually deleted
 * @param packsDeleted pack objects deleted (wholly unreferenced, repacked, or left by a backup that died)
 * @param packsRepacked packs whose live chunks were copied into new packs because their unreferenced share exceeded
 *     {@link RepositoryOptions#repackThreshold()}
 * @param packsWritten new packs written by repacking
 */
public record PruneResult(long snapshots, long referencedChunks, long deletedChunks, long deletedBytes,
        long youngUnreferencedChunks, boolean dryRun, long packsDeleted, long packsRepacked, long packsWritten) {
}
