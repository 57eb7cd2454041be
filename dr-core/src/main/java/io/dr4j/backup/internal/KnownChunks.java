package io.dr4j.backup.internal;

import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobStore;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The set of chunk ids the repository holds, for deduplication: loaded from a local cache file
 * when that is fresh, otherwise rebuilt by listing {@code chunks/}. The cache is stale when the
 * set of prune markers ({@code prunes/}) differs from the one it was written with, since only a
 * prune deletes chunks; chunks added by other hosts are missing from it until the next rebuild,
 * which only costs a redundant upload. Thread-safe.
 */
public final class KnownChunks {

    private static final String MAGIC = "DR4JKC01";

    private final Set<ChunkId> ids = ConcurrentHashMap.newKeySet();
    private final Optional<Path> cacheFile;
    private final Set<String> pruneMarkers;

    private KnownChunks(Optional<Path> cacheFile, Set<String> pruneMarkers) {
        this.cacheFile = cacheFile;
        this.pruneMarkers = pruneMarkers;
    }

    /** Loads the set for the repository {@code repositoryId} in {@code store}. */
    public static KnownChunks load(BlobStore store, Optional<Path> cacheDirectory, String repositoryId) throws IOException {
        Set<String> markers = new TreeSet<>();
        for (BlobInfo info : list(store, "prunes")) {
            markers.add(info.key().name());
        }
        Optional<Path> file = cacheDirectory.map(d -> d.resolve(repositoryId).resolve("known-chunks"));
        if (file.isPresent() && Files.isRegularFile(file.get())) {
            KnownChunks cached = new KnownChunks(file, markers);
            if (cached.readCache(file.get(), markers)) {
                return cached;
            }
        }
        KnownChunks fresh = new KnownChunks(file, markers);
        for (BlobInfo info : list(store, "chunks")) {
            String name = info.key().name();
            if (name.length() == 2 * ChunkId.LENGTH && name.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
                fresh.ids.add(ChunkId.parse(name));
            }
        }
        return fresh;
    }

    private static java.util.List<BlobInfo> list(BlobStore store, String prefix) throws IOException {
        try (Stream<BlobInfo> listing = store.list(prefix)) {
            return listing.toList();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** Adds {@code id}; returns true if it was not known (the caller must then store it). */
    public boolean claim(ChunkId id) {
        return ids.add(id);
    }

    /** Writes the cache file (atomically) if a cache directory is configured; failures are ignored. */
    public void save() {
        if (cacheFile.isEmpty()) {
            return;
        }
        Path file = cacheFile.get();
        try {
            Files.createDirectories(file.getParent());
            Path tmp = Files.createTempFile(file.getParent(), "known-chunks", ".tmp");
            try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16))) {
                out.writeUTF(MAGIC);
                out.writeInt(pruneMarkers.size());
                for (String marker : pruneMarkers) {
                    out.writeUTF(marker);
                }
                Object[] snapshot = ids.toArray();
                out.writeInt(snapshot.length);
                byte[] buf = new byte[ChunkId.LENGTH];
                for (Object id : snapshot) {
                    ((ChunkId) id).copyTo(buf, 0);
                    out.write(buf);
                }
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            // The cache is an optimisation: without it the next backup lists the store.
        }
    }

    private boolean readCache(Path file, Set<String> markers) {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
            if (!MAGIC.equals(in.readUTF())) {
                return false;
            }
            int markerCount = in.readInt();
            Set<String> cachedMarkers = new TreeSet<>();
            for (int i = 0; i < markerCount; i++) {
                cachedMarkers.add(in.readUTF());
            }
            if (!cachedMarkers.equals(markers)) {
                return false;
            }
            int count = in.readInt();
            byte[] buf = new byte[ChunkId.LENGTH];
            for (int i = 0; i < count; i++) {
                in.readFully(buf);
                ids.add(ChunkId.wrap(buf.clone()));
            }
            return true;
        } catch (IOException | RuntimeException e) {
            ids.clear();
            return false;
        }
    }
}
