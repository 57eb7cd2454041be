package io.dr4j.backup;

import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

/** Shared fixtures for backup tests: small chunks, cheap KDF, no cache, and data generators. */
public final class TestRepos {

    public static final ChunkerParameters SMALL_CHUNKS = new ChunkerParameters(4 << 10, 16 << 10, 64 << 10);
    public static final KdfParameters CHEAP_KDF = new KdfParameters(64, 1, 1);
    public static final byte[] RAW_KEY = new byte[32];

    static {
        Arrays.fill(RAW_KEY, (byte) 7);
    }

    private TestRepos() {
    }

    public static InitOptions init() {
        return InitOptions.defaults().withChunker(SMALL_CHUNKS).withKdf(CHEAP_KDF);
    }

    public static RepositoryOptions options() {
        return RepositoryOptions.builder().noCache().workers(2).ioConcurrency(4).inFlightBytes(8 << 20)
                .host("test-host").pruneGracePeriod(Duration.ZERO).storeAttempts(4).build();
    }

    public static Repository create(BlobStore store) {
        return Repository.init(store, KeyProvider.rawKey(RAW_KEY), init(), options());
    }

    public static Repository open(BlobStore store) {
        return Repository.open(store, KeyProvider.rawKey(RAW_KEY), options());
    }

    public static byte[] random(long seed, int size) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** A small checkpoint: shards, a config, an empty file, an empty directory, nesting. */
    public static Path checkpoint(Path dir, long seed) throws IOException {
        Files.createDirectories(dir.resolve("shards"));
        Files.createDirectories(dir.resolve("empty-dir"));
        Files.write(dir.resolve("shards/model-00001.safetensors"), random(seed, 300_000));
        Files.write(dir.resolve("shards/model-00002.safetensors"), random(seed + 1, 180_123));
        Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": 4096, \"seed\": " + seed + "}\n");
        Files.write(dir.resolve("empty.bin"), new byte[0]);
        Files.write(dir.resolve("tiny"), new byte[] {1});
        return dir;
    }

    /** Every regular file under {@code root} by relative path, with its bytes; directories as null. */
    public static Map<String, byte[]> contents(Path root) throws IOException {
        Map<String, byte[]> result = new HashMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.naturalOrder()).toList()) {
                if (p.equals(root)) {
                    continue;
                }
                String rel = root.relativize(p).toString().replace('\\', '/');
                result.put(rel, Files.isDirectory(p) ? null : Files.readAllBytes(p));
            }
        }
        return result;
    }

    public static boolean sameTree(Path a, Path b) throws IOException {
        Map<String, byte[]> x = contents(a);
        Map<String, byte[]> y = contents(b);
        if (!x.keySet().equals(y.keySet())) {
            return false;
        }
        for (String k : x.keySet()) {
            if (!Arrays.equals(x.get(k), y.get(k))) {
                return false;
            }
        }
        return true;
    }

    /** Writes a validly sealed manifest with arbitrary entries, as an attacker holding the key could not but a bug might. */
    public static SnapshotId craftSnapshot(BlobStore store, List<Manifest.Entry> entries) throws IOException {
        RepositoryConfig config = RepositoryConfig.fromJson(store.getBytes(BlobKey.of("config")), "config");
        byte[] master = Crypto.unwrap(RAW_KEY, config.slots().get(0).wrapped(), config.context());
        Crypto crypto = new Crypto(master);
        SnapshotId id = SnapshotId.of("0123456789abcdef0123456789abcdef");
        Snapshot snapshot = new Snapshot(id, java.time.Instant.now(), "evil", "/evil", java.util.Set.of(), Map.of(),
                java.util.Optional.empty(), entries.stream().map(Manifest.Entry::entry).toList(),
                new SnapshotStats(0, 0, 0, 0, 0, 0, 0, 0, Duration.ZERO));
        byte[] json = new Manifest(snapshot, entries).toJson();
        store.put(BlobKey.of("snapshots/" + id.value()), crypto.sealManifest(id.value(), json));
        return id;
    }
}
