package io.dr4j.backup;

import io.dr4j.Dr4jException;

/** The restore target cannot take the snapshot (not writable, not enough space, not a directory); raised before anything is written. */
public class RestoreTargetException extends Dr4jException {

    /** @param message what failed, naming the object and store */
    public RestoreTargetException(String message) {
        super(message);
    }

    /**
     * @param message what failed, naming the object and store
     * @param cause the underlying failure
     */
    public RestoreTargetException(String message, Throwable cause) {
        super(message, cause);
    }
}
