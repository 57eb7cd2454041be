/**
 * The backup engine's machinery behind {@link io.dr4j.backup.Repository}: chunking (FastCDC),
 * sealing, packs, the chunk index, manifests, locks, and the backup, restore, verify, copy and
 * prune runs.
 *
 * <p><b>Internal, not API: may change or disappear in any release without notice.</b>
 * Applications use {@link io.dr4j.backup.Repository} and the types beside it.
 *
 * <p><b>Why some types here are public.</b> Java has no visibility between "package" and
 * "everyone" without modules, so a type is public here only because code in another package
 * calls it: {@code io.dr4j.backup} (the runs {@code BackupRun}, {@code RestoreRun},
 * {@code Verifier}, {@code Pruner}, {@code Copier}, {@code FileDump}, and what they take:
 * {@code Context}, {@code Crypto}, {@code Manifest}, {@code ChunkId}, {@code RepositoryConfig},
 * {@code RepositoryLock}, {@code RollbackGuard}, {@code SnapshotCatalog}, {@code Ceilings},
 * {@code ExcludeMatcher}) and dr-bench's benchmarks of the hot path ({@code FastCdc},
 * {@code FileChunker}, {@code ChunkIndex}, {@code SafetensorsHeader}, {@code TensorCodec}).
 * Everything else (packs, index files, buffer pools, pipeline, the restore's and the sealing's
 * parts) is package-private. dr-core ships no {@code module-info} (a dependency,
 * concurrency-limits-core 0.5.4, has no module name; docs/layout.md says more), so on the module
 * path too the public types here are readable; nothing outside dr4j may rely on them.
 */
package io.dr4j.backup.internal;
