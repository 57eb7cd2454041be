package io.dr4j.backup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The file-system half of a {@link RestoreRun}'s all-or-nothing promise: the staging directory
 * beside the target ({@code .<name>.dr4j-restore-*}), metadata and forcing of the new tree, the
 * swap (target aside to {@code .<name>.dr4j-old-*}, staging in, under the journal
 * {@code .<name>.dr4j-swap}), recovery of a swap a crash interrupted, and cleanup. Stateless.
 */
final class RestoreStaging {

    private static final String STAGING = ".dr4j-restore-";
    private static final String OLD = ".dr4j-old-";
    private static final String JOURNAL = ".dr4j-swap";

    private RestoreStaging() {
    }

    /** A fresh staging directory name for {@code parent/name} (not created). */
    static Path stagingFor(Path parent, String name) {
        return parent.resolve("." + name + STAGING + HexFormat.of().formatHex(Crypto.randomBytes(6)));
    }

    /** Sets a restored entry's permissions and modification time, as {@code options} asks. */
    static void applyMetadata(Path p, SnapshotEntry entry, RestoreOptions options) throws IOException {
        if (options.restorePermissions() && entry.mode().isPresent()) {
            PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class);
            if (view != null) {
                Set<PosixFilePermission> perms = EnumSet.noneOf(PosixFilePermission.class);
                int mode = entry.mode().get();
                for (PosixFilePermission perm : PosixFilePermission.values()) {
                    if ((mode & (1 << (8 - perm.ordinal()))) != 0) {
                        perms.add(perm);
                    }
                }
                if (entry.type() == SnapshotEntry.Type.DIRECTORY) {
                    perms.add(PosixFilePermission.OWNER_WRITE); // children must stay replaceable by the owner
                    perms.add(PosixFilePermission.OWNER_EXECUTE);
                }
                view.setPermissions(perms);
            }
        }
        if (options.restoreTimes()) {
            Files.setLastModifiedTime(p, FileTime.from(entry.modified()));
        }
    }

    /** Forces every directory of the new tree (their entries) to disk; files were forced as they completed. */
    static void forceTree(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.filter(q -> Files.isDirectory(q, LinkOption.NOFOLLOW_LINKS)).toList()) {
                forceDirectory(p);
            }
        }
    }

    /**
     * Renames {@code staging} onto {@code target}: one rename if there is no target, else target
     * aside, staging in, under a forced journal that {@link #recover} reads after a crash.
     */
    static void swapIn(Path staging, Path target, Path parent, String name, boolean durable) throws IOException {
        if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
            if (durable) {
                forceDirectory(parent);
            }
            return;
        }
        Path old = parent.resolve("." + name + OLD + HexFormat.of().formatHex(Crypto.randomBytes(6)));
        Path journal = parent.resolve("." + name + JOURNAL);
        Files.writeString(journal, old.getFileName() + "\n" + staging.getFileName() + "\n");
        try (FileChannel ch = FileChannel.open(journal, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        forceDirectory(parent);
        Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        forceDirectory(parent);
        Files.delete(journal);
        deleteTree(old);
    }

    /**
     * Completes the bookkeeping of a swap interrupted by a crash: if the target is missing while
     * the old one was set aside, the old one is put back; leftover old copies are removed.
     */
    public static void recover(Path target) {
        Path parent = target.toAbsolutePath().normalize().getParent();
        if (parent == null) {
            return;
        }
        String name = target.getFileName().toString();
        Path journal = parent.resolve("." + name + JOURNAL);
        if (!Files.exists(journal)) {
            return;
        }
        try {
            List<String> lines = Files.readAllLines(journal);
            Path old = parent.resolve(lines.get(0));
            Path staging = parent.resolve(lines.get(1));
            if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS) && Files.isDirectory(old)) {
                Files.move(old, target, StandardCopyOption.ATOMIC_MOVE);
            }
            deleteTree(old);
            deleteTree(staging);
            Files.delete(journal);
            forceDirectory(parent);
        } catch (IOException | RuntimeException e) {
            throw new RestoreTargetException("cannot recover the interrupted restore into " + target + " (journal "
                    + journal + "): " + e, e);
        }
    }

    /** Removes staging and set-aside directories that killed restores into {@code parent/name} left behind. */
    static void removeStaleStaging(Path parent, String name) {
        try (Stream<Path> siblings = Files.list(parent)) {
            siblings.filter(p -> p.getFileName().toString().startsWith("." + name + STAGING)
                    || p.getFileName().toString().startsWith("." + name + OLD)).forEach(RestoreStaging::deleteTree);
        } catch (IOException ignored) {
            // best effort
        }
    }

    private static void forceDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    static void deleteTree(Path root) {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                try {
                    if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                        p.toFile().setWritable(true);
                    }
                    Files.deleteIfExists(p);
                } catch (DirectoryNotEmptyException | AccessDeniedException ignored) {
                    // best effort
                }
            }
        } catch (IOException | UncheckedIOException ignored) {
            // best effort
        }
    }
}
