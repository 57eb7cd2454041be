package io.dr4j.storage;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Where {@link LocalBlobStore} keeps a key, and the guards and failure messages its read and
 * write halves share: the reserved temporary directory, no symbolic links between the root and
 * an object, errors that name the store and the key. Immutable and thread-safe.
 */
final class LocalPaths {

    private final Path root;
    private final Path tmpDir;
    private final String name;

    LocalPaths(Path realRoot) {
        this.root = realRoot;
        this.tmpDir = realRoot.resolve(LocalBlobStore.TMP_DIR);
        this.name = "local:" + realRoot;
    }

    Path root() {
        return root;
    }

    Path tmpDir() {
        return tmpDir;
    }

    String name() {
        return name;
    }

    Path pathFor(BlobKey key) {
        String value = key.value();
        if (value.equals(LocalBlobStore.TMP_DIR) || value.startsWith(LocalBlobStore.TMP_DIR + "/")) {
            throw new IllegalArgumentException("Invalid blob key '" + key + "': '" + LocalBlobStore.TMP_DIR + "' is reserved by " + name);
        }
        return root.resolve(value);
    }

    /** Refuses symbolic links between the root and {@code dir} (inclusive). */
    void checkNoLinks(BlobKey key, Path dir) throws IOException {
        for (Path p = dir; p != null && !p.equals(root); p = p.getParent()) {
            if (Files.isSymbolicLink(p)) {
                throw escape(key, p);
            }
        }
    }

    PermanentBlobStoreException escape(BlobKey key, Path link) {
        return new PermanentBlobStoreException(name, key,
                "refusing to follow symbolic link " + root.relativize(link) + " (it could lead outside the store)", null);
    }

    NoSuchFileException notFound(BlobKey key) {
        return new NoSuchFileException(key.value(), null, name + ": no such object");
    }

    IOException failure(BlobKey key, String operation, Exception e) {
        if (e instanceof BlobStoreException || e instanceof FileAlreadyExistsException) {
            return (IOException) e;
        }
        if (e instanceof NoSuchFileException && key != null && operation.equals("get")) {
            return notFound(key);
        }
        if (e instanceof IllegalArgumentException) {
            throw (IllegalArgumentException) e;
        }
        if (e instanceof java.nio.channels.ClosedByInterruptException) {
            return (IOException) e;
        }
        String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + e.getMessage();
        return new PermanentBlobStoreException(name, key, operation + " failed: " + reason, e);
    }
}
