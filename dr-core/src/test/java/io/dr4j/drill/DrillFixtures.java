package io.dr4j.drill;

import io.dr4j.backup.ChunkerParameters;
import io.dr4j.backup.InitOptions;
import io.dr4j.backup.KdfParameters;
import io.dr4j.backup.KeyProvider;
import io.dr4j.backup.Repository;
import io.dr4j.backup.RepositoryOptions;
import io.dr4j.storage.BlobStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Random;

/** Small repositories and checkpoints for drill tests, and a clock the test moves. */
final class DrillFixtures {

    static final byte[] RAW_KEY = new byte[32];

    static {
        Arrays.fill(RAW_KEY, (byte) 9);
    }

    private DrillFixtures() {
    }

    static KeyProvider key() {
        return KeyProvider.rawKey(RAW_KEY);
    }

    static RepositoryOptions options(Clock clock) {
        return RepositoryOptions.builder().noCache().workers(2).ioConcurrency(4).inFlightBytes(8 << 20)
                .host("drill-host").storeAttempts(1).clock(clock).build();
    }

    static Repository create(BlobStore store, Clock clock) {
        InitOptions init = InitOptions.defaults().withChunker(new ChunkerParameters(4 << 10, 16 << 10, 64 << 10))
                .withKdf(new KdfParameters(64, 1, 1));
        return Repository.init(store, key(), init, options(clock));
    }

    static Path checkpoint(Path dir, long seed) throws IOException {
        Files.createDirectories(dir.resolve("shards"));
        byte[] a = new byte[200_000];
        byte[] b = new byte[90_000];
        new Random(seed).nextBytes(a);
        new Random(seed + 1).nextBytes(b);
        Files.write(dir.resolve("shards/model-00001.safetensors"), a);
        Files.write(dir.resolve("shards/model-00002.safetensors"), b);
        Files.writeString(dir.resolve("config.json"), "{\"seed\": " + seed + "}\n");
        return dir;
    }

    static RecoveryObjectives objectives(Duration rpo, Duration rto) {
        return RecoveryObjectives.builder("test-model").rpo(rpo).rto(rto).build();
    }
}
