package io.dr4j.failover;

import java.time.Duration;

/**
 * A point-in-time view of one endpoint, for dashboards and tests. Fields are read one by one
 * without a common lock, so under load they may be a few calls apart. Immutable.
 *
 * @param endpoint the endpoint
 * @param state its state
 * @param outstanding calls in flight on it
 * @param latency its latency average (a time-weighted EWMA, raised at once by failures), zero before the first call
 * @param consecutiveFailures failures since its last success
 * @param ejections how many times it has been ejected (decays while it stays healthy)
 * @param requests calls started on it since it was added
 * @param failures calls on it that counted as failures since it was added
 * @param saturatedFor how much longer it is left alone after saying it is overloaded; zero when it is not saturated
 * @param saturations answers on it that said it was overloaded (429, 503 with {@code Retry-After}) since it was added
 * @param concurrencyLimit calls it may have in flight now (fixed or adaptive), {@link Integer#MAX_VALUE} when unlimited
 * @param <E> the payload type
 */
public record EndpointStatus<E>(Endpoint<E> endpoint, EndpointState state, int outstanding, Duration latency,
                                int consecutiveFailures, int ejections, long requests, long failures,
                                Duration saturatedFor, long saturations, int concurrencyLimit) {

    /** Whether it is saturated now (left alone after saying it is overloaded). */
    public boolean saturated() {
        return !saturatedFor.isZero();
    }
}
