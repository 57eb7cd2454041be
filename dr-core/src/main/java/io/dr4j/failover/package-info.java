/**
 * Failover routing: keep inference calls flowing when endpoints, or whole regions, fail or
 * push back.
 *
 * <p>{@link io.dr4j.failover.FailoverRouter} is the generic core: endpoints with a region and a
 * priority, power-of-two-choices selection, Envoy-style priority spill-over and panic routing,
 * resilience4j breakers plus outlier ejection, failback with hysteresis, active health probes,
 * retries on another endpoint within a retry budget, hedged requests, backpressure (429 and
 * 503 with {@code Retry-After} mark an endpoint saturated, never failed), per-endpoint
 * concurrency limits (fixed or adaptive), listener events and Micrometer metrics, and an
 * endpoint set that can change while calls run. It is configured through
 * {@link io.dr4j.failover.FailoverRouterBuilder} into an immutable
 * {@link io.dr4j.failover.FailoverRouterConfig}. {@link io.dr4j.failover.FailoverHttpClient}
 * puts it in front of OpenAI-style HTTP inference endpoints, streaming included, with opt-in
 * resumption of broken streams ({@link io.dr4j.failover.StreamResumer}).
 *
 * <p>Everything a user touches is in this package; the call paths and the lock-free balancer
 * machinery ({@code Balancer}, {@code Slot}, {@code Plan}, {@code RetryBudget},
 * {@code LatencyHistogram}, {@code NanoClock}) are package-private beside the router. The
 * guide's "Failover and overload" section (docs/guide.md) has the defaults and measurements.
 */
package io.dr4j.failover;
