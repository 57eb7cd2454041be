package io.dr4j.failover;

import io.dr4j.Dr4jException;

/**
 * An endpoint answered with a status that is not success (HTTP or any protocol with numeric
 * statuses). The {@link FailureClassifier#defaults() default classifier} counts 5xx, 429 and 408
 * against the endpoint and passes other 4xx to the caller.
 *
 * <p>Immutable, hence thread-safe.
 */
public class EndpointStatusException extends Dr4jException {

    private static final long serialVersionUID = 1L;

    private final String endpointId;
    private final int statusCode;

    /**
     * @param endpointId the endpoint that answered
     * @param statusCode its status
     * @param detail a short excerpt of the answer (never credentials)
     */
    public EndpointStatusException(String endpointId, int statusCode, String detail) {
        super("endpoint " + endpointId + " answered status " + statusCode + (detail.isEmpty() ? "" : ": " + detail));
        this.endpointId = endpointId;
        this.statusCode = statusCode;
    }

    /** The endpoint that answered. */
    public String endpointId() {
        return endpointId;
    }

    /** The status it answered. */
    public int statusCode() {
        return statusCode;
    }
}
