package io.dr4j.failover;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.net.http.HttpTimeoutException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * Decides what a failed attempt means: a fault of the endpoint (counted against it, and maybe
 * worth trying elsewhere) or a fault of the caller (a bad request: not counted, not retried).
 *
 * <p>Implementations must be thread-safe and fast: they run on every failed attempt.
 */
@FunctionalInterface
public interface FailureClassifier {

    /** What a failure means. */
    enum Verdict {
        /** The endpoint failed and another endpoint may well succeed: counted, retried if idempotent. */
        RETRYABLE,
        /**
         * Nothing answered at the endpoint's address (connection refused, no route): the request
         * never reached it. Counted like {@link #RETRYABLE RETRYABLE} and retried elsewhere at once,
         * and, unlike a failure that the endpoint may have caused itself, proof that it is not there:
         * it is ejected after {@code consecutiveConnectFailures} of these (default 1) instead of
         * {@code consecutiveFailures}.
         */
        UNREACHABLE,
        /** The endpoint failed, but trying again elsewhere would be wrong or useless: counted, not retried. */
        NOT_RETRYABLE,
        /** The caller's fault (a 4xx): not counted against the endpoint, not retried. */
        CALLER_ERROR,
        /**
         * The endpoint is overloaded and said so (429, 503 with {@code Retry-After}): not counted,
         * not a reason to eject; the endpoint is left alone for the advised time and an
         * idempotent call is retried elsewhere within the retry budget.
         */
        SATURATED
    }

    /** Classifies {@code failure} (never a wrapper such as {@link CompletionException}: the router unwraps those). */
    Verdict classify(Throwable failure);

    /**
     * The default: {@link EndpointSaturatedException} and any {@link EndpointStatusException} with
     * status 429 are {@link Verdict#SATURATED SATURATED}; {@link EndpointStatusException} with
     * status 5xx or 408 and I/O errors and timeouts are {@link Verdict#RETRYABLE RETRYABLE}, except
     * {@link ConnectException}, {@link NoRouteToHostException} and {@link PortUnreachableException},
     * which are {@link Verdict#UNREACHABLE UNREACHABLE} (a connect <em>timeout</em> stays
     * retryable: a slow accept says nothing certain); other statuses (4xx) are
     * {@link Verdict#CALLER_ERROR CALLER_ERROR}; {@link StreamInterruptedException} is
     * {@link Verdict#NOT_RETRYABLE NOT_RETRYABLE}; interruption of the calling thread is a
     * caller error; {@link IllegalArgumentException} and
     * {@link NullPointerException} are caller errors; anything else counts against the endpoint
     * and is retryable.
     */
    static FailureClassifier defaults() {
        return FailureClassifier::classifyByDefault;
    }

    private static Verdict classifyByDefault(Throwable failure) {
        if (failure instanceof EndpointSaturatedException) {
            return Verdict.SATURATED;
        }
        if (failure instanceof EndpointStatusException status) {
            int code = status.statusCode();
            if (code == 429) {
                return Verdict.SATURATED;
            }
            return code >= 500 || code == 408 ? Verdict.RETRYABLE : Verdict.CALLER_ERROR;
        }
        if (failure instanceof StreamInterruptedException) {
            return Verdict.NOT_RETRYABLE;
        }
        if (failure instanceof InterruptedException || failure instanceof InterruptedIOException) {
            return Verdict.CALLER_ERROR;
        }
        if (failure instanceof ConnectException || failure instanceof NoRouteToHostException
                || failure instanceof PortUnreachableException) {
            return Verdict.UNREACHABLE;
        }
        if (failure instanceof IOException || failure instanceof TimeoutException
                || failure instanceof HttpTimeoutException || failure instanceof CancellationException) {
            return Verdict.RETRYABLE;
        }
        if (failure instanceof IllegalArgumentException || failure instanceof NullPointerException) {
            return Verdict.CALLER_ERROR;
        }
        if (failure instanceof ExecutionException && failure.getCause() != null) {
            return classifyByDefault(failure.getCause());
        }
        return Verdict.RETRYABLE;
    }
}
