package io.dr4j.failover.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * Micrometer meters of one endpoint, registered when it joins and removed when it leaves, so the
 * hot path only increments pre-resolved meters. A disabled instance (no registry) does nothing.
 */
public final class SlotMeters {

    public static final String REQUESTS = "dr4j.failover.requests";
    public static final String FAILURES = "dr4j.failover.failures";
    public static final String LATENCY = "dr4j.failover.latency";
    public static final String STATE = "dr4j.failover.state";

    private static final SlotMeters DISABLED = new SlotMeters(null, null, null, null, null);

    private final MeterRegistry registry;
    private final Counter requests;
    private final Counter failures;
    private final Timer latency;
    private final Gauge state;

    private SlotMeters(MeterRegistry registry, Counter requests, Counter failures, Timer latency, Gauge state) {
        this.registry = registry;
        this.requests = requests;
        this.failures = failures;
        this.latency = latency;
        this.state = state;
    }

    public static SlotMeters disabled() {
        return DISABLED;
    }

    /** Registers the meters; {@code stateOf} maps the slot to its state ordinal. */
    public static <S> SlotMeters register(MeterRegistry registry, String routerName, String endpointId, String region,
                                          S stateSource, ToDoubleFunction<S> stateOf) {
        Tags tags = Tags.of("router", routerName, "endpoint", endpointId, "region", region);
        return new SlotMeters(registry,
                Counter.builder(REQUESTS).description("calls started on the endpoint").tags(tags).register(registry),
                Counter.builder(FAILURES).description("calls on the endpoint that counted as failures").tags(tags).register(registry),
                Timer.builder(LATENCY).description("latency of calls on the endpoint").tags(tags).register(registry),
                Gauge.builder(STATE, stateSource, stateOf)
                        .description("0 healthy, 1 ejected, 2 recovering, 3 unhealthy, 4 draining").tags(tags).register(registry));
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

    public void remove() {
        if (registry != null) {
            registry.remove(requests);
            registry.remove(failures);
            registry.remove(latency);
            registry.remove(state);
        }
    }
}
