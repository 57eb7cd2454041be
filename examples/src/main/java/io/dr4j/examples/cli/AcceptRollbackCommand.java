package io.dr4j.examples.cli;

import io.dr4j.backup.Repository;
import io.dr4j.storage.BlobStore;
import picocli.CommandLine.Command;

/** {@code dr4j accept-rollback}: accepts that snapshots were deleted from the store ({@link Repository#acceptRollback}). */
@Command(name = "accept-rollback", description = "Accept that snapshots this client saw were deleted from the store (another "
        + "client's forget, a store restored from an older copy): 'latest' then means the store's newest again.")
final class AcceptRollbackCommand extends RepoCommand {

    @Override
    public Integer call() throws Exception {
        try (BlobStore store = openStore(false); Repository repo = openRepository(store)) {
            repo.acceptRollback();
            root.out.printf("accepted the snapshots now in %s as the newest this client has seen%n", store.name());
        }
        return ExitCode.OK;
    }
}
