package io.dr4j.examples;

import java.io.IOException;
import java.nio.file.Path;

/** Opens QuickStart's package-private tree digest to tests in other packages. */
public final class QuickStartAccess {

    private QuickStartAccess() {
    }

    public static String treeDigest(Path root) throws IOException {
        return QuickStart.treeDigest(root);
    }
}
