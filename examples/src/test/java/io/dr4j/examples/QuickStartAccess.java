package io.dr4j.examples;

import java.io.IOException;
import java.nio.file.Path;

/** Opens QuickStart's package-private file helpers to tests in other packages. */
public final class QuickStartAccess {

    private QuickStartAccess() {
    }

    public static String treeDigest(Path root) throws IOException {
        return QuickStart.treeDigest(root);
    }

    public static void deleteTree(Path root) throws IOException {
        QuickStart.deleteTree(root);
    }
}
