package io.dr4j.backup;

import io.dr4j.Dr4jException;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStore;
import io.dr4j.storage.transfer.NamedThreadFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A deduplicated, encrypted backup repository of model checkpoints in a {@link BlobStore}: the
 * heart of dr4j. A model server calls {@link #backup} after each checkpoint; an operator calls
 * {@link #restore} in the worst hour of the year.
 *
 * <pre>{@code
 * try (Repository repo = Repository.open(store, KeyProvider.password(pw))) {
 *     Snapshot s = repo.backup(Path.of("/ckpt/step-12000"),
 *             BackupOptions.builder().label("model", "llama-3-8b").label("step", "12000").build());
 *     repo.restore(s.id(), Path.of("/scratch/restore"), RestoreOptions.defaults());
 * }
 * }</pre>
 *
 * <h2>How it works</h2>
 * Files are cut into content-defined chunks (FastCDC, keyed); each chunk is named by a keyed
 * hash of its content, so a chunk already in the repository is never stored again; new chunks
 * are compressed where that helps and sealed with AES-256-GCM. A snapshot manifest listing every
 * file's chunks is written last, so a backup that dies leaves the repository valid. Restores
 * authenticate every chunk and are all-or-nothing. The on-store format is specified in
 * {@code FORMAT.md}.
 *
 * <h2>Concurrency</h2>
 * Thread-safe: several backups, restores and verifies may run at once, in this and in other
 * processes; backups and prune exclude each other through lock objects in the store. Work runs
 * on executors the repository owns ({@link RepositoryOptions#workers()} CPU threads and
 * {@link RepositoryOptions#ioConcurrency()} I/O threads), released by {@link #close()}. The
 * store is not closed by {@link #close()}: the caller owns it.
 *
 * <h2>Failures</h2>
 * Everything thrown is a {@link Dr4jException}: {@link WrongKeyException},
 * {@link UnsupportedFormatException}, {@link CorruptObjectException},
 * {@link RepositoryLockedException}, {@link SnapshotNotFoundException},
 * {@link UnsafePathException}, {@link RestoreTargetException},
 * {@link OperationCancelledException}, or a plain {@code Dr4jException} wrapping the store's
 * {@link IOException}. Transient store failures are retried ({@link RepositoryOptions#storeAttempts()}).
 *
 * <h2>Size</h2>
 * This file is the public facade and runs past 600 lines for that reason alone: some 260 of
 * them are the API's javadoc, and the bodies delegate to package-private parts
 * ({@code RepositoryOpener}, {@code ManifestStore}, {@code KeySlots}, {@code RepositoryCopy},
 * {@code RepositoryStatsQuery}, {@code RepositoryMetrics}) and to the engine's runs; see
 * {@code docs/layout.md}.
 */
public final class Repository implements AutoCloseable {

    private final BlobStore rawStore;
    private final Context ctx;
    private final SnapshotCatalog catalog;
    private final ManifestStore manifests;
    private final ScheduledExecutorService scheduler;
    private final RollbackGuard rollback;
    private volatile boolean closed;
    private final KeySlots keys;
    private final RepositoryMetrics metrics;

    private Repository(BlobStore rawStore, RepositoryOpener.Opened opened, RepositoryOptions options) {
        this.rawStore = rawStore;
        this.ctx = RepositoryOpener.context(rawStore, opened, options);
        this.catalog = new SnapshotCatalog(ctx);
        this.manifests = new ManifestStore(ctx, catalog, rawStore.name());
        this.scheduler = Executors.newSingleThreadScheduledExecutor(new NamedThreadFactory("dr4j-lock-refresh"));
        this.rollback = new RollbackGuard(options.cacheDirectory().map(d -> d.resolve(ctx.config().id())), rawStore.name());
        this.keys = new KeySlots(ctx, opened.unlocked(), rawStore.name());
        this.metrics = RepositoryMetrics.of(options.meterRegistry(), ctx.config().id(), rawStore.name());
    }

    /** Creates a repository with default format and run-time settings; see {@link #init(BlobStore, KeyProvider, InitOptions, RepositoryOptions)}. */
    public static Repository init(BlobStore store, KeyProvider key) {
        return init(store, key, InitOptions.defaults(), RepositoryOptions.defaults());
    }

    /**
     * Creates a new, empty repository in {@code store} and opens it.
     *
     * @throws Dr4jException if the store already holds a repository, or on a store failure
     */
    public static Repository init(BlobStore store, KeyProvider key, InitOptions init, RepositoryOptions options) {
        return new Repository(store, RepositoryOpener.create(store, key, init, options), options);
    }

    /** Opens a repository with default run-time settings. */
    public static Repository open(BlobStore store, KeyProvider key) {
        return open(store, key, RepositoryOptions.defaults());
    }

    /**
     * Opens the repository in {@code store}: reads its config, checks the format version and
     * unlocks the master key. Nothing else is read.
     *
     * @throws UnsupportedFormatException if there is no repository or its version is unknown
     * @throws WrongKeyException if {@code key} does not unlock it (or the config was tampered with)
     */
    public static Repository open(BlobStore store, KeyProvider key, RepositoryOptions options) {
        return new Repository(store, RepositoryOpener.open(store, key, options), options);
    }

    /** The repository's id (from its config). */
    public String id() {
        return ctx.config().id();
    }

    /** The store the repository lives in. */
    public BlobStore store() {
        return rawStore;
    }

    /** The chunk sizes fixed at creation. */
    public ChunkerParameters chunkerParameters() {
        return ctx.config().chunker();
    }

    /** The run-time settings. */
    public RepositoryOptions options() {
        return ctx.options();
    }

    // ---------------------------------------------------------------- backup

    /** Backs up {@code source} with default options; see {@link #backup(Path, BackupOptions)}. */
    public Snapshot backup(Path source) {
        return backup(source, BackupOptions.defaults());
    }

    /**
     * Backs up a checkpoint directory (recursively, following symbolic links) or a single file,
     * incrementally against a parent snapshot, and returns the new snapshot. The snapshot is
     * written only after every chunk it references is stored: if this fails, is cancelled or
     * the process dies, no snapshot appears and the repository stays valid.
     *
     * @throws RepositoryLockedException if a prune holds the repository
     * @throws OperationCancelledException if cancelled or interrupted
     * @throws IllegalArgumentException if {@link BackupOptions#excludes()} leave none of the source's files and
     *     {@link BackupOptions#allowEmpty()} is off (nothing is written)
     * @throws Dr4jException if the source cannot be read or the store fails
     */
    public Snapshot backup(Path source, BackupOptions options) {
        return metrics.backup(() -> runBackup(source, options));
    }

    private Snapshot runBackup(Path source, BackupOptions options) {
        checkOpen();
        Instant start = ctx.options().clock().instant();
        try (LockHandle lock = lock(RepositoryLock.Mode.SHARED, "backup of " + source)) {
            Optional<Manifest> parent = options.parent().isPresent()
                    ? Optional.of(load(options.parent().get()))
                    : newestManifest(SnapshotFilter.ALL.andHost(ctx.options().host())
                            .andSource(source.toAbsolutePath().normalize().toString()));
            BackupRun run = BackupRun.start(ctx, source, options, parent);
            SnapshotId id = new SnapshotId(HexFormat.of().formatHex(Crypto.randomBytes(16)));
            Manifest manifest = run.run(id, start);
            byte[] json = manifest.toJson();
            if (options.cancellation().isCancelled() || Thread.currentThread().isInterrupted()) {
                throw new OperationCancelledException("backup of " + source + " was cancelled before its snapshot was written");
            }
            ctx.store().put(snapshotKey(id), ctx.crypto().sealManifest(id.value(), json));
            catalog.remember(manifest);
            rollback.observe(List.of(manifest.snapshot()));
            return manifest.snapshot();
        } catch (IOException e) {
            throw new Dr4jException("backup of " + source + " to " + rawStore.name() + " failed: " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- snapshots

    /** All snapshots, oldest first. */
    public List<Snapshot> snapshots() {
        return snapshots(SnapshotFilter.ALL);
    }

    /**
     * The snapshots matching {@code filter}, oldest first.
     *
     * @throws CorruptObjectException if a manifest fails authentication
     */
    public List<Snapshot> snapshots(SnapshotFilter filter) {
        checkOpen();
        List<Snapshot> all = manifests.summaries();
        rollback.observe(all);
        return all.stream().filter(filter).toList();
    }

    /**
     * The newest snapshot matching {@code filter}, if any: the last in {@code (time, id)} order.
     * With a cache directory, this client remembers the newest snapshot it has seen of each
     * checkpoint set (host and source) and refuses to call an older one the latest.
     *
     * @throws RollbackDetectedException if the store's newest snapshot of a matching set is older than one seen before
     */
    public Optional<Snapshot> latest(SnapshotFilter filter) {
        checkOpen();
        List<Snapshot> all = manifests.summaries();
        rollback.check(all, filter);
        rollback.observe(all);
        List<Snapshot> matching = all.stream().filter(filter).toList();
        return matching.isEmpty() ? Optional.empty() : Optional.of(matching.get(matching.size() - 1));
    }

    /**
     * Accepts that snapshots were deleted from the store (by another client's forget, or a store
     * restored from an older copy): the newest snapshot now in the store becomes this client's
     * high-water mark of each checkpoint set, so {@link #latest} no longer reports a rollback.
     * A no-op without a cache directory.
     */
    public void acceptRollback() {
        checkOpen();
        rollback.reset(manifests.summaries());
    }

    /**
     * Loads one snapshot.
     *
     * @throws SnapshotNotFoundException if there is none with that id
     * @throws CorruptObjectException if its manifest fails authentication or decoding
     */
    public Snapshot snapshot(SnapshotId id) {
        checkOpen();
        return load(id).snapshot();
    }

    /**
     * Resolves a full id or a unique prefix of one (at least 4 hex digits).
     *
     * @throws SnapshotNotFoundException if none or several snapshots match
     */
    public SnapshotId resolve(String idOrPrefix) {
        checkOpen();
        return manifests.resolve(idOrPrefix);
    }

    // ---------------------------------------------------------------- restore

    /**
     * Restores a snapshot into {@code target}, all or nothing: the snapshot is assembled in a
     * staging directory beside the target and renamed into place only when every chunk has been
     * authenticated and every file written and forced to disk. Paths are checked before
     * anything is written. A failure, cancellation or kill leaves the target as it was.
     *
     * @throws SnapshotNotFoundException if there is no such snapshot
     * @throws UnsafePathException if the manifest names a path outside the target
     * @throws RestoreTargetException if the target is not empty (and replacing is off), not writable or too small
     * @throws CorruptObjectException if a chunk is missing or fails authentication
     * @throws OperationCancelledException if cancelled or interrupted
     */
    public RestoreResult restore(SnapshotId id, Path target, RestoreOptions options) {
        checkOpen();
        Objects.requireNonNull(target, "target");
        return metrics.restore(() -> new RestoreRun(ctx, load(id), target, options).run());
    }

    /**
     * Restores the newest snapshot matching {@code filter}.
     *
     * @throws SnapshotNotFoundException if none matches
     */
    public RestoreResult restoreLatest(SnapshotFilter filter, Path target, RestoreOptions options) {
        checkOpen();
        Manifest m = latestManifest(filter).orElseThrow(() -> new SnapshotNotFoundException(
                "no snapshot matching " + filter + " in " + rawStore.name()));
        return metrics.restore(() -> new RestoreRun(ctx, m, target, options).run());
    }

    /**
     * Completes or rolls back a restore into {@code target} that was killed while swapping the
     * new tree in (see {@link #restore}); a no-op when there is nothing to recover. Restores
     * call it themselves first.
     */
    public static void recoverRestore(Path target) {
        RestoreRun.recover(target);
    }

    // ---------------------------------------------------------------- single files

    /**
     * The entries of a snapshot at {@code path} and below it (the path itself, if it is a file or
     * a directory, and everything under it), in path order; {@code ""} or {@code "/"} lists the
     * whole snapshot. Only the manifest is read.
     *
     * @throws SnapshotNotFoundException if there is no such snapshot
     * @throws PathNotFoundException if nothing is at or under {@code path}
     */
    public List<SnapshotEntry> listFiles(SnapshotId id, String path) {
        checkOpen();
        Objects.requireNonNull(path, "path");
        return FileDump.list(load(id), path);
    }

    /**
     * Writes one file of a snapshot to {@code out} (not closed), without restoring the rest: its
     * chunks are fetched in ranged reads of their packs and each is authenticated before its bytes
     * are written. On a failure the stream holds a correct but incomplete prefix of the file and
     * this throws; use {@link #dump(SnapshotId, String, Path)} where a failure must leave nothing.
     *
     * @throws SnapshotNotFoundException if there is no such snapshot
     * @throws PathNotFoundException if the snapshot has no file at {@code path}
     * @throws IllegalArgumentException if {@code path} is a directory
     * @throws CorruptObjectException if a chunk is missing or fails authentication
     */
    public DumpResult dump(SnapshotId id, String path, java.io.OutputStream out) {
        checkOpen();
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(out, "out");
        return new FileDump(ctx).dump(load(id), path, out);
    }

    /**
     * As {@link #dump(SnapshotId, String, java.io.OutputStream)}, into the file {@code output}:
     * written to a temporary file beside it, forced to disk and renamed over {@code output} only
     * when every chunk has been authenticated; a failure leaves {@code output} as it was.
     */
    public DumpResult dump(SnapshotId id, String path, Path output) {
        checkOpen();
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(output, "output");
        return new FileDump(ctx).dumpTo(load(id), path, output);
    }

    // ---------------------------------------------------------------- verify and diff

    /**
     * Checks a snapshot: at {@link VerifyLevel#METADATA} that its manifest authenticates and every
     * chunk it needs exists; at {@link VerifyLevel#DATA} also that every chunk reads back,
     * authenticates and matches its id. Problems are reported, not thrown.
     *
     * @throws SnapshotNotFoundException if there is no such snapshot
     * @throws CorruptObjectException if the manifest itself fails authentication
     */
    public VerifyReport verify(SnapshotId id, VerifyLevel level) {
        return verify(id, level, new CancellationToken());
    }

    /**
     * As {@link #verify(SnapshotId, VerifyLevel)}, with a level, a {@link PackSubset} of the packs
     * to read at {@link VerifyLevel#DATA} (metadata is always checked in full) and cancellation.
     * The report says how many packs and stored bytes were read, of how many.
     */
    public VerifyReport verify(SnapshotId id, VerifyOptions options) {
        checkOpen();
        return metrics.verify(() -> new Verifier(ctx, options.cancellation()).verify(load(id), options.level(), options.subset()));
    }

    /** As {@link #verify(SnapshotId, VerifyLevel)}, cancellable. */
    public VerifyReport verify(SnapshotId id, VerifyLevel level, CancellationToken cancellation) {
        checkOpen();
        return metrics.verify(() -> new Verifier(ctx, cancellation).verify(load(id), level));
    }

    /**
     * Compares two snapshots by path and file hash.
     *
     * @throws SnapshotNotFoundException if either is missing
     */
    public SnapshotDiff diff(SnapshotId from, SnapshotId to) {
        checkOpen();
        return ManifestDiff.compare(from, to, load(from), load(to));
    }

    // ---------------------------------------------------------------- stats

    /**
     * Space figures of every snapshot together and of the store: raw size, distinct and stored
     * bytes, chunk and pack counts, dedup and compression ratios (defined in {@link RepositoryStats}).
     * Reads the index and each manifest once, one manifest at a time, and no pack: memory is the
     * loaded index plus a bit per indexed chunk. A snapshot forgotten while this runs is left out.
     *
     * @throws CorruptObjectException if a manifest fails authentication
     */
    public RepositoryStats stats() {
        checkOpen();
        return RepositoryStatsQuery.all(ctx, manifests);
    }

    /**
     * As {@link #stats()}, for the chosen snapshots only: what they reference, each distinct chunk
     * once, however many of them share it ({@link RepositoryStats}); the store's own figures are
     * included. A snapshot given twice counts once.
     *
     * @throws SnapshotNotFoundException if {@code snapshots} is empty or names a snapshot that does not exist
     * @throws CorruptObjectException if a manifest fails authentication
     */
    public RepositoryStats stats(List<SnapshotId> snapshots) {
        checkOpen();
        return RepositoryStatsQuery.chosen(ctx, manifests, rawStore.name(), snapshots);
    }

    // ---------------------------------------------------------------- retention

    /**
     * Applies a retention policy to the snapshots, group by group (same host and source), and
     * deletes the snapshots no rule keeps (only their manifests: {@link #prune} reclaims the
     * chunks). With {@code dryRun}, nothing is deleted and the result lists what would be.
     */
    public ForgetResult forget(RetentionPolicy policy, boolean dryRun) {
        checkOpen();
        Objects.requireNonNull(policy, "policy");
        return ForgetRun.run(ctx, rollback, snapshots(), policy, dryRun, rawStore.name());
    }

    /**
     * Deletes chunks that no snapshot references and that are older than the grace period
     * ({@link RepositoryOptions#pruneGracePeriod()}), under an exclusive lock: mark (read every
     * manifest), then sweep (list chunks). A backup that started before the prune holds a
     * shared lock, so the prune refuses to start; one that starts during it is refused. Stale
     * locks are removed. With {@code dryRun} nothing is deleted.
     *
     * @throws RepositoryLockedException if another process holds a lock
     */
    public PruneResult prune(boolean dryRun) {
        return metrics.prune(dryRun, () -> runPrune(dryRun));
    }

    private PruneResult runPrune(boolean dryRun) {
        checkOpen();
        try (LockHandle lock = lock(RepositoryLock.Mode.EXCLUSIVE, dryRun ? "prune (dry run)" : "prune")) {
            PruneResult result = new Pruner(ctx).run(manifests(), dryRun);
            if (!dryRun) {
                RepositoryLock.removeStale(ctx.store(), ctx.options().lockStaleAfter());
            }
            return result;
        } catch (IOException e) {
            throw new Dr4jException("prune of " + rawStore.name() + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * Removes lock objects left behind by killed backups and prunes: by default only stale ones
     * (not rewritten for {@link RepositoryOptions#lockStaleAfter()} by the store's own clock, so a
     * holder on a host with a skewed clock is judged correctly); with {@code all}, every lock,
     * including those of operations still running, which then lose their protection (a prune
     * could delete data a running backup is about to reference): only when no dr4j process uses
     * the repository. Returns the locks removed.
     */
    public List<LockInfo> unlock(boolean all) {
        checkOpen();
        return LockHandle.remove(ctx, all, rawStore.name());
    }

    // ---------------------------------------------------------------- key slots

    /**
     * The repository's key slots, in the order opening tries them, read afresh from {@code config}.
     * A slot change does not re-encrypt anything: see {@link #addKey}.
     */
    public List<KeySlot> keySlots() {
        checkOpen();
        return keys.list();
    }

    /** As {@link #addKey(KeyProvider, String, KdfParameters)}, with the KDF settings of the slot this repository was opened with. */
    public KeySlot addKey(KeyProvider key, String label) {
        return addKey(key, label, keys.openedKdf());
    }

    /**
     * Adds a key slot: the master key wrapped once more under {@code key} (one atomic rewrite of
     * {@code config}; see FORMAT.md §Config). The master key does not change, so nothing else is
     * rewritten, and whoever could open the repository before still can: removing a slot later
     * revokes a key, not what a holder of it already read. Rotating the master key means copying
     * the snapshots into a new repository.
     *
     * @param label a free-form label shown by {@link #keySlots()} (at most 200 characters; stored unauthenticated)
     * @param kdf Argon2id settings for a password slot (ignored by other providers)
     * @throws IllegalArgumentException if the provider's kind or the label is not acceptable
     * @throws Dr4jException if writing fails or a concurrent key change overwrote this one
     */
    public synchronized KeySlot addKey(KeyProvider key, String label, KdfParameters kdf) {
        checkOpen();
        return keys.add(key, label, kdf);
    }

    /**
     * Removes a key slot: that key no longer opens the repository.
     *
     * @throws IllegalArgumentException if there is no such slot, it is the last one, or it is the
     *         slot this repository was opened with (open with another key to remove it)
     * @throws Dr4jException if writing fails or a concurrent key change overwrote this one
     */
    public synchronized void removeKey(String slotId) {
        checkOpen();
        keys.remove(slotId);
    }

    /**
     * Replaces the key of the slot that {@code current} opens with {@code replacement} (a password
     * change; also a change of kind), keeping the slot's id and label. The same caveats as
     * {@link #addKey} apply: the master key is unchanged.
     *
     * @throws WrongKeyException if {@code current} opens no slot of this repository
     * @throws Dr4jException if writing fails or a concurrent key change overwrote this one
     */
    public synchronized KeySlot changeKey(KeyProvider current, KeyProvider replacement) {
        checkOpen();
        return keys.change(current, replacement);
    }

    // ---------------------------------------------------------------- copy

    /**
     * Copies the snapshots matching {@code filter} into {@code destination}; see
     * {@link #copyTo(Repository, List, CopyOptions)}.
     *
     * @throws SnapshotNotFoundException if no snapshot matches
     */
    public CopyResult copyTo(Repository destination, SnapshotFilter filter, CopyOptions options) {
        checkOpen();
        Objects.requireNonNull(filter, "filter");
        List<SnapshotId> ids = snapshots(filter).stream().map(Snapshot::id).toList();
        if (ids.isEmpty()) {
            throw new SnapshotNotFoundException("no snapshot" + (filter.equals(SnapshotFilter.ALL) ? "" : " matching " + filter)
                    + " in " + rawStore.name() + "; nothing was copied");
        }
        return copyTo(destination, ids, options);
    }

    /**
     * Copies snapshots into another repository, which has its own keys and may live in another
     * store (local to S3, S3 to Azure): the way to seed or refresh a DR site, and to rotate the
     * master key (copy into a fresh repository). Each copied snapshot keeps its id; one the
     * destination already holds is skipped. Incremental: a chunk an earlier copy from this
     * repository stored is neither read nor written again; other chunks are read by pack (ranged
     * reads), authenticated, named and sealed under the destination's key and its codec settings
     * ({@link io.dr4j.backup.Copier}), and stored only if the destination lacks them.
     * Writes go packs, index files, then manifests: a copy that fails, is cancelled or killed
     * leaves the destination valid, and the next copy resumes where it stopped. Takes a shared
     * lock on both repositories, as a backup does.
     *
     * @param snapshots the snapshots to copy, in any order
     * @throws IllegalArgumentException if {@code destination} is this repository (same id)
     * @throws SnapshotNotFoundException if {@code snapshots} is empty or names a snapshot that does not exist
     * @throws RepositoryLockedException if a prune holds either repository
     * @throws CorruptObjectException if a source chunk is missing or fails authentication
     * @throws OperationCancelledException if cancelled or interrupted
     */
    public CopyResult copyTo(Repository destination, List<SnapshotId> snapshots, CopyOptions options) {
        return metrics.copy(() -> runCopy(destination, snapshots, options));
    }

    private CopyResult runCopy(Repository destination, List<SnapshotId> snapshots, CopyOptions options) {
        checkOpen();
        Objects.requireNonNull(destination, "destination");
        destination.checkOpen();
        return RepositoryCopy.run(this, destination, snapshots, options);
    }

    /** Releases the repository's threads. Running operations fail; the store is not closed. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        ctx.cpu().shutdownNow();
        ctx.io().shutdownNow();
        scheduler.shutdownNow();
        try {
            ctx.cpu().awaitTermination(10, TimeUnit.SECONDS);
            ctx.io().awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "Repository[" + id() + " in " + rawStore.name() + "]";
    }

    // ---------------------------------------------------------------- internals

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("repository " + id() + " is closed");
        }
    }

    private static BlobKey snapshotKey(SnapshotId id) {
        return ManifestStore.key(id);
    }

    private Manifest load(SnapshotId id) {
        return manifests.load(id);
    }

    private List<Manifest> manifests() {
        return manifests.all();
    }

    private Optional<Manifest> latestManifest(SnapshotFilter filter) {
        return latest(filter).map(s -> load(s.id()));
    }

    /** As {@link #latestManifest} without the rollback check (a backup's parent only steers deduplication). */
    private Optional<Manifest> newestManifest(SnapshotFilter filter) {
        List<Snapshot> matching = snapshots(filter);
        return matching.isEmpty() ? Optional.empty() : Optional.of(load(matching.get(matching.size() - 1).id()));
    }

    /** A shared or exclusive lock for {@code purpose}, refreshed until closed. */
    LockHandle lock(RepositoryLock.Mode mode, String purpose) {
        return LockHandle.acquire(ctx, scheduler, mode, purpose, rawStore.name());
    }

    /** What the engine needs of this repository (for {@link RepositoryCopy}). */
    Context context() {
        return ctx;
    }

    ManifestStore manifestStore() {
        return manifests;
    }

}
