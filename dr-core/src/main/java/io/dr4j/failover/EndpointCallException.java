package io.dr4j.failover;

import io.dr4j.Dr4jException;
import java.util.List;

/**
 * A routed call failed: every attempt it was allowed failed, or the retry budget refused another
 * one. The cause is the last attempt's failure; earlier ones are {@linkplain #getSuppressed()
 * suppressed}. The message lists the endpoints tried.
 *
 * <p>Immutable, hence thread-safe.
 */
public class EndpointCallException extends Dr4jException {

    private static final long serialVersionUID = 1L;

    private final List<String> endpointsTried;
    private final boolean retryBudgetExhausted;

    /**
     * @param endpointsTried ids of the endpoints tried, in order (may repeat)
     * @param retryBudgetExhausted whether a retry was refused by the budget
     * @param cause the last failure
     */
    public EndpointCallException(List<String> endpointsTried, boolean retryBudgetExhausted, Throwable cause) {
        super("call failed after " + endpointsTried.size() + (endpointsTried.size() == 1 ? " attempt" : " attempts")
                + " on " + endpointsTried
                + (retryBudgetExhausted ? " (retry budget exhausted, no further retry allowed)" : "")
                + ": " + cause, cause);
        this.endpointsTried = List.copyOf(endpointsTried);
        this.retryBudgetExhausted = retryBudgetExhausted;
    }

    /** Ids of the endpoints tried, in order. */
    public List<String> endpointsTried() {
        return endpointsTried;
    }

    /** Whether the retry budget refused a retry that would otherwise have been made. */
    public boolean retryBudgetExhausted() {
        return retryBudgetExhausted;
    }
}
