package io.dr4j.failover;

import io.micrometer.core.instrument.Counter;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends calls to a set of {@link Endpoint}s in several regions and keeps them going when some
 * fail: the failover-aware client core of dr4j, generic over what an endpoint is ({@code E}).
 *
 * <h2>Selection</h2>
 * Endpoints are grouped by priority level (0 first). Within a level, power of two choices: two
 * random endpoints, the one with the lower (outstanding calls + 1) × latency EWMA ÷ weight wins.
 * Across levels, Envoy's spill-over: a level's health is min(100 %, overprovisioning (1.4) ×
 * its healthy share), it takes that percentage of the traffic and the rest spills to the next
 * level. Below the panic threshold (default 50 % overall health) the router panics and spreads
 * calls over all endpoints, healthy or not, rather than failing everything.
 *
 * <h2>Failure handling</h2>
 * Each endpoint has a resilience4j {@code CircuitBreaker} (failure rate) and a consecutive
 * failure counter (default 5); either ejects it for {@code baseEjectionTime × ejections}, capped
 * at {@code maxEjectionTime}. When the ejection runs out the endpoint is recovering: it gets one
 * trial call per {@code trialInterval} (and counts health probes) and returns to rotation only
 * after {@code failbackSuccesses} successes in a row — the hysteresis that prevents flapping; a
 * failure while recovering ejects it again, for longer. Optional active health probes eject an
 * endpoint after {@code unhealthyThreshold} failed probes and restore it after
 * {@code healthyThreshold} good ones. A {@link FailureClassifier} says which failures count.
 *
 * <h2>Overload is not an outage</h2>
 * An endpoint that answers 429, or 503 with {@code Retry-After} ({@link EndpointSaturatedException},
 * {@link FailureClassifier.Verdict#SATURATED}) is <em>saturated</em>: left out of selection for
 * the advised time (capped; a default when it gave none), but neither ejected nor counted by its
 * breaker, and its state stays healthy. Calls go to the free endpoints of the same priority first,
 * then spill over to the next levels. An optional per-endpoint {@link ConcurrencyLimit} (fixed,
 * or adaptive with Netflix's Vegas and gradient algorithms) keeps the router from sending more
 * than an endpoint can take. When every endpoint is saturated or at its limit, a call waits up
 * to {@link FailoverRouterBuilder#whenAllSaturated} for the earliest, or fails with
 * {@link AllEndpointsSaturatedException}. Retrying after a saturation answer spends the retry
 * budget like any retry, so overload is never amplified.
 *
 * <h2>Retries and hedging</h2>
 * Only calls marked idempotent ({@link #callIdempotent}, {@link #callIdempotentAsync}) are
 * retried, on another endpoint (Failsafe), at most {@code maxAttempts} in all, and only while the
 * retry budget (20 % of recent calls plus 10 per second, by default) allows, so retries cannot
 * multiply the load of an outage. Asynchronous idempotent calls can be hedged
 * ({@link HedgePolicy}): a backup copy after the observed latency percentile, paid from the same
 * budget; the first success wins and the loser is cancelled.
 *
 * <h2>A warm failure path</h2>
 * A router may serve for days without a failure; when a region dies, its failure path would run
 * for the first time, cold. {@code build()} therefore runs it once in memory on throwaway routers
 * (never on the configured endpoints; {@link FailoverRouterBuilder#warmUp}), and
 * {@link FailoverHttpClient} sends one request to a closed loopback port.
 *
 * <h2>Elasticity</h2>
 * Endpoints can be added, removed, drained and re-weighted while calls run; in-flight calls are
 * never dropped.
 *
 * <p>Thread-safe. Picking and recording are lock-free and allocate nothing on the first attempt
 * of a call. The breaker (a lock-free resilience4j window, which allocates per record) is told
 * about every failure and about successes until its count-based window holds only successes;
 * more successes could not change its state, so they are not recorded (its own success counts
 * therefore undercount). {@link #close()} stops the probes and shuts down the scheduler if the
 * router created it.
 *
 * <p>The parts: {@link FailoverRouterBuilder} and {@link FailoverRouterConfig} (options),
 * {@code RouterCore} (outcomes, budget, waiting, the synchronous loops), {@code AsyncCalls}
 * (asynchronous calls and hedging), {@code HealthProber} (active probes), {@code RegionCheck} and
 * {@code ConnectionWatch} (a refusal or a lost held connection checks the region), and the package-private,
 * lock-free {@code Balancer} with its {@code Plan},
 * {@code Slot}s and {@code EndpointSet}. Time comes from the configured {@link java.time.Clock}.
 *
 * @param <E> the endpoint payload type
 */
public final class FailoverRouter<E> implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(FailoverRouter.class);

    private final FailoverRouterConfig<E> config;
    private final Balancer<E> balancer;
    private final NanoClock clock;
    private final RouterCore<E> core;
    private final AsyncCalls<E> async;
    private final ScheduledExecutorService scheduler;
    private final boolean ownsScheduler;
    private final ScheduledFuture<?> probes;
    private volatile boolean closed;
    private final CompletableFuture<WarmUp.Result> warmedUp;
    /** Null when off. */
    private final RegionCheck<E> regionCheck;
    /** Null when off. */
    private final ConnectionWatch<E> watch;

    FailoverRouter(FailoverRouterConfig<E> c) {
        // Before this router exists: the warm-up runs on throwaway routers only, and nothing of this one can be reached yet.
        this.warmedUp = !c.warmUp ? CompletableFuture.completedFuture(WarmUp.Result.SKIPPED)
                : WarmUp.start("router '" + c.name + "'", c.connectionWatch ? () -> WarmUp.router() + WarmUp.watch() : WarmUp::router);
        this.config = c;
        this.clock = NanoClock.of(c.clock);
        long now = clock.read();
        this.balancer = new Balancer<>(new Balancer.Settings(c.name, c.consecutiveFailures, c.consecutiveConnectFailures, c.baseEjection.toNanos(),
                c.maxEjection.toNanos(), c.overprovisioning, c.panicThreshold, c.failbackSuccesses, c.trialInterval.toNanos(),
                c.healthyThreshold, c.unhealthyThreshold, c.latencyDecay.toNanos(), c.breakerConfig(), c.concurrencyLimit,
                c.registry, c.listeners), clock, c.endpoints);
        LatencyHistogram latencies = c.hedge == null ? null
                : new LatencyHistogram(c.hedge.percentile(), TimeUnit.SECONDS.toNanos(1), HedgePolicy.MIN_SAMPLES, now);
        boolean needsScheduler = c.healthCheck != null || c.hedge != null || !c.maxSaturationWait.isZero();
        this.ownsScheduler = c.scheduler == null && needsScheduler;
        // Probes block their thread (one endpoint after another); a second thread keeps async
        // retries, hedges and saturation waits from queueing behind them.
        AtomicInteger threads = new AtomicInteger();
        this.scheduler = c.scheduler != null ? c.scheduler : ownsScheduler
                ? Executors.newScheduledThreadPool(c.healthCheck != null ? 2 : 1, r -> {
                    Thread t = new Thread(r, "dr4j-failover-" + c.name + "-" + threads.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                }) : null;
        Counter retries = c.registry == null ? null : Counter.builder("dr4j.failover.retries").tag("router", c.name)
                .description("retries on another endpoint").register(c.registry);
        Counter hedges = c.registry == null ? null : Counter.builder("dr4j.failover.hedges").tag("router", c.name)
                .description("hedged (backup) attempts").register(c.registry);
        this.regionCheck = c.regionCheck == null ? null : new RegionCheck<>(balancer, c.regionCheck, c.classifier, clock);
        this.core = new RouterCore<>(c.name, balancer, clock, c, latencies, retries, regionCheck);
        this.watch = c.connectionWatch && regionCheck != null ? ConnectionWatch.start(balancer, regionCheck) : null;
        this.async = new AsyncCalls<>(core, c.hedge, scheduler, hedges);
        if (c.healthCheck != null) {
            long interval = c.probeInterval.toNanos();
            this.probes = scheduler.scheduleWithFixedDelay(new HealthProber<>(balancer, c.healthCheck, clock, () -> closed),
                    interval, interval, TimeUnit.NANOSECONDS);
        } else {
            this.probes = null;
        }
    }

    /** A builder; at least one endpoint is required, every other option has a default. */
    public static <E> FailoverRouterBuilder<E> builder() {
        return new FailoverRouterBuilder<>();
    }

    /** The settings this router was built with. */
    public FailoverRouterConfig<E> config() {
        return config;
    }

    // ---------------------------------------------------------------- calls

    /**
     * Runs a call that must not be repeated (not idempotent) once, on the endpoint the router
     * picks, and records the outcome.
     *
     * @return the call's result
     * @throws NoHealthyEndpointException if no endpoint may take the call
     * @throws AllEndpointsSaturatedException if every endpoint is saturated or at its limit for longer than the call may wait
     * @throws EndpointCallException if the call failed in a way that counts against the endpoint, or was refused as saturated
     * @throws StreamInterruptedException passed through from the call
     * @throws RuntimeException a caller error (per the classifier) thrown by the call, unchanged
     */
    public <T> T call(EndpointCall<E, T> call) {
        checkOpen();
        return core.call(call);
    }

    /**
     * Runs an idempotent call: like {@link #call}, but a failure that the classifier deems
     * retryable, or a saturation answer, is retried on another endpoint while attempts and the
     * retry budget remain.
     */
    public <T> T callIdempotent(EndpointCall<E, T> call) {
        checkOpen();
        return core.callIdempotent(call);
    }

    /** Package-private for the stream resumer: an idempotent call that pays one retry token and avoids {@code endpointId}. */
    <T> T callIdempotentElsewhere(String endpointId, EndpointCall<E, T> call) {
        checkOpen();
        return core.callIdempotentElsewhere(endpointId, call);
    }

    /**
     * Starts a call that must not be repeated, once, asynchronously. The future fails as
     * {@link #call} would throw.
     */
    public <T> CompletableFuture<T> callAsync(AsyncEndpointCall<E, T> call) {
        checkOpen();
        return async.call(call);
    }

    /**
     * Starts an idempotent call asynchronously: retried on another endpoint like
     * {@link #callIdempotent}, and hedged if a {@link HedgePolicy} is configured. Cancelling or
     * timing out the returned future ({@code orTimeout}) cancels the attempts in flight and stops
     * retrying. Waiting for a saturated endpoint happens on the scheduler, never blocking.
     */
    public <T> CompletableFuture<T> callIdempotentAsync(AsyncEndpointCall<E, T> call) {
        checkOpen();
        return async.callIdempotent(call);
    }

    // ---------------------------------------------------------------- endpoint set

    /**
     * Adds an endpoint at run time; it takes traffic at once.
     *
     * @throws IllegalArgumentException if an endpoint (active or draining) has the same id
     */
    public void addEndpoint(Endpoint<E> endpoint) {
        checkOpen();
        balancer.add(Objects.requireNonNull(endpoint, "endpoint"));
    }

    /**
     * Removes an endpoint at once: it gets no new calls; calls in flight on it finish normally.
     *
     * @return false if no endpoint has that id
     */
    public boolean removeEndpoint(String id) {
        return balancer.remove(id);
    }

    /**
     * Drains an endpoint: it gets no new calls, and the returned future completes when its calls
     * in flight have finished, at which point it is removed.
     *
     * @throws IllegalArgumentException if no endpoint has that id
     */
    public CompletableFuture<Void> drainEndpoint(String id) {
        return balancer.drain(id);
    }

    /**
     * Changes an endpoint's weight (1 to {@value Endpoint#MAX_WEIGHT}).
     *
     * @throws IllegalArgumentException if no active endpoint has that id, or the weight is out of range
     */
    public void reweightEndpoint(String id, int weight) {
        if (weight < 1 || weight > Endpoint.MAX_WEIGHT) {
            throw new IllegalArgumentException("weight of endpoint " + id + " must be 1 to " + Endpoint.MAX_WEIGHT + ", was " + weight);
        }
        balancer.reweight(id, weight);
    }

    // ---------------------------------------------------------------- views

    /** What the warm-up at build time did; package-private, for tests. */
    WarmUp.Result warmedUp() {
        return warmedUp.join();
    }

    /** Calls waiting right now for an endpoint to free up; package-private, for tests that await a queued call. */
    int waitingForFree() {
        return balancer.waitingForFree();
    }

    /** The state of every endpoint (active and draining). */
    public List<EndpointStatus<E>> endpoints() {
        return balancer.statuses();
    }

    /** Package-private, for tests: whether a region check of {@code id} is running (its outcome not yet applied). */
    /**
     * Suspends the default (TCP-connect) region check, with the reason logged, if that is the
     * check in use; a check the application configured stays. For a {@link FailoverHttpClient}
     * whose HTTP client goes through a proxy: there a direct connect to an endpoint says nothing
     * about whether the proxy reaches it, and a refused direct connect must not eject it.
     *
     * @return whether the region check is now off
     */
    boolean suspendDefaultRegionCheck(String why) {
        if (regionCheck != null && config().regionCheckIsDefault) {
            regionCheck.suspend();
            LOG.info("router {}: default region check off: {}", config().name(), why);
        }
        return regionCheck == null || regionCheck.suspended();
    }

    /** Whether a region check runs after refusals and broken connections (configured and not suspended). */
    boolean regionCheckActive() {
        return regionCheck != null && !regionCheck.suspended();
    }

    boolean regionCheckRunning(String id) {
        Slot<E> slot = balancer.find(id);
        return slot != null && slot.regionCheckRunning.get();
    }

    /** The state of one endpoint. */
    public Optional<EndpointStatus<E>> endpoint(String id) {
        return balancer.statuses().stream().filter(s -> s.endpoint().id().equals(id)).findFirst();
    }

    /** The percentage of new calls each priority level takes now, keyed by priority in preference order. */
    public SortedMap<Integer, Integer> priorityLoad() {
        var plan = balancer.plan();
        SortedMap<Integer, Integer> load = new TreeMap<>();
        List<Integer> priorities = plan.priorityList();
        List<Integer> shares = plan.loadList();
        for (int i = 0; i < priorities.size(); i++) {
            load.put(priorities.get(i), shares.get(i));
        }
        return load;
    }

    /** Whether the router is in panic mode (too few healthy endpoints: calls go to all of them). */
    public boolean inPanic() {
        return balancer.plan().panic();
    }

    /** Whole retry tokens available now. */
    public long retryBudgetAvailable() {
        return core.budget.available(clock.read());
    }

    /** Retries (and hedges) refused by the budget so far. */
    public long retriesRefused() {
        return core.budget.refused();
    }

    /** Stops health probes, the region check and the connection watch (closing its connections) and, if the router created its scheduler, shuts it down. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (probes != null) {
            probes.cancel(false);
        }
        if (ownsScheduler) {
            scheduler.shutdownNow();
            try {
                if (!scheduler.awaitTermination(5, TimeUnit.SECONDS)) {
                    LOG.warn("router '{}': scheduler did not stop within 5 s", balancer.name());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (watch != null) {
            watch.close();
        }
        if (regionCheck != null) {
            regionCheck.close();
        }
        balancer.close();
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("router '" + balancer.name() + "' is closed");
        }
    }
}
