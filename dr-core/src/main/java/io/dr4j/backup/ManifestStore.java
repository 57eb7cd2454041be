package io.dr4j.backup;

import io.dr4j.Dr4jException;
import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The snapshot manifests of one open {@link Repository} ({@code snapshots/<id>}): listing their
 * ids, loading and authenticating one, all of them in {@code (time, id)} order, and the summaries
 * through the local {@link SnapshotCatalog}. Thread-safe (the store and catalog are).
 */
final class ManifestStore {

    private final Context ctx;
    private final SnapshotCatalog catalog;
    private final String storeName;

    ManifestStore(Context ctx, SnapshotCatalog catalog, String storeName) {
        this.ctx = ctx;
        this.catalog = catalog;
        this.storeName = storeName;
    }

    static BlobKey key(SnapshotId id) {
        return BlobKey.of("snapshots/" + id.value());
    }

    private List<BlobInfo> list(String prefix) throws IOException {
        try (Stream<BlobInfo> listing = ctx.store().list(prefix)) {
            return listing.toList();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    List<SnapshotId> ids() {
        try {
            List<SnapshotId> ids = new ArrayList<>();
            for (BlobInfo info : list("snapshots")) {
                try {
                    ids.add(SnapshotId.of(info.key().name()));
                } catch (IllegalArgumentException e) {
                    // not a snapshot this library wrote
                }
            }
            return ids;
        } catch (IOException e) {
            throw new Dr4jException("listing snapshots in " + storeName + " failed: " + e.getMessage(), e);
        }
    }

    /** A full id or the one id starting with {@code idOrPrefix}; see {@link Repository#resolve}. */
    SnapshotId resolve(String idOrPrefix) {
        if (idOrPrefix == null || !idOrPrefix.matches("[0-9a-f]{4,32}")) {
            throw new SnapshotNotFoundException("'" + idOrPrefix + "' is not a snapshot id or a prefix of at least 4 hex digits");
        }
        List<SnapshotId> matches = ids().stream().filter(id -> id.value().startsWith(idOrPrefix)).toList();
        if (matches.isEmpty()) {
            throw new SnapshotNotFoundException("no snapshot " + idOrPrefix + " in " + storeName);
        }
        if (matches.size() > 1) {
            throw new SnapshotNotFoundException("snapshot prefix " + idOrPrefix + " is ambiguous: " + matches.size() + " match");
        }
        return matches.get(0);
    }

    /**
     * Reads, authenticates and decodes the manifest of {@code id}; opening it is the check of
     * {@link io.dr4j.storage.BlobStore#getBytesVerified}, so a store with several copies reads
     * around a damaged one (and repairs it).
     *
     * @throws SnapshotNotFoundException if there is no such manifest
     * @throws CorruptObjectException if no copy authenticates and decodes (or, as {@link ReaderLimitException}, fits the ceiling)
     */
    Manifest load(SnapshotId id) {
        String where = ctx.where(key(id));
        int ceiling = ctx.options().readerLimits().maxManifestBytes();
        try {
            return Ceilings.read(ctx.store(), key(id), ReaderLimits.sealedBound(ceiling), "maxManifestBytes", where,
                    sealed -> Manifest.fromJson(id, ctx.crypto().openManifest(id.value(), sealed, ceiling, where), where));
        } catch (java.nio.file.NoSuchFileException e) {
            throw new SnapshotNotFoundException("no snapshot " + id + " in " + storeName, e);
        } catch (IOException e) {
            throw new Dr4jException("reading snapshot " + id + " from " + storeName + " failed: " + e.getMessage(), e);
        }
    }

    List<Manifest> all() {
        List<Manifest> result = new ArrayList<>();
        for (SnapshotId id : ids()) {
            try {
                result.add(load(id));
            } catch (SnapshotNotFoundException e) {
                // forgotten while we listed
            }
        }
        result.sort(Comparator.comparing((Manifest m) -> m.snapshot().time()).thenComparing(m -> m.snapshot().id()));
        return result;
    }

    /** Every snapshot's summary, oldest first, from the catalog (only manifests not seen before are read). */
    List<Snapshot> summaries() {
        List<Snapshot> result = new ArrayList<>();
        for (SnapshotId id : ids()) {
            try {
                result.add(catalog.summary(id, this::load));
            } catch (SnapshotNotFoundException e) {
                // forgotten while we listed
            }
        }
        result.sort(Comparator.comparing(Snapshot::time).thenComparing(Snapshot::id));
        return result;
    }

    /** Seals and stores {@code m} (the last write of a backup or a copy) and adds it to the catalog. */
    void write(Manifest m) throws IOException {
        SnapshotId id = m.snapshot().id();
        ctx.store().put(key(id), ctx.crypto().sealManifest(id.value(), m.toJson()));
        catalog.remember(m);
    }
}
