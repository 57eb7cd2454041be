package io.dr4j.replication;

/**
 * The health of one member of a {@link ReplicatedBlobStore}, derived from its resilience4j
 * circuit breaker.
 */
public enum MemberHealth {
    /** The breaker is closed and the member's recent calls succeeded. */
    HEALTHY,
    /** The breaker is closed but recent calls failed, or it is half-open and probing. */
    DEGRADED,
    /** The breaker is open: calls are not sent to the member until it is probed again. */
    DOWN
}
