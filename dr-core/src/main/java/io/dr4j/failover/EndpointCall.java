package io.dr4j.failover;

/**
 * The work a {@link FailoverRouter} runs against the endpoint it picked. Throwing means the
 * attempt failed; the router's {@link FailureClassifier} decides whether that counts against the
 * endpoint and whether another endpoint may be tried.
 *
 * <p>A call object may run on several threads at once (retries, concurrent callers) if it is
 * shared, so a shared one must be thread-safe.
 *
 * @param <E> the endpoint payload type
 * @param <T> the result type
 */
@FunctionalInterface
public interface EndpointCall<E, T> {

    /** Runs the call on {@code endpoint}. */
    T call(Endpoint<E> endpoint) throws Exception;
}
