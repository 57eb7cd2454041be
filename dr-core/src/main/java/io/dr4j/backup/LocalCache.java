package io.dr4j.backup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * Files in the local cache folder, written atomically (temporary file, then rename). The cache
 * only ever holds sealed objects, which are authenticated when read back like anything from the
 * store: a damaged, stale or foreign cache file fails authentication and is fetched again, never
 * trusted. Failures to write are ignored: the cache is an optimisation.
 */
final class LocalCache {

    private LocalCache() {
    }

    static Optional<byte[]> read(Optional<Path> dir, String name) {
        if (dir.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Files.readAllBytes(dir.get().resolve(name)));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    static void write(Optional<Path> dir, String name, byte[] bytes) {
        if (dir.isEmpty()) {
            return;
        }
        try {
            Files.createDirectories(dir.get());
            Path tmp = Files.createTempFile(dir.get(), name, ".tmp");
            try {
                Files.write(tmp, bytes);
                Files.move(tmp, dir.get().resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException | RuntimeException e) {
            // without the cache the next run reads the store
        }
    }

    static void delete(Optional<Path> dir, String name) {
        if (dir.isPresent()) {
            try {
                Files.deleteIfExists(dir.get().resolve(name));
            } catch (IOException e) {
                // it fails authentication again next time
            }
        }
    }
}
