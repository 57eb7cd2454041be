package io.dr4j.failover;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * An endpoint is overloaded and said so: HTTP 429, or 503 with a {@code Retry-After}. This is
 * backpressure, not a fault: the router marks the endpoint <em>saturated</em> for
 * {@link #retryAfter()} (or its default when absent, capped by its maximum), takes it out of
 * selection until then, and neither ejects it nor counts the answer against its breaker. An
 * idempotent call is retried elsewhere, paid from the retry budget like any retry.
 *
 * <p>Any {@link EndpointCall} may throw it to report saturation. Immutable, hence thread-safe.
 */
public class EndpointSaturatedException extends EndpointStatusException {

    private static final long serialVersionUID = 1L;

    private final transient Duration retryAfter;

    /**
     * @param endpointId the endpoint that answered
     * @param statusCode its status (429 or 503 for HTTP)
     * @param detail a short excerpt of the answer (never credentials)
     * @param retryAfter how long the endpoint asked to be left alone; empty when it did not say
     */
    public EndpointSaturatedException(String endpointId, int statusCode, String detail, Optional<Duration> retryAfter) {
        super(endpointId, statusCode, detail);
        this.retryAfter = Objects.requireNonNull(retryAfter, "retryAfter").orElse(null);
    }

    /** How long the endpoint asked to be left alone, if it said. */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}
