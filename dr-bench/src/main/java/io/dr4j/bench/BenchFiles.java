package io.dr4j.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * File and process helpers of the side-by-side runners: work directories are removed between
 * rounds, trees are sized and hashed to check a restore, tools run as child processes. Stateless.
 */
public final class BenchFiles {

    private BenchFiles() {
    }

    /** Deletes {@code root} and everything below it; does nothing if it does not exist. */
    public static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(root)) {
            paths = walk.sorted(Comparator.reverseOrder()).toList();
        }
        for (Path p : paths) {
            Files.deleteIfExists(p);
        }
    }

    /** Total bytes of the regular files below {@code root}; 0 if it does not exist. */
    public static long treeSize(Path root) throws IOException {
        if (!Files.exists(root)) {
            return 0;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    /** SHA-256 over the relative paths and contents of the regular files below {@code root}, in path order, as hex. */
    public static String treeHash(Path root) throws IOException {
        MessageDigest all;
        try {
            all = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        List<Path> files;
        try (Stream<Path> walk = Files.walk(root)) {
            files = walk.filter(Files::isRegularFile).sorted().toList();
        }
        byte[] buf = new byte[1 << 20];
        for (Path f : files) {
            all.update(root.relativize(f).toString().getBytes(StandardCharsets.UTF_8));
            try (InputStream in = Files.newInputStream(f)) {
                for (int n; (n = in.read(buf)) > 0; ) {
                    all.update(buf, 0, n);
                }
            }
        }
        return HexFormat.of().formatHex(all.digest());
    }

    /**
     * Runs {@code command} with {@code env} added to this process's environment, stderr merged
     * into stdout, and returns the output.
     *
     * @throws IllegalStateException with the output if the command exits non-zero
     */
    public static String run(List<String> command, Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out;
        try (InputStream in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed:\n" + out);
        }
        return out;
    }
}
