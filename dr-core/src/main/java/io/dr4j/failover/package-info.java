/**
 * Failover routing: keep inference calls flowing when endpoints, or whole regions, fail.
 *
 * <p>{@link io.dr4j.failover.FailoverRouter} is the generic core: endpoints with a region and a
 * priority, power-of-two-choices selection, Envoy-style priority spill-over and panic routing,
 * resilience4j breakers plus outlier ejection, failback with hysteresis, active health probes,
 * retries on another endpoint within a retry budget, hedged requests, listener events and
 * Micrometer metrics, and an endpoint set that can change while calls run.
 * {@link io.dr4j.failover.FailoverHttpClient} puts it in front of OpenAI-style HTTP inference
 * endpoints, streaming included.
 *
 * <p>Everything a user touches is in this package; {@code io.dr4j.failover.internal} is
 * machinery.
 */
package io.dr4j.failover;
