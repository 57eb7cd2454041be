package io.dr4j.backup;

import io.dr4j.Dr4jException;

/** A snapshot holds no entry at the path given ({@link Repository#listFiles}, {@link Repository#dump}). */
public final class PathNotFoundException extends Dr4jException {

    /** @param message what failed, naming the path and snapshot */
    public PathNotFoundException(String message) {
        super(message);
    }
}
