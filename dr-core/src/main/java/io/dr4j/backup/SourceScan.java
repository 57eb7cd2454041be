package io.dr4j.backup;

import io.dr4j.Dr4jException;
import java.io.IOException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The first step of a {@link BackupRun}: the files and directories of the source (a directory
 * walked recursively, following symbolic links, or a single file), minus what the excludes
 * match (an excluded directory's subtree is not walked), with sizes, times and POSIX modes.
 * A symbolic-link loop or a dangling link fails the backup, naming the link. One use.
 */
final class SourceScan {

    /** A file or directory found by the scan. */
    record Found(String path, Path file, boolean directory, long size, Instant modified, Optional<Integer> mode) {
    }

    private final Path source;
    private final ExcludeMatcher exclude;
    /** Files and directories skipped because an exclude pattern matched them. */
    private long excludedFiles;

    SourceScan(Path source, ExcludeMatcher exclude) {
        this.source = source;
        this.exclude = exclude;
    }

    /** Entries the excludes skipped (a directory's subtree counts once). */
    long excluded() {
        return excludedFiles;
    }

    /** Walks the source (following symbolic links); the entries sorted by path. */
    List<Found> run() {
        List<Found> found = new ArrayList<>();
        try {
            BasicFileAttributes rootAttrs = Files.readAttributes(source, BasicFileAttributes.class);
            if (rootAttrs.isRegularFile()) {
                if (exclude.excludes(source.getFileName().toString(), false)) {
                    excludedFiles++;
                    return found;
                }
                found.add(new Found(source.getFileName().toString(), source, false, rootAttrs.size(),
                        rootAttrs.lastModifiedTime().toInstant(), mode(source)));
                return found;
            }
            if (!rootAttrs.isDirectory()) {
                throw new Dr4jException("cannot back up " + source + ": not a regular file or directory");
            }
            Files.walkFileTree(source, EnumSet.of(FileVisitOption.FOLLOW_LINKS), Integer.MAX_VALUE, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                    if (!dir.equals(source)) {
                        if (exclude.excludes(relative(dir), true)) {
                            excludedFiles++; // the subtree counts once: it is not walked
                            return FileVisitResult.SKIP_SUBTREE;
                        }
                        found.add(new Found(relative(dir), dir, true, 0, attrs.lastModifiedTime().toInstant(), mode(dir)));
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    if (attrs.isRegularFile()) {
                        if (exclude.excludes(relative(file), false)) {
                            excludedFiles++;
                            return FileVisitResult.CONTINUE;
                        }
                        found.add(new Found(relative(file), file, false, attrs.size(), attrs.lastModifiedTime().toInstant(),
                                mode(file)));
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    if (e instanceof FileSystemLoopException) {
                        throw new Dr4jException("cannot back up " + source + ": symbolic link loop at " + file, e);
                    }
                    if (e instanceof NoSuchFileException && Files.isSymbolicLink(file)) {
                        throw new Dr4jException("cannot back up " + source + ": dangling symbolic link " + file, e);
                    }
                    throw e;
                }
            });
        } catch (NoSuchFileException e) {
            throw new Dr4jException("cannot back up " + source + ": no such file or directory", e);
        } catch (IOException e) {
            throw new Dr4jException("cannot back up " + source + ": " + e, e);
        }
        found.sort(Comparator.comparing(Found::path));
        return found;
    }

    private String relative(Path p) {
        StringBuilder sb = new StringBuilder();
        for (Path part : source.relativize(p)) {
            if (sb.length() > 0) {
                sb.append('/');
            }
            sb.append(part);
        }
        return sb.toString();
    }

    static Optional<Integer> mode(Path p) throws IOException {
        PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class);
        if (view == null) {
            return Optional.empty();
        }
        Set<PosixFilePermission> perms = view.readAttributes().permissions();
        int mode = 0;
        for (PosixFilePermission perm : perms) {
            mode |= 1 << (8 - perm.ordinal());
        }
        return Optional.of(mode);
    }
}
