/**
 * Backup and restore of model checkpoints: {@link io.dr4j.backup.Repository} and the types beside
 * it (options, results, snapshots, key providers, exceptions). Format v2 is specified in
 * {@code FORMAT.md}; the guide is {@code docs/guide.md}.
 *
 * <p><b>Only the public types are API.</b> The engine behind {@code Repository} lives in this
 * package too, and every part of it is package-private, so a user listing the package sees only
 * what they may use:
 * <ul>
 *   <li>the facade's parts: {@code RepositoryOpener}, {@code KeyRing}, {@code KeySlots},
 *       {@code ManifestStore}, {@code LockHandle}, {@code RepositoryCopy}, {@code ManifestDiff},
 *       {@code ForgetRun}, {@code RepositoryStatsQuery}, {@code RepositoryMetrics};</li>
 *   <li>the runs: {@code BackupRun} (with {@code SourceScan}, {@code FileChunker},
 *       {@code FastCdc}, {@code TensorCodec}, {@code SafetensorsHeader}), {@code RestoreRun}
 *       (with {@code RestoreChecks}, {@code DeltaRestore}, {@code PackFetch},
 *       {@code RestoredFile}, {@code RestoreStaging}), {@code Verifier}, {@code Pruner},
 *       {@code Copier} (with {@code CopyMap}), {@code FileDump}, {@code StatsRun};</li>
 *   <li>the format: {@code Crypto} (with {@code SealedObject}, {@code Compression},
 *       {@code CryptoScratch}, {@code GcmProvider}), {@code ChunkId}, {@code PackWriter},
 *       {@code PackFormat}, {@code PackHeaders}, {@code IndexFile}, {@code RepositoryIndex},
 *       {@code ChunkIndex}, {@code Manifest}, {@code RepositoryConfig};</li>
 *   <li>shared machinery: {@code Context} (one open repository's store, keys and executors),
 *       {@code Pipeline}, {@code BufferPool}, {@code RangePlanner}, {@code LocalCache},
 *       {@code SnapshotCatalog}, {@code RepositoryLock}, {@code RollbackGuard},
 *       {@code Ceilings}, {@code PathRules}, {@code ExcludeMatcher}.</li>
 * </ul>
 *
 * <p>They were {@code io.dr4j.backup.internal} until issue 13: Java has no visibility between
 * package-private and public without a {@code module-info} (not possible yet, see
 * {@code docs/layout.md}), so half of that package had to be public for this one to call it.
 * One package with one public surface replaces the convention "internal, do not use" with the
 * compiler's check, as Caffeine and Guava's collection internals do. dr-bench's benchmarks of
 * the hot path ({@code HotPathBenchmark}, {@code TensorCodecBenchmark}, ...) declare this
 * package in their own jar to reach those parts, as Netty's microbenchmarks do.
 */
package io.dr4j.backup;
