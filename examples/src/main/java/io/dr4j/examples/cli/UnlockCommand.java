package io.dr4j.examples.cli;

import io.dr4j.backup.LockInfo;
import io.dr4j.backup.Repository;
import io.dr4j.storage.BlobStore;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dr4j unlock}: removes the lock objects killed backups and prunes left behind ({@link Repository#unlock}). */
@Command(name = "unlock", description = "Remove stale locks (left by killed backups or prunes; stale by the store's clock). "
        + "--all also removes live ones.")
final class UnlockCommand extends RepoCommand {

    @Option(names = "--all", description = "Remove every lock, including those of running backups and prunes (only when no dr4j "
            + "process uses the repository: a prune could then delete data a running backup needs).")
    boolean all;

    @Override
    public Integer call() throws Exception {
        if (all) {
            root.err.println("dr4j: warning: --all removes the locks of operations that may still be running; a prune started "
                    + "now could delete data a running backup is about to reference");
        }
        try (BlobStore store = openStore(false); Repository repo = openRepository(store)) {
            List<LockInfo> removed = repo.unlock(all);
            if (json) {
                printJson(Map.of("removed", removed.stream().map(UnlockCommand::lockJson).toList()));
            } else {
                for (LockInfo l : removed) {
                    root.out.printf("removed %s %s lock of %s (pid %d, %s), last written %s%n", l.stale() ? "stale" : "LIVE",
                            l.mode(), l.host(), l.pid(), l.purpose(), l.lastWritten());
                }
                root.out.printf("removed %d lock(s)%n", removed.size());
            }
        }
        return ExitCode.OK;
    }

    private static Map<String, Object> lockJson(LockInfo l) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("key", l.key());
        m.put("mode", l.mode());
        m.put("host", l.host());
        m.put("pid", l.pid());
        m.put("purpose", l.purpose());
        m.put("lastWritten", l.lastWritten().toString());
        m.put("stale", l.stale());
        return m;
    }
}
