package io.dr4j.backup;

import io.dr4j.Dr4jException;

/** An object in the repository failed authentication or decoding: it is corrupt, truncated, tampered with, or missing where a snapshot needs it. No bytes of it were used. */
public class CorruptObjectException extends Dr4jException {

    /** @param message what failed, naming the object and store */
    public CorruptObjectException(String message) {
        super(message);
    }

    /**
     * @param message what failed, naming the object and store
     * @param cause the underlying failure
     */
    public CorruptObjectException(String message, Throwable cause) {
        super(message, cause);
    }
}
