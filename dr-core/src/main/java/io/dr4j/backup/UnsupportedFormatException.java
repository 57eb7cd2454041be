package io.dr4j.backup;

import io.dr4j.Dr4jException;

/** The store holds no dr4j repository, or one whose format version this library does not read. */
public class UnsupportedFormatException extends Dr4jException {

    /** @param message what failed, naming the object and store */
    public UnsupportedFormatException(String message) {
        super(message);
    }

    /**
     * @param message what failed, naming the object and store
     * @param cause the underlying failure
     */
    public UnsupportedFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
