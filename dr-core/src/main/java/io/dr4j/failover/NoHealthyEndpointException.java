package io.dr4j.failover;

import io.dr4j.Dr4jException;

/**
 * The router had nowhere to send a call: every endpoint is removed or draining, or every one is
 * ejected while panic routing is disabled ({@code panicThreshold(0)}).
 *
 * <p>Immutable, hence thread-safe.
 */
public class NoHealthyEndpointException extends Dr4jException {

    private static final long serialVersionUID = 1L;

    /** @param message which router and why nothing was eligible */
    public NoHealthyEndpointException(String message) {
        super(message);
    }
}
