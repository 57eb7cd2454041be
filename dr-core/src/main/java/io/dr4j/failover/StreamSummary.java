package io.dr4j.failover;

/**
 * How a completed stream went. Immutable.
 *
 * @param endpointId the endpoint that served it (the last one, when it was resumed)
 * @param events events delivered to the caller, from every endpoint
 * @param bytes body bytes received, from every endpoint that served part of it
 * @param resumes how many times a broken stream was resumed on another endpoint (0 without a {@link StreamResumer})
 */
public record StreamSummary(String endpointId, long events, long bytes, int resumes) {
}
