package io.dr4j.backup;

import io.dr4j.Dr4jException;

/** No snapshot matches the id or filter given. */
public class SnapshotNotFoundException extends Dr4jException {

    /** @param message what failed, naming the object and store */
    public SnapshotNotFoundException(String message) {
        super(message);
    }

    /**
     * @param message what failed, naming the object and store
     * @param cause the underlying failure
     */
    public SnapshotNotFoundException(String message, Throwable cause) {
        super(message, cause);
    }
}
