package io.dr4j.examples.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads {@code --exclude-file} files: one glob per line, blank lines and {@code #} comments ignored. */
final class ExcludeFiles {

    private ExcludeFiles() {
    }

    /**
     * The patterns of {@code --exclude} followed by those of each {@code --exclude-file}, in order.
     *
     * @throws IllegalArgumentException if a file is missing or unreadable (a usage error: nothing is backed up)
     */
    static List<String> patterns(List<String> excludes, List<Path> files) {
        List<String> out = new ArrayList<>(excludes);
        for (Path f : files) {
            List<String> lines;
            try {
                lines = Files.readAllLines(f, StandardCharsets.UTF_8);
            } catch (NoSuchFileException e) {
                throw new IllegalArgumentException("--exclude-file " + f + ": no such file");
            } catch (IOException e) {
                throw new IllegalArgumentException("--exclude-file " + f + ": cannot be read: " + e.getMessage());
            }
            for (String line : lines) {
                String t = line.strip();
                if (!t.isEmpty() && !t.startsWith("#")) {
                    out.add(t);
                }
            }
        }
        return out;
    }
}
