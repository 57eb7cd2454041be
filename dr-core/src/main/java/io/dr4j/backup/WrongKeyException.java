package io.dr4j.backup;

import io.dr4j.Dr4jException;

/** The password or key given does not unlock the repository (or its config was tampered with). Raised on open, before any data is read. */
public class WrongKeyException extends Dr4jException {

    /** @param message what failed, naming the object and store */
    public WrongKeyException(String message) {
        super(message);
    }

    /**
     * @param message what failed, naming the object and store
     * @param cause the underlying failure
     */
    public WrongKeyException(String message, Throwable cause) {
        super(message, cause);
    }
}
