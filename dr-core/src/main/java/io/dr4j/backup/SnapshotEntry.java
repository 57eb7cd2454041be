package io.dr4j.backup;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * One file or directory in a snapshot.
 *
 * @param path relative path with {@code /} separators ({@code ""} never appears; the snapshot root is implicit)
 * @param type file or directory
 * @param size bytes (0 for directories)
 * @param mode POSIX permission bits (e.g. {@code 0644}), or empty where the source file system has none
 * @param modified last-modified time of the source
 * @param hash for files, the hex SHA-256 file hash defined in FORMAT.md (over the size and chunk ids); empty for directories
 * @param chunks number of chunks of a file
 */
public record SnapshotEntry(String path, Type type, long size, Optional<Integer> mode, Instant modified,
        Optional<String> hash, int chunks) {

    /** Kind of entry. */
    public enum Type { FILE, DIRECTORY }

    public SnapshotEntry {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(modified, "modified");
        Objects.requireNonNull(hash, "hash");
    }
}
