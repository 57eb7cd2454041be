package io.dr4j.failover;

import io.dr4j.Dr4jException;
import java.time.Duration;

/**
 * A call did not complete within its overall deadline, across all its attempts; the attempts in
 * flight were cancelled.
 *
 * <p>Immutable, hence thread-safe.
 */
public class DeadlineExceededException extends Dr4jException {

    private static final long serialVersionUID = 1L;

    private final Duration deadline;

    /**
     * @param what the call, such as {@code "POST v1/chat/completions"}
     * @param deadline the deadline that passed
     */
    public DeadlineExceededException(String what, Duration deadline) {
        super(what + " did not complete within its deadline of " + deadline);
        this.deadline = deadline;
    }

    /** The deadline that passed. */
    public Duration deadline() {
        return deadline;
    }
}
