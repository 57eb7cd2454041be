/**
 * The backup engine's machinery behind {@link io.dr4j.backup.Repository}: chunking (FastCDC),
 * sealing, packs, the chunk index, manifests, locks, and the backup, restore, verify and prune
 * runs.
 *
 * <p><b>Internal, not API: may change or disappear in any release without notice.</b> The types
 * are public only because {@code io.dr4j.backup} and the benchmarks in dr-bench call them across
 * a package boundary; applications use {@link io.dr4j.backup.Repository} and the types beside
 * it. dr-core ships no {@code module-info} yet (docs/layout.md says why), so on the module path
 * too this package is readable; nothing outside dr4j may rely on it.
 */
package io.dr4j.backup.internal;
