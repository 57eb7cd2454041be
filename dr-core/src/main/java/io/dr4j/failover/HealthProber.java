package io.dr4j.failover;

import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Active health probes: one pass over the active endpoints, one probe at a time, feeding each
 * result to the balancer's state machine, then applying due ejection expiries. Runs on the
 * router's scheduler (one pass at a time), so the probe streaks it updates need no lock.
 */
final class HealthProber<E> implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(HealthProber.class);

    private final Balancer<E> balancer;
    private final HealthCheck<E> check;
    private final NanoClock clock;
    private final BooleanSupplier closed;

    HealthProber(Balancer<E> balancer, HealthCheck<E> check, NanoClock clock, BooleanSupplier closed) {
        this.balancer = balancer;
        this.check = check;
        this.clock = clock;
        this.closed = closed;
    }

    @Override
    public void run() {
        for (Slot<E> slot : balancer.activeSlots()) {
            if (closed.getAsBoolean()) {
                return;
            }
            boolean healthy;
            try {
                check.check(slot.endpoint());
                healthy = true;
            } catch (Exception e) {
                LOG.debug("router '{}': probe of {} failed: {}", balancer.name(), slot.endpoint().id(), e.toString());
                healthy = false;
            } catch (Error e) {
                LOG.warn("router '{}': probe of {} threw", balancer.name(), slot.endpoint().id(), e);
                healthy = false;
            }
            try {
                balancer.onProbe(slot, healthy, clock.read());
            } catch (RuntimeException e) {
                LOG.warn("router '{}': recording a probe of {} failed", balancer.name(), slot.endpoint().id(), e);
            }
        }
        balancer.tick();
    }
}
