package io.dr4j.drill;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Tells how many bytes can still be written under a directory; a {@link DrillRunner} asks it
 * before restoring, so that a scratch area too small fails the drill at once instead of after
 * minutes of downloading. Replaceable for tests and for quotas the file system does not report.
 * Implementations must be thread-safe.
 */
@FunctionalInterface
public interface SpaceProbe {

    /** The file system's usable space ({@link java.nio.file.FileStore#getUsableSpace()}). */
    SpaceProbe FILE_SYSTEM = dir -> Files.getFileStore(dir).getUsableSpace();

    /**
     * Bytes that can be written under {@code directory}, which exists.
     *
     * @throws IOException if it cannot be determined
     */
    long usableBytes(Path directory) throws IOException;
}
