package io.dr4j.backup;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Function;

/**
 * The local catalog of snapshot summaries (a manifest without its chunk lists), cached by
 * snapshot id: listing snapshots or finding a backup's parent decrypts only the manifests this
 * client has not seen before, so it costs O(new manifests), not O(all). Entries are sealed with
 * the repository key (domain {@code dr4j/catalog/v2}, name = snapshot id) and authenticated when
 * read: a damaged or foreign entry is rebuilt from the manifest in the store. Manifests are
 * immutable, so an entry never goes stale; a forgotten snapshot's entry is simply never asked for.
 */
final class SnapshotCatalog {

    private static final byte[] DOMAIN = "dr4j/catalog/v2".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_SUMMARY = 64 << 20;

    private final Context ctx;
    private final Optional<Path> dir;

    public SnapshotCatalog(Context ctx) {
        this.ctx = ctx;
        this.dir = ctx.cache("snapshots");
    }

    /** The snapshot {@code id}: from the catalog, or by loading its manifest with {@code load} (then cached). */
    public Snapshot summary(SnapshotId id, Function<SnapshotId, Manifest> load) {
        Optional<byte[]> cached = LocalCache.read(dir, id.value());
        if (cached.isPresent()) {
            try {
                byte[] json = ctx.crypto().openObject(DOMAIN, name(id), cached.get(), MAX_SUMMARY, "catalog entry " + id);
                return Manifest.summaryFromJson(id, json, "catalog entry " + id);
            } catch (CorruptObjectException e) {
                LocalCache.delete(dir, id.value());
            }
        }
        Manifest m = load.apply(id);
        remember(m);
        return m.snapshot();
    }

    /** Adds a manifest's summary to the catalog. */
    public void remember(Manifest m) {
        if (dir.isPresent()) {
            SnapshotId id = m.snapshot().id();
            LocalCache.write(dir, id.value(), ctx.crypto().sealObject(DOMAIN, name(id), true, m.summaryJson()));
        }
    }

    private static byte[] name(SnapshotId id) {
        return id.value().getBytes(StandardCharsets.US_ASCII);
    }
}
