package io.dr4j.backup;

import io.dr4j.Dr4jException;

/** A backup, restore or verify was cancelled through its token or by interrupting the calling thread. A cancelled backup writes no snapshot; a cancelled restore leaves the target as it was. */
public class OperationCancelledException extends Dr4jException {

    /** @param message what failed, naming the object and store */
    public OperationCancelledException(String message) {
        super(message);
    }

    /**
     * @param message what failed, naming the object and store
     * @param cause the underlying failure
     */
    public OperationCancelledException(String message, Throwable cause) {
        super(message, cause);
    }
}
