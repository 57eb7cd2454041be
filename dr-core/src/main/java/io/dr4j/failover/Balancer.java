package io.dr4j.failover;

import io.dr4j.failover.FailoverEvent.EjectionReason;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks endpoints and keeps their health: the lock-free core of the router.
 *
 * <p>The hot path ({@link #acquire}, {@link #onSuccess}, {@link #end}) reads one
 * volatile {@link Plan} and updates a few atomics of one {@link Slot}; it allocates nothing of
 * its own. State transitions (ejection, recovery, restoration) happen by compare-and-set on the
 * slot's state, and the thread that wins publishes a freshly computed plan by compare-and-set
 * too. The endpoint set itself is an {@link EndpointSet}.
 *
 * <p>Load is kept apart from health. An endpoint that is saturated (it answered 429, or 503 with
 * {@code Retry-After}) or at its concurrency limit stays in the plan with its state unchanged;
 * the pick merely passes over it, first to another endpoint of the same level, then to the
 * other levels in order of preference. When none is free, {@link #acquire} returns null and the
 * caller waits ({@link #awaitFree}) or fails fast.
 *
 * <p>Why one class of some 630 lines: the pick, the health transitions (eject, expire, restore,
 * probe) and the publication of a new plan all rely on one invariant, that a slot's state and
 * the published plan change only by compare-and-set in the order written here; split over files
 * that invariant would have no single place to be read. The parts that do not touch it are
 * already apart ({@link Slot}, {@link Plan}, {@link EndpointSet}, {@link FreeSignal},
 * {@link SlotMeters}).
 */
final class Balancer<E> {

    private static final Logger LOG = LoggerFactory.getLogger(Balancer.class);

    /** Tunables, validated by the router's builder. */
    public record Settings(String name, int consecutiveFailures, int consecutiveConnectFailures, long baseEjectionNanos, long maxEjectionNanos,
                           double overprovisioning, int panicThreshold, int failbackSuccesses, long trialIntervalNanos,
                           int healthyThreshold, int unhealthyThreshold, long latencyDecayNanos,
                           CircuitBreakerConfig breakerConfig, ConcurrencyLimit concurrencyLimit, MeterRegistry registry,
                           List<FailoverListener> listeners) {
    }

    private final Settings settings;
    private final NanoClock clock;
    private final double tau;
    /** Successes in a row after which the breaker is not told about more (its window size), or MAX_VALUE for time-based windows. */
    private final int breakerElision;
    private final EndpointSet<E> endpoints;
    private final AtomicReference<Plan<E>> plan = new AtomicReference<>();
    private final AtomicLong version = new AtomicLong();
    private final FreeSignal freed = new FreeSignal();

    public Balancer(Settings settings, NanoClock clock, Collection<Endpoint<E>> initial) {
        this.settings = settings;
        this.clock = clock;
        this.tau = settings.latencyDecayNanos();
        CircuitBreakerConfig breakerConfig = settings.breakerConfig();
        this.breakerElision = breakerConfig.getSlidingWindowType() == CircuitBreakerConfig.SlidingWindowType.COUNT_BASED
                ? breakerConfig.getSlidingWindowSize() : Integer.MAX_VALUE;
        long now = clock.read();
        List<Slot<E>> slots = new ArrayList<>();
        for (Endpoint<E> e : initial) {
            slots.add(newSlot(e, now));
        }
        this.endpoints = new EndpointSet<>(settings.name(), slots);
        plan.set(Plan.compute(endpoints.active(), settings.overprovisioning(), settings.panicThreshold(), 0));
    }

    // ---------------------------------------------------------------- hot path

    /**
     * Picks an endpoint for a new attempt (see {@link #acquire}); null when every candidate is
     * saturated or at its limit.
     *
     * @param tried endpoints this call already tried (to be avoided), or null on a first attempt
     * @param triedCount how many entries of {@code tried} are used
     */
    private Slot<E> pick(long now, Slot<E>[] tried, int triedCount) {
        Plan<E> p = plan.get();
        if (p.hasExpiry && now - p.nextExpiry >= 0) {
            expire(p, now);
            p = plan.get();
        }
        if (p.recovering.length != 0) {
            Slot<E> trial = trial(p, now, tried, triedCount);
            if (trial != null) {
                return trial;
            }
        }
        Slot<E>[][] levels = p.levels;
        int n = levels.length;
        if (n != 0 && p.cumulative[n - 1] != 0) {
            int level = 0;
            if (n > 1) {
                int r = ThreadLocalRandom.current().nextInt(100);
                while (r >= p.cumulative[level]) {
                    level++;
                }
            }
            Slot<E> s = choose(levels[level], now, tried, triedCount);
            if (s != null) {
                return s;
            }
            // Nothing free in the level the plan chose (saturated, at its limit, or tried): spill
            // over to the other eligible levels, most preferred first.
            for (int i = 0; i < n; i++) {
                if (i != level) {
                    s = cheapest(levels[i], now, tried, triedCount);
                    if (s != null) {
                        return s;
                    }
                }
            }
        }
        if (tried != null) {
            // A retry may go to any untried endpoint at all once the eligible ones are used up.
            for (Slot<E>[] level : p.allByLevel) {
                Slot<E> s = cheapest(level, now, tried, triedCount);
                if (s != null) {
                    return s;
                }
            }
        }
        if (hasCandidate(n != 0 && p.cumulative[n - 1] != 0 ? levels : null, tried != null ? p.allByLevel : null,
                tried, triedCount)) {
            return null;
        }
        throw new NoHealthyEndpointException(endpoints.describeEmpty(tried != null));
    }

    /**
     * Picks an endpoint and counts the attempt as started on it; the caller must call
     * {@link #end} when the attempt is over. Returns null when every candidate is saturated or
     * at its concurrency limit.
     *
     * <p>A drain marks the slot first and then checks its outstanding count; an attempt counts
     * itself first and then checks the mark. Both are volatile, so either the attempt sees the
     * mark and backs off to pick again, or the drain sees the attempt and waits for it. The
     * concurrency limit is checked the same way: count first, back off if that went over.
     *
     * @throws NoHealthyEndpointException if no endpoint may take the call at all
     */
    public Slot<E> acquire(long now, Slot<E>[] tried, int triedCount) {
        while (true) {
            Slot<E> s = pick(now, tried, triedCount);
            if (s == null) {
                return null;
            }
            int inflight = s.outstanding.incrementAndGet();
            if (s.drained == null && inflight <= s.limiter().limit()) {
                s.requests.increment();
                return s;
            }
            // Backing off frees nothing that was free before: no one to wake.
            release(s);
            Thread.onSpinWait();
        }
    }

    /** Marks the end of an attempt on {@code s}, whatever its outcome. */
    public void end(Slot<E> s) {
        release(s);
        freed.signal();
    }

    private void release(Slot<E> s) {
        int left = s.outstanding.decrementAndGet();
        CompletableFuture<Void> drained = s.drained;
        if (drained != null && left == 0) {
            finishDrain(s);
        }
    }

    public void onSuccess(Slot<E> s, long start, long now) {
        long latency = now - start;
        s.observeLatency(now, latency, tau);
        s.limiter().onSample(start, latency, s.outstanding.get(), false);
        if (s.consecutiveFailures.get() != 0) {
            s.consecutiveFailures.set(0);
        }
        // Once a count-based breaker window holds only successes, more successes cannot change
        // its state: skip them. This keeps resilience4j's per-record allocation (its lock-free
        // window allocates ~200 B a call) off the common path; after a failure every call is
        // recorded again until the window is all successes once more.
        if (s.breakerSuccesses.get() < breakerElision) {
            s.breakerSuccesses.incrementAndGet();
            s.breaker().onSuccess(latency, TimeUnit.NANOSECONDS);
        }
        s.meters().recordSuccess(latency);
        if (s.state.get() == Slot.RECOVERING && s.recoverySuccesses.incrementAndGet() >= settings.failbackSuccesses()) {
            restore(s, Slot.RECOVERING, now);
        }
    }

    /** A failed attempt; {@code counted} is false for caller errors, which say nothing bad about the endpoint. */
    public void onFailure(Slot<E> s, long start, long now, Throwable failure, boolean counted) {
        onFailure(s, start, now, failure, counted, false);
    }

    /**
     * A failed attempt; {@code unreachable} when nothing answered at the endpoint's address
     * (connection refused): then {@code consecutiveConnectFailures} failures in a row eject it,
     * not {@code consecutiveFailures}. The in-flight calls that find a dead endpoint one by one
     * are what makes a region's death slow to see; the first refused connection already says it.
     */
    public void onFailure(Slot<E> s, long start, long now, Throwable failure, boolean counted, boolean unreachable) {
        if (!counted) {
            onSuccess(s, start, now);
            return;
        }
        long latency = now - start;
        s.failures.increment();
        s.observeFailure(now, latency, tau);
        s.limiter().onSample(start, latency, s.outstanding.get(), true);
        s.meters().recordFailure(latency, true);
        int failures = s.consecutiveFailures.incrementAndGet();
        s.breakerSuccesses.set(0);
        CircuitBreaker breaker = s.breaker();
        breaker.onError(latency, TimeUnit.NANOSECONDS, failure);
        int st = s.state.get();
        if (st == Slot.HEALTHY) {
            if (unreachable && failures >= settings.consecutiveConnectFailures()) {
                eject(s, Slot.HEALTHY, EjectionReason.UNREACHABLE, now);
            } else if (failures >= settings.consecutiveFailures()) {
                eject(s, Slot.HEALTHY, EjectionReason.CONSECUTIVE_FAILURES, now);
            } else if (breaker.getState() == CircuitBreaker.State.OPEN) {
                eject(s, Slot.HEALTHY, EjectionReason.FAILURE_RATE, now);
            }
        } else if (st == Slot.RECOVERING) {
            eject(s, Slot.RECOVERING, EjectionReason.RECOVERY_FAILED, now);
        }
    }

    /**
     * A region check found nothing listening at {@code s} (its connection was refused), after a
     * refused attempt on another endpoint of its region or a broken connection to {@code s}
     * itself: it counts as a refused connection in a row, so {@code consecutiveConnectFailures} of them (default 1) eject it. Not an attempt:
     * no latency, breaker or limiter sample, and {@link Slot#failures} does not move.
     */
    public void onRegionCheckRefused(Slot<E> s, long now) {
        if (s.state.get() == Slot.HEALTHY && s.consecutiveFailures.incrementAndGet() >= settings.consecutiveConnectFailures()) {
            eject(s, Slot.HEALTHY, EjectionReason.UNREACHABLE, now);
        }
    }

    /**
     * The endpoint said it is overloaded: leave it alone for {@code forNanos}. Not a failure
     * (no breaker, no ejection, no latency sample, which a fast 429 would distort), but a drop
     * for the adaptive concurrency limit.
     */
    public void onSaturated(Slot<E> s, long start, long now, long forNanos) {
        long latency = now - start;
        s.saturations.increment();
        s.meters().recordSaturation(latency);
        s.limiter().onSample(start, latency, s.outstanding.get(), true);
        long until = now + forNanos;
        long before = s.saturatedUntil;
        if (until - before > 0) {
            s.saturatedUntil = until;
        }
        if (now - before >= 0) {
            emit(new FailoverEvent.Saturated(s.endpoint(), Duration.ofNanos(forNanos)));
        }
    }

    // ---------------------------------------------------------------- waiting for a free endpoint

    /**
     * How long until an endpoint that may take the call is free: 0 when one is only at its
     * concurrency limit (any call that ends may free it), the time until the earliest
     * saturation ends otherwise; -1 when there is no candidate at all.
     */
    public long nanosUntilFree(long now, Slot<E>[] tried, int triedCount) {
        Plan<E> p = plan.get();
        long best = -1;
        for (Slot<E>[] level : tried == null ? p.levels : p.allByLevel) {
            for (Slot<E> s : level) {
                if (tried != null && contains(tried, triedCount, s)) {
                    continue;
                }
                long wait = Math.max(0, s.saturatedUntil - now);
                if (best < 0 || wait < best) {
                    best = wait;
                }
            }
        }
        return best;
    }

    /** Waits until an attempt ends anywhere or {@code nanos} pass, whichever is first. */
    public void awaitFree(long nanos) throws InterruptedException {
        freed.await(nanos);
    }

    /**
     * Runs {@code task} when the next attempt ends (on that thread); it must be quick, and return
     * false when its wait already ended another way (its timer), so that the wake goes to the next.
     */
    /** Callers waiting for an endpoint to free up (see {@link FreeSignal#waiters}). */
    int waitingForFree() {
        return freed.waiters();
    }

    public void onNextFree(BooleanSupplier task) {
        freed.park(task);
    }

    // ---------------------------------------------------------------- selection

    private Slot<E> choose(Slot<E>[] candidates, long now, Slot<E>[] tried, int triedCount) {
        int n = candidates.length;
        if (n == 0) {
            return null;
        }
        if (tried != null) {
            return cheapest(candidates, now, tried, triedCount);
        }
        if (n == 1) {
            Slot<E> only = candidates[0];
            return only.available(now) ? only : null;
        }
        // Power of two choices: two distinct random candidates, the cheaper free one wins.
        ThreadLocalRandom random = ThreadLocalRandom.current();
        int i = random.nextInt(n);
        int j = random.nextInt(n - 1);
        if (j >= i) {
            j++;
        }
        Slot<E> a = candidates[i];
        Slot<E> b = candidates[j];
        boolean aFree = a.available(now);
        boolean bFree = b.available(now);
        if (aFree && bFree) {
            return a.cost(now, tau) <= b.cost(now, tau) ? a : b;
        }
        if (aFree) {
            return a;
        }
        if (bFree) {
            return b;
        }
        // Both busy: the cheapest free one of the level, before spilling to another level.
        return cheapest(candidates, now, null, 0);
    }

    /** The cheapest free candidate not yet tried, or null. */
    private Slot<E> cheapest(Slot<E>[] candidates, long now, Slot<E>[] tried, int triedCount) {
        Slot<E> best = null;
        double bestCost = 0;
        for (Slot<E> s : candidates) {
            if (s.available(now) && (tried == null || !contains(tried, triedCount, s))) {
                double c = s.cost(now, tau);
                if (best == null || c < bestCost) {
                    best = s;
                    bestCost = c;
                }
            }
        }
        return best;
    }

    private static <E> boolean hasCandidate(Slot<E>[][] eligible, Slot<E>[][] all, Slot<E>[] tried, int triedCount) {
        for (Slot<E>[][] group : java.util.Arrays.asList(eligible, all)) {
            if (group == null) {
                continue;
            }
            for (Slot<E>[] level : group) {
                for (Slot<E> s : level) {
                    if (tried == null || !contains(tried, triedCount, s)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private Slot<E> trial(Plan<E> p, long now, Slot<E>[] tried, int triedCount) {
        for (Slot<E> s : p.recovering) {
            long due = s.nextTrialAt.get();
            if (now - due >= 0 && s.state.get() == Slot.RECOVERING && s.available(now)
                    && (tried == null || !contains(tried, triedCount, s))
                    && s.nextTrialAt.compareAndSet(due, now + settings.trialIntervalNanos())) {
                return s;
            }
        }
        return null;
    }

    private static boolean contains(Object[] array, int count, Object o) {
        for (int i = 0; i < count; i++) {
            if (array[i] == o) {
                return true;
            }
        }
        return false;
    }

    // ---------------------------------------------------------------- state machine

    private void eject(Slot<E> s, int from, EjectionReason reason, long now) {
        if (!s.state.compareAndSet(from, Slot.EJECTED)) {
            return;
        }
        int n = s.ejections;
        if (from == Slot.HEALTHY) {
            // The multiplier decays by one for each maximum ejection time spent healthy, as Envoy's does per interval.
            long healthyFor = Math.max(0, now - s.restoredAt);
            n = (int) Math.max(0, n - healthyFor / settings.maxEjectionNanos());
        }
        n++;
        s.ejections = n;
        long base = settings.baseEjectionNanos();
        long duration = n > settings.maxEjectionNanos() / base ? settings.maxEjectionNanos() : Math.min(base * n, settings.maxEjectionNanos());
        s.ejectedUntil = now + duration;
        s.consecutiveFailures.set(0);
        publish();
        emit(new FailoverEvent.Ejected(s.endpoint(), reason, Duration.ofNanos(duration), n));
    }

    private void markUnhealthy(Slot<E> s) {
        if (s.state.compareAndSet(Slot.HEALTHY, Slot.UNHEALTHY)) {
            publish();
            emit(new FailoverEvent.Ejected(s.endpoint(), EjectionReason.HEALTH_CHECK, Duration.ZERO, s.ejections));
        }
    }

    private void restore(Slot<E> s, int from, long now) {
        if (!s.state.compareAndSet(from, Slot.HEALTHY)) {
            return;
        }
        s.restoredAt = now;
        s.consecutiveFailures.set(0);
        s.resetLatency(now);
        // Old failures must not re-open the breaker on the first new one.
        s.breaker().reset();
        s.breakerSuccesses.set(0);
        publish();
        emit(new FailoverEvent.Restored(s.endpoint()));
    }

    private void expire(Plan<E> p, long now) {
        for (Slot<E> s : p.ejected) {
            if (s.state.get() == Slot.EJECTED && now - s.ejectedUntil >= 0) {
                int target = s.probeHealthy ? Slot.RECOVERING : Slot.UNHEALTHY;
                if (target == Slot.RECOVERING) {
                    s.recoverySuccesses.set(0);
                    s.nextTrialAt.set(now);
                }
                s.state.compareAndSet(Slot.EJECTED, target);
            }
        }
        // Publish even when nothing expired: the plan's expiry time may have been read before an ejection set it.
        publish();
    }

    /** Feeds one active probe result; called by the single probing task only. */
    public void onProbe(Slot<E> s, boolean healthy, long now) {
        if (healthy) {
            s.probeFailures = 0;
            s.probeSuccesses++;
            if (!s.probeHealthy && s.probeSuccesses >= settings.healthyThreshold()) {
                s.probeHealthy = true;
            }
            int st = s.state.get();
            if (st == Slot.UNHEALTHY && s.probeHealthy) {
                restore(s, Slot.UNHEALTHY, now);
            } else if (st == Slot.RECOVERING && s.recoverySuccesses.incrementAndGet() >= settings.failbackSuccesses()) {
                restore(s, Slot.RECOVERING, now);
            }
        } else {
            s.probeSuccesses = 0;
            s.probeFailures++;
            if (s.probeHealthy && s.probeFailures >= settings.unhealthyThreshold()) {
                s.probeHealthy = false;
            }
            int st = s.state.get();
            if (st == Slot.HEALTHY && !s.probeHealthy) {
                markUnhealthy(s);
            } else if (st == Slot.RECOVERING) {
                eject(s, Slot.RECOVERING, EjectionReason.RECOVERY_FAILED, now);
            }
        }
    }

    /**
     * Publishes a plan that reflects every state change announced so far. Lock-free: announce
     * by bumping the version, then keep computing and CAS-publishing until the published plan is
     * at least as new as the announcement.
     */
    private void publish() {
        long wanted = version.incrementAndGet();
        while (true) {
            Plan<E> current = plan.get();
            if (current.version >= wanted) {
                return;
            }
            long seen = version.get();
            Plan<E> next = Plan.compute(endpoints.active(), settings.overprovisioning(), settings.panicThreshold(), seen);
            if (plan.compareAndSet(current, next)) {
                announce(current, next);
                if (seen >= wanted) {
                    return;
                }
            }
        }
    }

    private void announce(Plan<E> before, Plan<E> after) {
        if (before.panic != after.panic) {
            emit(new FailoverEvent.Panic(after.panic, after.healthPercent));
        }
        if (!before.sameSplit(after) && before.load.length > 0 && after.load.length > 0
                && Arrays.equals(before.priorities, after.priorities)) {
            emit(new FailoverEvent.Failover(after.priorityList(), before.loadList(), after.loadList()));
        }
    }

    private void emit(FailoverEvent event) {
        LOG.debug("router '{}': {}", settings.name(), event);
        for (FailoverListener listener : settings.listeners()) {
            try {
                listener.onEvent(event);
            } catch (RuntimeException e) {
                LOG.warn("router '{}': listener {} failed on {}", settings.name(), listener, event, e);
            }
        }
    }

    // ---------------------------------------------------------------- endpoint set

    private Slot<E> newSlot(Endpoint<E> e, long now) {
        CircuitBreaker breaker = CircuitBreaker.of(settings.name() + "/" + e.id(), settings.breakerConfig());
        MeterRegistry registry = settings.registry();
        return new Slot<>(e, breaker, EndpointLimiter.of(settings.concurrencyLimit()), slot -> registry == null
                ? SlotMeters.disabled()
                : SlotMeters.register(registry, settings.name(), e, slot, clock), now);
    }

    /** Adds an endpoint; it takes traffic at once. */
    public void add(Endpoint<E> endpoint) {
        endpoints.add(endpoint, e -> newSlot(e, clock.read()));
        publish();
    }

    /** Removes an endpoint at once; its in-flight calls finish normally. Returns false if unknown. */
    public boolean remove(String id) {
        Slot<E> removed = endpoints.remove(id);
        if (removed == null) {
            return false;
        }
        publish();
        removed.meters().remove();
        return true;
    }

    /** Stops new calls to an endpoint; the future completes (and the endpoint is gone) when its in-flight calls end. */
    public CompletableFuture<Void> drain(String id) {
        Slot<E> slot = endpoints.drain(id);
        publish();
        if (slot.outstanding.get() == 0) {
            finishDrain(slot);
        }
        return slot.drained;
    }

    private void finishDrain(Slot<E> s) {
        if (endpoints.finishDrain(s)) {
            s.meters().remove();
            s.drained.complete(null);
        }
    }

    /** Changes an endpoint's weight. */
    public void reweight(String id, int weight) {
        endpoints.reweight(id, weight);
        publish();
    }

    /** The active slot with that id, or null. */
    public Slot<E> find(String id) {
        return endpoints.find(id);
    }

    // ---------------------------------------------------------------- views

    /** Endpoints that may be probed (active, not draining). */
    public Slot<E>[] activeSlots() {
        return endpoints.active();
    }

    public Plan<E> plan() {
        return plan.get();
    }

    /** Applies due time-based transitions (ejection expiry) without picking. */
    public void tick() {
        Plan<E> p = plan.get();
        long now = clock.read();
        if (p.hasExpiry && now - p.nextExpiry >= 0) {
            expire(p, now);
        }
    }

    public List<EndpointStatus<E>> statuses() {
        return endpoints.statuses(clock.read());
    }

    /** Removes all meters; the balancer must not be used afterwards. */
    public void close() {
        for (Slot<E> s : endpoints.all()) {
            s.meters().remove();
        }
    }

    public String name() {
        return Objects.requireNonNull(settings.name());
    }
}
