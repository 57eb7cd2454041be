package io.dr4j.backup;

import io.dr4j.Dr4jException;

/** Another process holds a conflicting lock on the repository (a prune needs it alone; a backup cannot run during a prune). The message names the holder. */
public class RepositoryLockedException extends Dr4jException {

    /** @param message what failed, naming the object and store */
    public RepositoryLockedException(String message) {
        super(message);
    }

    /**
     * @param message what failed, naming the object and store
     * @param cause the underlying failure
     */
    public RepositoryLockedException(String message, Throwable cause) {
        super(message, cause);
    }
}
