package io.dr4j.examples.cli;

import io.dr4j.backup.DumpResult;
import io.dr4j.backup.Repository;
import io.dr4j.backup.SnapshotFilter;
import io.dr4j.backup.SnapshotId;
import io.dr4j.storage.BlobStore;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code dr4j dump SNAPSHOT PATH [--output FILE]}: one file of a snapshot, without the rest,
 * every chunk authenticated. With {@code --output} the file appears only when complete (temporary
 * file, then rename); on stdout a failure leaves a correct but partial prefix and a non-zero exit.
 */
@Command(name = "dump", description = "Write one file of a snapshot to stdout or --output FILE, reading only its chunks.")
final class DumpCommand extends RepoCommand {

    @Parameters(index = "0", paramLabel = "SNAPSHOT", description = "Snapshot id, prefix or 'latest'.")
    String snapshot;

    @Parameters(index = "1", paramLabel = "PATH", description = "Path of a file in the snapshot.")
    String path;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE",
            description = "Write to FILE (replaced only when the whole file is authenticated and on disk) instead of stdout.")
    Path output;

    @Override
    public Integer call() throws Exception {
        try (BlobStore store = openStore(false); Repository repo = openRepository(store)) {
            SnapshotId id = resolve(repo, snapshot, SnapshotFilter.ALL);
            DumpResult r;
            if (output != null) {
                r = repo.dump(id, path, output);
                if (json) {
                    printJson(java.util.Map.of("snapshot", id.value(), "path", r.path(), "output", output.toString(),
                            "bytes", r.bytes(), "storeReads", r.storeReads(), "storedBytesRead", r.storedBytesRead()));
                } else {
                    root.out.printf("%s: %s written to %s (%d ranged reads, %s read)%n", id.shortId(), Units.bytes(r.bytes()),
                            output, r.storeReads(), Units.bytes(r.storedBytesRead()));
                }
            } else {
                r = repo.dump(id, path, root.out);
                root.out.flush();
                if (root.out.checkError()) {
                    throw new java.io.IOException("writing to standard output failed");
                }
            }
            return ExitCode.OK;
        }
    }
}
