package io.dr4j.failover;

import io.dr4j.Dr4jException;

/**
 * A streamed response broke after the caller had already received part of it, so the router
 * could not fail over transparently: the caller decides whether to start again. It says how far
 * the stream got.
 *
 * <p>Immutable, hence thread-safe.
 */
public class StreamInterruptedException extends Dr4jException {

    private static final long serialVersionUID = 1L;

    private final String endpointId;
    private final long bytesReceived;
    private final long eventsDelivered;

    /**
     * @param endpointId the endpoint whose stream broke
     * @param bytesReceived body bytes received from it before the break
     * @param eventsDelivered events handed to the caller before the break
     * @param cause the I/O failure
     */
    public StreamInterruptedException(String endpointId, long bytesReceived, long eventsDelivered, Throwable cause) {
        super("stream from endpoint " + endpointId + " broke after " + eventsDelivered + " events ("
                + bytesReceived + " bytes) had been delivered: " + cause, cause);
        this.endpointId = endpointId;
        this.bytesReceived = bytesReceived;
        this.eventsDelivered = eventsDelivered;
    }

    /** The endpoint whose stream broke. */
    public String endpointId() {
        return endpointId;
    }

    /** Body bytes received from that endpoint before the break. */
    public long bytesReceived() {
        return bytesReceived;
    }

    /** Events handed to the caller before the break (at least 1). */
    public long eventsDelivered() {
        return eventsDelivered;
    }
}
