package io.dr4j.backup;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The checks a {@link RestoreRun} makes before it writes anything: every path of the manifest
 * (unsafe, non-portable, duplicate or case-folded names, a file used as a directory) and the
 * target (writable parent, empty or replaceable, enough free space). Each failure is an
 * exception that names the path and says nothing was restored. Stateless.
 */
final class RestoreChecks {

    private RestoreChecks() {
    }

    /** Checks every entry path with the Windows rules; returns them resolved against {@code root}. */
    static Map<String, Path> checkPaths(Manifest manifest, Path root) {
        return checkPaths(manifest, root, false);
    }

    /**
     * Checks every entry path (see {@link PathRules}); returns them resolved against {@code root}.
     * {@code allowNonPortable} lets names that are only unsafe on Windows through, except on Windows.
     */
    static Map<String, Path> checkPaths(Manifest manifest, Path root, boolean allowNonPortable) {
        boolean portable = !allowNonPortable || PathRules.windows();
        Map<String, Path> resolved = new HashMap<>();
        Map<String, String> folded = new HashMap<>();
        Set<String> directories = new HashSet<>();
        for (Manifest.Entry e : manifest.entries()) {
            String path = e.entry().path();
            String problem = PathRules.unsafe(path);
            if (problem == null && portable) {
                problem = PathRules.nonPortable(path);
                if (problem != null) {
                    problem += "; on Linux or macOS, RestoreOptions.allowNonPortablePaths (dr4j restore --allow-non-portable-paths)"
                            + " restores it";
                }
            }
            if (problem != null) {
                throw new UnsafePathException("snapshot " + manifest.snapshot().id() + " contains unsafe path '"
                        + printable(path) + "' (" + problem + "); nothing was restored");
            }
            Path p = root.resolve(path).normalize();
            if (!p.startsWith(root) || p.equals(root)) {
                throw new UnsafePathException("snapshot " + manifest.snapshot().id() + " path '" + printable(path)
                        + "' resolves outside the restore target; nothing was restored");
            }
            if (resolved.put(path, p) != null) {
                throw new UnsafePathException("snapshot " + manifest.snapshot().id() + " lists '" + printable(path)
                        + "' twice; nothing was restored");
            }
            String other = folded.put(PathRules.foldKey(path), path);
            if (other != null && portable) {
                throw new UnsafePathException("snapshot " + manifest.snapshot().id() + " lists '" + printable(other) + "' and '"
                        + printable(path) + "', one file on a case-insensitive or Unicode-normalizing file system (Windows, macOS)"
                        + "; on a case-sensitive file system RestoreOptions.allowNonPortablePaths restores both; nothing was restored");
            }
            if (e.entry().type() == SnapshotEntry.Type.DIRECTORY) {
                directories.add(path);
            }
        }
        for (String path : resolved.keySet()) {
            for (int slash = path.indexOf('/'); slash >= 0; slash = path.indexOf('/', slash + 1)) {
                String ancestor = path.substring(0, slash);
                if (resolved.containsKey(ancestor) && !directories.contains(ancestor)) {
                    throw new UnsafePathException("snapshot " + manifest.snapshot().id() + " puts '" + printable(path)
                            + "' under the file '" + printable(ancestor) + "'; nothing was restored");
                }
            }
        }
        return resolved;
    }

    private static String printable(String s) {
        return s.replaceAll("\\p{Cntrl}", "?");
    }

    /**
     * Checks that {@code target} can take the restore: its parent exists (created if need be) and
     * is writable, the target is absent or an empty directory (or {@code replaceExisting}), and
     * the parent's file system has room for {@code needed} bytes plus 1/64.
     */
    static void checkTarget(Path target, Path parent, long needed, boolean replaceExisting) {
        try {
            Files.createDirectories(parent);
        } catch (IOException e) {
            throw new RestoreTargetException("cannot create the parent of restore target " + target + ": " + e, e);
        }
        if (!Files.isWritable(parent)) {
            throw new RestoreTargetException("restore target's parent " + parent + " is not writable");
        }
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                throw new RestoreTargetException("restore target " + target + " exists and is not a directory");
            }
            boolean empty;
            try (Stream<Path> children = Files.list(target)) {
                empty = children.findAny().isEmpty();
            } catch (IOException e) {
                throw new RestoreTargetException("cannot read restore target " + target + ": " + e, e);
            }
            if (!empty && !replaceExisting) {
                throw new RestoreTargetException("restore target " + target
                        + " is not empty; choose an empty or new directory, or allow replacing it");
            }
        }
        try {
            FileStore fs = Files.getFileStore(parent);
            long usable = fs.getUsableSpace();
            if (usable < needed + (needed >> 6)) {
                throw new RestoreTargetException("not enough space for restore into " + target + ": snapshot needs "
                        + needed + " bytes, " + usable + " usable on " + fs);
            }
        } catch (IOException e) {
            throw new RestoreTargetException("cannot check free space for " + target + ": " + e, e);
        }
    }
}
