package io.dr4j.backup;

import io.dr4j.Dr4jException;

/** A snapshot names a path that would escape the restore target (absolute, with '..', or otherwise invalid); nothing was written. */
public class UnsafePathException extends Dr4jException {

    /** @param message what failed, naming the object and store */
    public UnsafePathException(String message) {
        super(message);
    }

    /**
     * @param message what failed, naming the object and store
     * @param cause the underlying failure
     */
    public UnsafePathException(String message, Throwable cause) {
        super(message, cause);
    }
}
