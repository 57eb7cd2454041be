package io.dr4j.failover;

import java.util.Objects;

/**
 * A successful (2xx) answer of an inference endpoint. Immutable.
 *
 * @param endpointId the endpoint that answered
 * @param statusCode its HTTP status
 * @param body the response body (JSON, UTF-8 decoded)
 */
public record InferenceResponse(String endpointId, int statusCode, String body) {

    /** Validates the components. */
    public InferenceResponse {
        Objects.requireNonNull(endpointId, "endpointId");
        Objects.requireNonNull(body, "body");
    }
}
