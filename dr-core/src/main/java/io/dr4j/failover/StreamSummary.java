package io.dr4j.failover;

/**
 * How a completed stream went. Immutable.
 *
 * @param endpointId the endpoint that served it
 * @param events events delivered to the caller
 * @param bytes body bytes received from that endpoint
 */
public record StreamSummary(String endpointId, long events, long bytes) {
}
