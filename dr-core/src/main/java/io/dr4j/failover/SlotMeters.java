package io.dr4j.failover;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Micrometer meters of one endpoint, registered when it joins and removed when it leaves, so the
 * hot path only increments pre-resolved meters. A disabled instance (no registry) does nothing.
 */
final class SlotMeters {

    public static final String REQUESTS = "dr4j.failover.requests";
    public static final String FAILURES = "dr4j.failover.failures";
    public static final String SATURATIONS = "dr4j.failover.saturations";
    public static final String LATENCY = "dr4j.failover.latency";
    public static final String STATE = "dr4j.failover.state";
    public static final String SATURATED = "dr4j.failover.saturated";
    public static final String CONCURRENCY_LIMIT = "dr4j.failover.concurrency.limit";
    public static final String IN_FLIGHT = "dr4j.failover.inflight";

    private static final SlotMeters DISABLED = new SlotMeters(null, null, null, null, null, List.of());

    private final MeterRegistry registry;
    private final Counter requests;
    private final Counter failures;
    private final Counter saturations;
    private final Timer latency;
    private final List<Meter> gauges;

    private SlotMeters(MeterRegistry registry, Counter requests, Counter failures, Counter saturations, Timer latency,
                       List<Meter> gauges) {
        this.registry = registry;
        this.requests = requests;
        this.failures = failures;
        this.saturations = saturations;
        this.latency = latency;
        this.gauges = gauges;
    }

    public static SlotMeters disabled() {
        return DISABLED;
    }

    /** Registers the meters of {@code slot} (which the gauges read; the router holds it strongly). */
    public static <E> SlotMeters register(MeterRegistry registry, String routerName, Endpoint<E> endpoint, Slot<E> slot,
                                          NanoClock clock) {
        Tags tags = Tags.of("router", routerName, "endpoint", endpoint.id(), "region", endpoint.region());
        return new SlotMeters(registry,
                Counter.builder(REQUESTS).description("calls started on the endpoint").tags(tags).register(registry),
                Counter.builder(FAILURES).description("calls on the endpoint that counted as failures").tags(tags).register(registry),
                Counter.builder(SATURATIONS).description("answers saying the endpoint is overloaded (429, 503 with Retry-After)")
                        .tags(tags).register(registry),
                Timer.builder(LATENCY).description("latency of calls on the endpoint").tags(tags).register(registry),
                List.of(
                        Gauge.builder(STATE, slot, s -> s.publicState().ordinal())
                                .description("0 healthy, 1 ejected, 2 recovering, 3 unhealthy, 4 draining").tags(tags)
                                .register(registry),
                        Gauge.builder(SATURATED, slot, s -> s.saturated(clock.read()) ? 1 : 0)
                                .description("1 while the endpoint is left alone after saying it is overloaded").tags(tags)
                                .register(registry),
                        Gauge.builder(CONCURRENCY_LIMIT, slot, s -> s.limiter().limit())
                                .description("calls the endpoint may have in flight (fixed or adaptive limit)").tags(tags)
                                .register(registry),
                        Gauge.builder(IN_FLIGHT, slot, s -> s.outstanding.get())
                                .description("calls in flight on the endpoint").tags(tags).register(registry)));
    }

    public void recordSuccess(long nanos) {
        if (registry != null) {
            requests.increment();
            latency.record(nanos, TimeUnit.NANOSECONDS);
        }
    }

    public void recordFailure(long nanos, boolean counted) {
        if (registry != null) {
            requests.increment();
            latency.record(nanos, TimeUnit.NANOSECONDS);
            if (counted) {
                failures.increment();
            }
        }
    }

    public void recordSaturation(long nanos) {
        if (registry != null) {
            requests.increment();
            saturations.increment();
            latency.record(nanos, TimeUnit.NANOSECONDS);
        }
    }

    public void remove() {
        if (registry != null) {
            registry.remove(requests);
            registry.remove(failures);
            registry.remove(saturations);
            registry.remove(latency);
            gauges.forEach(registry::remove);
        }
    }
}
