package io.dr4j.failover;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The router's endpoints: the active slots (a copy-on-write array the hot path reads without a
 * lock) and the draining ones. Additions, removals, drains and re-weights are rare
 * administrative operations serialized by one lock that the hot path never takes; in-flight
 * calls keep their slot and finish normally. The owner republishes its plan after each change.
 *
 * <p>Thread-safe.
 */
final class EndpointSet<E> {

    private final String router;
    private final Object admin = new Object();
    private volatile Slot<E>[] active;
    private final List<Slot<E>> draining = new ArrayList<>();

    EndpointSet(String router, List<Slot<E>> initial) {
        this.router = router;
        this.active = initial.toArray(Slot.<E>array(0));
    }

    Slot<E>[] active() {
        return active;
    }

    /** Adds a slot made by {@code factory} unless the id is taken (active or draining). */
    void add(Endpoint<E> endpoint, Function<Endpoint<E>, Slot<E>> factory) {
        synchronized (admin) {
            if (find(endpoint.id()) != null || findDraining(endpoint.id()) != null) {
                throw new IllegalArgumentException("router '" + router + "' already has an endpoint with id " + endpoint.id());
            }
            List<Slot<E>> slots = new ArrayList<>(Arrays.asList(active));
            slots.add(factory.apply(endpoint));
            active = slots.toArray(Slot.<E>array(0));
        }
    }

    /** Removes an active or draining endpoint; returns the removed slot, or null if the id is unknown. */
    Slot<E> remove(String id) {
        synchronized (admin) {
            Slot<E> removed = find(id);
            if (removed == null) {
                Slot<E> d = findDraining(id);
                if (d != null) {
                    draining.remove(d);
                    d.drained.complete(null);
                }
                return d;
            }
            active = without(removed);
            return removed;
        }
    }

    /**
     * Marks an endpoint draining and takes it out of the active set; returns the slot (already
     * draining if it was), or throws if the id is unknown.
     */
    Slot<E> drain(String id) {
        synchronized (admin) {
            Slot<E> d = findDraining(id);
            if (d != null) {
                return d;
            }
            Slot<E> slot = find(id);
            if (slot == null) {
                throw new IllegalArgumentException("router '" + router + "' has no endpoint with id " + id);
            }
            // Mark first, then leave the active set; the owner then looks at the outstanding count (see Balancer.acquire).
            slot.drained = new CompletableFuture<>();
            draining.add(slot);
            active = without(slot);
            return slot;
        }
    }

    /** Ends the drain of {@code s}; true for the one caller that did it. */
    boolean finishDrain(Slot<E> s) {
        synchronized (admin) {
            return draining.remove(s);
        }
    }

    void reweight(String id, int weight) {
        synchronized (admin) {
            Slot<E> slot = find(id);
            if (slot == null) {
                throw new IllegalArgumentException("router '" + router + "' has no active endpoint with id " + id);
            }
            slot.endpoint(slot.endpoint().withWeight(weight));
        }
    }

    /** The active slot with that id, or null. */
    Slot<E> find(String id) {
        for (Slot<E> s : active) {
            if (s.endpoint().id().equals(id)) {
                return s;
            }
        }
        return null;
    }

    private Slot<E> findDraining(String id) {
        for (Slot<E> s : draining) {
            if (s.endpoint().id().equals(id)) {
                return s;
            }
        }
        return null;
    }

    private Slot<E>[] without(Slot<E> removed) {
        List<Slot<E>> slots = new ArrayList<>(Arrays.asList(active));
        slots.remove(removed);
        return slots.toArray(Slot.<E>array(0));
    }

    /** Why no endpoint may take a call, for {@code NoHealthyEndpointException}. */
    String describeEmpty(boolean retry) {
        Slot<E>[] slots = active;
        if (slots.length == 0) {
            return "router '" + router + "' has no endpoints (all removed or draining)";
        }
        if (retry) {
            return "router '" + router + "' has no untried endpoint left among " + Arrays.toString(slots);
        }
        StringBuilder b = new StringBuilder("router '").append(router)
                .append("' has no healthy endpoint and panic routing is disabled: ");
        for (int i = 0; i < slots.length; i++) {
            b.append(i == 0 ? "" : ", ").append(slots[i].endpoint().id()).append('=').append(slots[i].publicState());
        }
        return b.toString();
    }

    /** Active slots, then draining ones. */
    List<Slot<E>> all() {
        List<Slot<E>> all = new ArrayList<>(Arrays.asList(active));
        synchronized (admin) {
            all.addAll(draining);
        }
        return all;
    }

    List<EndpointStatus<E>> statuses(long now) {
        List<EndpointStatus<E>> out = new ArrayList<>();
        for (Slot<E> s : all()) {
            long saturated = Math.max(0, s.saturatedUntil - now);
            out.add(new EndpointStatus<>(s.endpoint(), s.publicState(), s.outstanding.get(),
                    Duration.ofNanos((long) s.ewmaNanos()), s.consecutiveFailures.get(), s.ejections,
                    s.requests.sum(), s.failures.sum(), Duration.ofNanos(saturated), s.saturations.sum(),
                    s.limiter().limit()));
        }
        return out;
    }
}
