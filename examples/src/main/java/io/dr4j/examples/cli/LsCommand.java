package io.dr4j.examples.cli;

import io.dr4j.backup.Repository;
import io.dr4j.backup.SnapshotEntry;
import io.dr4j.backup.SnapshotFilter;
import io.dr4j.backup.SnapshotId;
import io.dr4j.storage.BlobStore;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dr4j ls SNAPSHOT [PATH]}: the entries of a snapshot at and under a path; reads only the manifest. */
@Command(name = "ls", description = "List a snapshot's entries at and under PATH (default: all): type, size, mtime, path.")
final class LsCommand extends RepoCommand {

    @Parameters(index = "0", paramLabel = "SNAPSHOT", description = "Snapshot id, prefix or 'latest'.")
    String snapshot;

    @Parameters(index = "1", arity = "0..1", paramLabel = "PATH", defaultValue = "", description = "Path in the snapshot (default: the root).")
    String path;

    @Option(names = {"-l", "--long"}, description = "Also the permission bits, the chunk count and the file hash.")
    boolean longFormat;

    @Override
    public Integer call() throws Exception {
        try (BlobStore store = openStore(false); Repository repo = openRepository(store)) {
            SnapshotId id = resolve(repo, snapshot, SnapshotFilter.ALL);
            List<SnapshotEntry> entries = repo.listFiles(id, path);
            if (json) {
                printJson(entries.stream().map(LsCommand::json).toList());
                return ExitCode.OK;
            }
            for (SnapshotEntry e : entries) {
                String type = e.type() == SnapshotEntry.Type.DIRECTORY ? "d" : "f";
                if (longFormat) {
                    root.out.printf("%s %s %14d %s %6d %s %s%n", type, e.mode().map(m -> String.format("%04o", m)).orElse("----"),
                            e.size(), e.modified(), e.chunks(), e.hash().map(h -> h.substring(0, 16)).orElse("-"),
                            e.path() + (type.equals("d") ? "/" : ""));
                } else {
                    root.out.printf("%s %14d %s %s%n", type, e.size(), e.modified(), e.path() + (type.equals("d") ? "/" : ""));
                }
            }
            return ExitCode.OK;
        }
    }

    static Map<String, Object> json(SnapshotEntry e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("path", e.path());
        m.put("type", e.type().name().toLowerCase(java.util.Locale.ROOT));
        m.put("size", e.size());
        m.put("modified", e.modified().toString());
        m.put("mode", e.mode().orElse(null));
        m.put("chunks", e.chunks());
        m.put("hash", e.hash().orElse(null));
        return m;
    }
}
