package io.dr4j.failover;

/**
 * An active health probe: returns normally when the endpoint is healthy, throws otherwise. It
 * runs on the router's scheduler, one endpoint after another, so it must bound its own time
 * (a request timeout well below the probe interval). Called from the scheduler thread only, one
 * probe at a time.
 *
 * @param <E> the endpoint payload type
 */
@FunctionalInterface
public interface HealthCheck<E> {

    /** Probes {@code endpoint}; throws when it is not healthy. */
    void check(Endpoint<E> endpoint) throws Exception;
}
