/**
 * The backup engine's machinery behind {@link io.dr4j.backup.Repository}: chunking (FastCDC),
 * sealing, packs, the chunk index, manifests, locks, and the backup, restore, verify and prune
 * runs.
 *
 * <p><b>Internal, not API: may change or disappear in any release without notice.</b> The types
 * are public only because {@code io.dr4j.backup} and the benchmarks in dr-bench call them across
 * a package boundary; applications use {@link io.dr4j.backup.Repository} and the types beside
 * it. On the module path this package is not exported (see dr-core's {@code module-info.java}
 * where present, and docs/layout.md).
 */
package io.dr4j.backup.internal;
