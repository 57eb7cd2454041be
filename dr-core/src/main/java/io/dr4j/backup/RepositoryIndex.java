package io.dr4j.backup;

import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The repository's index as one operation sees it: the union of every index file in the store
 * (each read from the local cache when there, authenticated either way), restricted to packs
 * the store actually holds. A chunk whose pack is gone is therefore unknown: a backup stores it
 * again rather than deduplicating against a copy that no longer exists, and a restore names the
 * missing pack. Index files that fail authentication are reported, not fatal: their chunks count
 * as unknown.
 */
final class RepositoryIndex {

    /** One index file: its key, store time and the packs it names (by number in {@link #chunks}). */
    record FileInfo(BlobKey key, Instant modified, List<Integer> packs) {
    }

    final ChunkIndex chunks = new ChunkIndex();
    /** Every pack object in the store, by hex id, indexed or not. */
    final Map<String, BlobInfo> storedPacks = new HashMap<>();
    final List<FileInfo> files = new ArrayList<>();
    /** Problems with index files, for messages. */
    final List<String> damaged = new ArrayList<>();
    /** Every blob record of every indexed pack (duplicates included), only when loaded for prune. */
    final Map<Integer, List<PackFormat.Blob>> packBlobs = new HashMap<>();
    /** Packs some index file names that the store lacks, by hex id. */
    final Set<String> missingPacks = new LinkedHashSet<>();

    private RepositoryIndex() {
    }

    static RepositoryIndex load(Context ctx) throws IOException {
        return load(ctx, false);
    }

    /** @param keepBlobs whether to keep every blob record in {@link #packBlobs} (prune) */
    static RepositoryIndex load(Context ctx, boolean keepBlobs) throws IOException {
        RepositoryIndex index = new RepositoryIndex();
        for (BlobInfo info : list(ctx, "packs")) {
            if (PackFormat.parseName(info.key().name()) != null) {
                index.storedPacks.put(info.key().name(), info);
            }
        }
        List<BlobInfo> indexFiles = new ArrayList<>(list(ctx, "index"));
        indexFiles.sort(Comparator.comparing(i -> i.key().value()));
        Optional<Path> cache = ctx.cache("index");
        for (BlobInfo info : indexFiles) {
            byte[] id = PackFormat.parseName(info.key().name());
            if (id == null) {
                continue; // not an index file this library wrote
            }
            List<IndexFile.PackEntry> packs;
            try {
                packs = read(ctx, info.key(), id, cache);
            } catch (NoSuchFileException e) {
                continue; // deleted by a prune while we listed
            } catch (CorruptObjectException e) {
                index.damaged.add(e.getMessage());
                continue;
            }
            List<Integer> numbers = new ArrayList<>(packs.size());
            for (IndexFile.PackEntry p : packs) {
                String hex = PackFormat.hex(p.packId());
                if (!index.storedPacks.containsKey(hex)) {
                    index.missingPacks.add(hex); // kept in the index so readers can name it; see forgetMissingPacks
                }
                int n = index.chunks.pack(p.packId());
                numbers.add(n);
                if (keepBlobs) {
                    List<PackFormat.Blob> all = index.packBlobs.computeIfAbsent(n, k -> new ArrayList<>());
                    if (all.isEmpty()) {
                        all.addAll(p.blobs()); // a pack named by two index files (a prune that died) counts once
                    }
                }
                boolean here = index.storedPacks.containsKey(hex);
                for (PackFormat.Blob b : p.blobs()) {
                    if (!index.chunks.add(b.id(), n, b.offset(), b.length(), b.plainLength(), b.flags()) && here) {
                        // a chunk indexed twice (two backups stored it, or a prune died): prefer a copy that exists
                        int e = index.chunks.find(b.id());
                        if (!index.present(index.chunks.pack(e))) {
                            index.chunks.relocate(e, n, b.offset(), b.length(), b.plainLength(), b.flags());
                        }
                    }
                }
            }
            index.files.add(new FileInfo(info.key(), info.lastModified(), numbers));
        }
        return index;
    }

    /** Whether the store holds pack number {@code pack}. */
    boolean present(int pack) {
        return !missingPacks.contains(PackFormat.hex(chunks.packId(pack)));
    }

    /**
     * Forgets the chunks of packs the store lacks, so that a backup stores them again instead of
     * deduplicating against copies that are gone.
     */
    RepositoryIndex forgetMissingPacks() {
        if (!missingPacks.isEmpty()) {
            chunks.dropPacks(p -> !present(p));
        }
        return this;
    }

    private static List<IndexFile.PackEntry> read(Context ctx, BlobKey key, byte[] id, Optional<Path> cache) throws IOException {
        String name = key.name();
        Optional<byte[]> cached = LocalCache.read(cache, name);
        if (cached.isPresent()) {
            try {
                return open(ctx, key, id, cached.get());
            } catch (CorruptObjectException e) {
                LocalCache.delete(cache, name); // damaged or foreign cache entry: read the store's copy
            }
        }
        // opening is the store's check: a store with several copies reads around a damaged one
        int ceiling = ctx.options().readerLimits().maxIndexFileBytes();
        byte[][] accepted = new byte[1][];
        List<IndexFile.PackEntry> packs = Ceilings.read(ctx.store(), key, ReaderLimits.sealedBound(ceiling),
                "maxIndexFileBytes", ctx.where(key), sealed -> {
                    List<IndexFile.PackEntry> opened = open(ctx, key, id, sealed);
                    accepted[0] = sealed;
                    return opened;
                });
        LocalCache.write(cache, name, accepted[0]);
        return packs;
    }

    private static List<IndexFile.PackEntry> open(Context ctx, BlobKey key, byte[] id, byte[] sealed) {
        String where = ctx.where(key);
        byte[] plain = ctx.crypto().openObject(IndexFile.DOMAIN, id, sealed,
                ctx.options().readerLimits().maxIndexFileBytes(), where);
        return IndexFile.decode(plain, ctx.maxChunk(), where);
    }

    static List<BlobInfo> list(Context ctx, String prefix) throws IOException {
        try (Stream<BlobInfo> listing = ctx.store().list(prefix)) {
            return listing.toList();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** Why a chunk that a snapshot needs has no location, for messages. */
    String whyMissing() {
        StringBuilder sb = new StringBuilder();
        if (!missingPacks.isEmpty()) {
            sb.append("; the store lacks ").append(missingPacks.size()).append(" indexed pack(s), e.g. packs/")
                    .append(missingPacks.iterator().next().substring(0, 2)).append('/').append(missingPacks.iterator().next());
        }
        if (!damaged.isEmpty()) {
            sb.append("; ").append(damaged.size()).append(" index file(s) are damaged: ").append(damaged.get(0));
        }
        return sb.toString();
    }

}
