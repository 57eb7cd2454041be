package io.dr4j.failover;

import dev.failsafe.Failsafe;
import dev.failsafe.FailsafeException;
import dev.failsafe.FailsafeExecutor;
import dev.failsafe.RetryPolicy;
import io.dr4j.failover.FailureClassifier.Verdict;
import io.dr4j.failover.internal.Balancer;
import io.dr4j.failover.internal.LatencyHistogram;
import io.dr4j.failover.internal.RetryBudget;
import io.dr4j.failover.internal.Slot;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
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
 * <h2>Retries and hedging</h2>
 * Only calls marked idempotent ({@link #callIdempotent}, {@link #callIdempotentAsync}) are
 * retried, on another endpoint (Failsafe), at most {@code maxAttempts} in all, and only while the
 * retry budget (20 % of recent calls plus 10 per second, by default) allows, so retries cannot
 * multiply the load of an outage. Asynchronous idempotent calls can be hedged
 * ({@link HedgePolicy}): a backup copy after the observed latency percentile, paid from the same
 * budget; the first success wins and the loser is cancelled.
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
 * @param <E> the endpoint payload type
 */
public final class FailoverRouter<E> implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(FailoverRouter.class);

    private final Balancer<E> balancer;
    private final Ticker ticker;
    private final FailureClassifier classifier;
    private final int maxAttempts;
    private final RetryBudget budget;
    private final HedgePolicy hedge;
    private final LatencyHistogram latencies;
    private final ScheduledExecutorService scheduler;
    private final boolean ownsScheduler;
    private final ScheduledFuture<?> probes;
    private final FailsafeExecutor<Object> retrier;
    private final FailsafeExecutor<Object> asyncRetrier;
    private final Counter retries;
    private final Counter hedges;
    private volatile boolean closed;

    private FailoverRouter(Builder<E> b) {
        this.ticker = b.ticker;
        this.classifier = b.classifier;
        this.maxAttempts = b.maxAttempts;
        this.hedge = b.hedge;
        long now = ticker.read();
        CircuitBreakerConfig breakerConfig = b.breakerConfig != null ? b.breakerConfig : defaultBreakerConfig();
        this.balancer = new Balancer<>(new Balancer.Settings(b.name, b.consecutiveFailures, b.baseEjection.toNanos(),
                b.maxEjection.toNanos(), b.overprovisioning, b.panicThreshold, b.failbackSuccesses, b.trialInterval.toNanos(),
                b.healthyThreshold, b.unhealthyThreshold, b.latencyDecay.toNanos(), breakerConfig, b.registry,
                List.copyOf(b.listeners)), ticker, b.endpoints);
        this.budget = new RetryBudget(b.budgetPercent, b.budgetMinPerSecond, b.budgetTtl.toNanos(), now);
        this.latencies = hedge == null ? null
                : new LatencyHistogram(hedge.percentile(), TimeUnit.SECONDS.toNanos(1), HedgePolicy.MIN_SAMPLES, now);
        boolean needsScheduler = b.healthCheck != null || hedge != null;
        this.ownsScheduler = b.scheduler == null && needsScheduler;
        this.scheduler = b.scheduler != null ? b.scheduler : ownsScheduler ? Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "dr4j-failover-" + b.name);
            t.setDaemon(true);
            return t;
        }) : null;
        // The synchronous path makes its first attempt before Failsafe (so that the common case
        // allocates nothing), hence one attempt fewer there.
        this.retrier = Failsafe.with(retryPolicy(maxAttempts - 1));
        FailsafeExecutor<Object> async = Failsafe.with(retryPolicy(maxAttempts));
        this.asyncRetrier = scheduler != null ? async.with(scheduler) : async;
        this.retries = b.registry == null ? null : Counter.builder("dr4j.failover.retries").tag("router", b.name)
                .description("retries on another endpoint").register(b.registry);
        this.hedges = b.registry == null ? null : Counter.builder("dr4j.failover.hedges").tag("router", b.name)
                .description("hedged (backup) attempts").register(b.registry);
        if (b.healthCheck != null) {
            HealthCheck<E> check = b.healthCheck;
            long interval = b.probeInterval.toNanos();
            this.probes = scheduler.scheduleWithFixedDelay(() -> probeAll(check), interval, interval, TimeUnit.NANOSECONDS);
        } else {
            this.probes = null;
        }
    }

    /** A builder; at least one endpoint is required. */
    public static <E> Builder<E> builder() {
        return new Builder<>();
    }

    private static RetryPolicy<Object> retryPolicy(int attempts) {
        return RetryPolicy.builder()
                .handleIf((result, failure) -> failure != null && unwrap(failure) instanceof AttemptFailed af && af.retryable)
                .withMaxAttempts(Math.max(1, attempts))
                .build();
    }

    private static CircuitBreakerConfig defaultBreakerConfig() {
        return CircuitBreakerConfig.custom()
                .failureRateThreshold(50)
                .slidingWindow(20, 20, CircuitBreakerConfig.SlidingWindowType.COUNT_BASED,
                        CircuitBreakerConfig.SlidingWindowSynchronizationStrategy.LOCK_FREE)
                .writableStackTraceEnabled(false)
                .build();
    }

    // ---------------------------------------------------------------- calls

    /**
     * Runs a call that must not be repeated (not idempotent) once, on the endpoint the router
     * picks, and records the outcome.
     *
     * @return the call's result
     * @throws NoHealthyEndpointException if no endpoint may take the call
     * @throws EndpointCallException if the call failed in a way that counts against the endpoint
     * @throws StreamInterruptedException passed through from the call
     * @throws RuntimeException a caller error (per the classifier) thrown by the call, unchanged
     */
    public <T> T call(EndpointCall<E, T> call) {
        checkOpen();
        long start = ticker.read();
        Slot<E> slot = balancer.acquire(start, null, 0);
        budget.deposit(start);
        try {
            return attempt(slot, call, start);
        } catch (AttemptFailed failed) {
            throw finalFailure(List.of(slot.endpoint().id()), List.of(failed.getCause()), failed.verdict, false);
        }
    }

    /**
     * Runs an idempotent call: like {@link #call}, but a failure that the classifier deems
     * retryable is retried on another endpoint while attempts and the retry budget remain.
     */
    public <T> T callIdempotent(EndpointCall<E, T> call) {
        checkOpen();
        long start = ticker.read();
        Slot<E> first = balancer.acquire(start, null, 0);
        budget.deposit(start);
        try {
            return attempt(first, call, start);
        } catch (AttemptFailed failed) {
            if (!failed.retryable || maxAttempts == 1) {
                throw finalFailure(List.of(first.endpoint().id()), List.of(failed.getCause()), failed.verdict, false);
            }
            // Failsafe only enters once a first attempt failed, so the common path stays allocation-free.
            Attempts<E> attempts = new Attempts<>(maxAttempts);
            attempts.add(first, failed);
            try {
                return retrier.get(() -> {
                    Slot<E> slot = nextSlot(attempts);
                    attempts.add(slot, null);
                    long now = ticker.read();
                    try {
                        return attempt(slot, call, now);
                    } catch (AttemptFailed f) {
                        attempts.failed(f);
                        throw f;
                    }
                });
            } catch (AttemptFailed | RetryRefused last) {
                throw attempts.finalFailure();
            } catch (FailsafeException e) {
                throw attempts.finalFailure();
            }
        }
    }

    /**
     * Starts a call that must not be repeated, once, asynchronously. The future fails as
     * {@link #call} would throw.
     */
    public <T> CompletableFuture<T> callAsync(AsyncEndpointCall<E, T> call) {
        checkOpen();
        long start = ticker.read();
        Slot<E> slot;
        try {
            slot = balancer.acquire(start, null, 0);
        } catch (NoHealthyEndpointException e) {
            return CompletableFuture.failedFuture(e);
        }
        budget.deposit(start);
        Attempts<E> attempts = new Attempts<>(1);
        Group<T> group = new Group<>();
        attempts.current = group;
        launch(group, slot, call, attempts);
        CompletableFuture<T> result = new CompletableFuture<>();
        group.out.whenComplete((r, t) -> {
            if (t == null) {
                result.complete(r);
            } else {
                result.completeExceptionally(attempts.finalFailure());
            }
        });
        result.whenComplete((r, t) -> {
            if (t != null) {
                group.cancelAll();
            }
        });
        return result;
    }

    /**
     * Starts an idempotent call asynchronously: retried on another endpoint like
     * {@link #callIdempotent}, and hedged if a {@link HedgePolicy} is configured. Cancelling or
     * timing out the returned future ({@code orTimeout}) cancels the attempts in flight and stops
     * retrying.
     */
    public <T> CompletableFuture<T> callIdempotentAsync(AsyncEndpointCall<E, T> call) {
        checkOpen();
        Attempts<E> attempts = new Attempts<>(maxAttempts * (1 + (hedge == null ? 0 : hedge.maxHedges())));
        long start = ticker.read();
        Slot<E> first;
        try {
            first = balancer.acquire(start, null, 0);
        } catch (NoHealthyEndpointException e) {
            return CompletableFuture.failedFuture(e);
        }
        budget.deposit(start);
        CompletableFuture<T> result = new CompletableFuture<>();
        AtomicInteger round = new AtomicInteger();
        CompletableFuture<T> execution = asyncRetrier.getStageAsync(() -> {
            boolean firstRound = round.getAndIncrement() == 0;
            if (result.isDone()) {
                if (firstRound) {
                    balancer.end(first);
                }
                throw new CancellationException("call completed or cancelled by the caller");
            }
            Slot<E> slot = firstRound ? first : nextSlot(attempts);
            Group<T> group = new Group<>();
            attempts.current = group;
            launch(group, slot, call, attempts);
            scheduleHedge(group, call, attempts);
            return group.out;
        });
        execution.whenComplete((r, t) -> {
            if (t == null) {
                result.complete(r);
            } else {
                result.completeExceptionally(attempts.finalFailure());
            }
        });
        result.whenComplete((r, t) -> {
            if (t != null && round.compareAndSet(0, 1)) {
                // Cancelled before Failsafe ran the first attempt: release the slot acquired for it.
                balancer.end(first);
            }
            if (t != null && !execution.isDone()) {
                execution.cancel(true);
                Group<?> g = attempts.current;
                if (g != null) {
                    g.cancelAll();
                }
            }
        });
        return result;
    }

    /** One synchronous attempt on an acquired slot, with bookkeeping; failures come out as {@link AttemptFailed}. */
    private <T> T attempt(Slot<E> slot, EndpointCall<E, T> call, long start) {
        try {
            T result = call.call(slot.endpoint());
            balancer.onSuccess(slot, start, ticker.read());
            if (latencies != null) {
                latencies.record(ticker.read() - start);
            }
            return result;
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                // Whoever threw it cleared the flag; the caller's thread must still know.
                Thread.currentThread().interrupt();
            }
            Verdict verdict = classifier.classify(e);
            balancer.onFailure(slot, start, ticker.read(), e, verdict != Verdict.CALLER_ERROR);
            throw new AttemptFailed(e, verdict);
        } finally {
            balancer.end(slot);
        }
    }

    /** Acquires the endpoint for a retry or hedge: another endpoint, paid from the budget. */
    private Slot<E> nextSlot(Attempts<E> attempts) {
        long now = ticker.read();
        if (!budget.tryWithdraw(now)) {
            attempts.budgetRefused = true;
            throw new RetryRefused();
        }
        Slot<E> slot;
        try {
            slot = attempts.pick(balancer, now);
        } catch (NoHealthyEndpointException e) {
            throw new RetryRefused();
        }
        if (retries != null) {
            retries.increment();
        }
        return slot;
    }

    /** Starts an async attempt on an acquired slot; its completion does the bookkeeping and releases the slot. */
    private <T> void launch(Group<T> group, Slot<E> slot, AsyncEndpointCall<E, T> call, Attempts<E> attempts) {
        long start = ticker.read();
        attempts.add(slot, null);
        group.pending.incrementAndGet();
        CompletableFuture<T> future;
        try {
            future = Objects.requireNonNull(call.call(slot.endpoint()), "the call returned a null future");
        } catch (RuntimeException e) {
            future = CompletableFuture.failedFuture(e);
        }
        group.add(future);
        future.whenComplete((result, failure) -> {
            long now = ticker.read();
            try {
                if (failure == null) {
                    balancer.onSuccess(slot, start, now);
                    if (latencies != null) {
                        latencies.record(now - start);
                    }
                    if (group.out.complete(result)) {
                        group.cancelAll();
                    }
                    return;
                }
                Throwable cause = unwrap(failure);
                if (group.out.isDone()) {
                    // The loser of a hedge, cancelled by us: says nothing about the endpoint, good or bad.
                    return;
                }
                Verdict verdict = classifier.classify(cause);
                balancer.onFailure(slot, start, now, cause, verdict != Verdict.CALLER_ERROR);
                AttemptFailed failed = new AttemptFailed(cause, verdict);
                attempts.failed(failed);
                if (group.pending.decrementAndGet() == 0 || verdict != Verdict.RETRYABLE) {
                    group.out.completeExceptionally(failed);
                }
            } finally {
                balancer.end(slot);
            }
        });
    }

    private <T> void scheduleHedge(Group<T> group, AsyncEndpointCall<E, T> call, Attempts<E> attempts) {
        if (hedge == null) {
            return;
        }
        long delay = Math.max(hedge.minDelay().toNanos(), latencies.quantileNanos(ticker.read()));
        if (delay == Long.MAX_VALUE) {
            return;
        }
        group.hedgeTimer = scheduler.schedule(() -> {
            if (group.out.isDone() || group.hedgesSent >= hedge.maxHedges()) {
                return;
            }
            Slot<E> slot;
            try {
                slot = nextSlot(attempts);
            } catch (RetryRefused refused) {
                return;
            }
            group.hedgesSent++;
            if (hedges != null) {
                hedges.increment();
            }
            launch(group, slot, call, attempts);
            if (group.hedgesSent < hedge.maxHedges()) {
                scheduleHedge(group, call, attempts);
            }
        }, delay, TimeUnit.NANOSECONDS);
    }

    private static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }

    private static RuntimeException finalFailure(List<String> tried, List<Throwable> failures, Verdict verdict, boolean budgetRefused) {
        Throwable last = failures.get(failures.size() - 1);
        if (last instanceof StreamInterruptedException s) {
            return s;
        }
        if (verdict == Verdict.CALLER_ERROR && last instanceof RuntimeException r) {
            return r;
        }
        EndpointCallException e = new EndpointCallException(tried, budgetRefused, last);
        for (int i = 0; i < failures.size() - 1; i++) {
            if (failures.get(i) != last) {
                e.addSuppressed(failures.get(i));
            }
        }
        return e;
    }

    // ---------------------------------------------------------------- probes

    private void probeAll(HealthCheck<E> check) {
        for (Slot<E> slot : balancer.activeSlots()) {
            if (closed) {
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
                balancer.onProbe(slot, healthy, ticker.read());
            } catch (RuntimeException e) {
                LOG.warn("router '{}': recording a probe of {} failed", balancer.name(), slot.endpoint().id(), e);
            }
        }
        balancer.tick();
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

    /** The state of every endpoint (active and draining). */
    public List<EndpointStatus<E>> endpoints() {
        return balancer.statuses();
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
        return budget.available(ticker.read());
    }

    /** Retries (and hedges) refused by the budget so far. */
    public long retriesRefused() {
        return budget.refused();
    }

    /** Stops health probes and, if the router created its scheduler, shuts it down. Idempotent. */
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
        balancer.close();
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("router '" + balancer.name() + "' is closed");
        }
    }

    // ---------------------------------------------------------------- per-call state (failure path only)

    /** A failed attempt travelling through Failsafe; no stack trace, it is control flow. */
    private static final class AttemptFailed extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final transient Verdict verdict;
        final boolean retryable;

        AttemptFailed(Throwable cause, Verdict verdict) {
            super(cause.toString(), cause, false, false);
            this.verdict = verdict;
            this.retryable = verdict == Verdict.RETRYABLE;
        }
    }

    /** The budget (or the endpoint set) refused another attempt. */
    private static final class RetryRefused extends RuntimeException {
        private static final long serialVersionUID = 1L;

        RetryRefused() {
            super("retry refused", null, false, false);
        }
    }

    /** The attempts of one call: which endpoints were tried, what failed. */
    private static final class Attempts<E> {
        private final Slot<E>[] tried;
        private int count;
        private final List<String> ids = new ArrayList<>();
        private final List<AttemptFailed> failures = new ArrayList<>();
        volatile boolean budgetRefused;
        volatile Group<?> current;

        Attempts(int capacity) {
            this.tried = Slot.array(Math.max(1, capacity));
        }

        synchronized void add(Slot<E> slot, AttemptFailed failure) {
            if (count < tried.length) {
                tried[count++] = slot;
            }
            ids.add(slot.endpoint().id());
            if (failure != null) {
                failures.add(failure);
            }
        }

        synchronized void failed(AttemptFailed failure) {
            failures.add(failure);
        }

        synchronized Slot<E> pick(Balancer<E> balancer, long now) {
            return balancer.acquire(now, tried, count);
        }

        synchronized RuntimeException finalFailure() {
            if (failures.isEmpty()) {
                return new CancellationException("call cancelled after attempts on " + ids);
            }
            List<Throwable> causes = new ArrayList<>();
            for (AttemptFailed f : failures) {
                causes.add(f.getCause());
            }
            return FailoverRouter.finalFailure(List.copyOf(ids), causes, failures.get(failures.size() - 1).verdict, budgetRefused);
        }
    }

    /** One attempt of an async call and its hedges: the first success completes {@link #out}. */
    private static final class Group<T> {
        final CompletableFuture<T> out = new CompletableFuture<>();
        final AtomicInteger pending = new AtomicInteger();
        private final List<CompletableFuture<T>> running = new ArrayList<>();
        volatile ScheduledFuture<?> hedgeTimer;
        volatile int hedgesSent;

        synchronized void add(CompletableFuture<T> f) {
            running.add(f);
        }

        void cancelAll() {
            List<CompletableFuture<T>> copy;
            synchronized (this) {
                copy = List.copyOf(running);
            }
            for (CompletableFuture<T> f : copy) {
                if (!f.isDone()) {
                    f.cancel(true);
                }
            }
            ScheduledFuture<?> timer = hedgeTimer;
            if (timer != null) {
                timer.cancel(false);
            }
        }
    }

    // ---------------------------------------------------------------- builder

    /**
     * Builds a {@link FailoverRouter}. Every option has a documented default; values are
     * validated when set and the whole when built. Not thread-safe.
     *
     * @param <E> the endpoint payload type
     */
    public static final class Builder<E> {
        private final List<Endpoint<E>> endpoints = new ArrayList<>();
        private final List<FailoverListener> listeners = new ArrayList<>();
        private String name = "default";
        private Ticker ticker = Ticker.system();
        private FailureClassifier classifier = FailureClassifier.defaults();
        private int consecutiveFailures = 5;
        private Duration baseEjection = Duration.ofSeconds(30);
        private Duration maxEjection = Duration.ofMinutes(5);
        private double overprovisioning = 1.4;
        private int panicThreshold = 50;
        private int failbackSuccesses = 3;
        private Duration trialInterval = Duration.ofSeconds(1);
        private HealthCheck<E> healthCheck;
        private Duration probeInterval;
        private int healthyThreshold = 2;
        private int unhealthyThreshold = 3;
        private int maxAttempts = 3;
        private double budgetPercent = 0.2;
        private int budgetMinPerSecond = 10;
        private Duration budgetTtl = Duration.ofSeconds(10);
        private HedgePolicy hedge;
        private Duration latencyDecay = Duration.ofSeconds(2);
        private CircuitBreakerConfig breakerConfig;
        private MeterRegistry registry;
        private ScheduledExecutorService scheduler;

        private Builder() {
        }

        /** Adds an endpoint (at least one is required; ids must be unique). */
        public Builder<E> endpoint(Endpoint<E> endpoint) {
            endpoints.add(Objects.requireNonNull(endpoint, "endpoint"));
            return this;
        }

        /** Adds endpoints. */
        public Builder<E> endpoints(List<Endpoint<E>> list) {
            list.forEach(this::endpoint);
            return this;
        }

        /** The router's name in metrics, logs and errors (default {@code "default"}). */
        public Builder<E> name(String name) {
            if (Objects.requireNonNull(name, "name").isBlank()) {
                throw new IllegalArgumentException("router name must not be blank");
            }
            this.name = name;
            return this;
        }

        /** The time source (default {@link Ticker#system()}); tests pass a fake one. */
        public Builder<E> ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /** Adds a listener for {@link FailoverEvent}s (none by default). */
        public Builder<E> listener(FailoverListener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /** Publishes per-endpoint metrics to {@code registry} (none by default). */
        public Builder<E> meterRegistry(MeterRegistry registry) {
            this.registry = Objects.requireNonNull(registry, "registry");
            return this;
        }

        /** Which failures count and which may be retried (default {@link FailureClassifier#defaults()}). */
        public Builder<E> failureClassifier(FailureClassifier classifier) {
            this.classifier = Objects.requireNonNull(classifier, "classifier");
            return this;
        }

        /** Failures in a row that eject an endpoint (default 5, 1 to 1000). */
        public Builder<E> consecutiveFailures(int failures) {
            this.consecutiveFailures = checkRange("consecutiveFailures", failures, 1, 1000);
            return this;
        }

        /**
         * Ejection time: {@code base × n} for the n-th ejection, at most {@code max} (defaults 30 s
         * and 5 min, as Envoy). The multiplier decays by one per {@code max} spent healthy.
         */
        public Builder<E> ejectionTime(Duration base, Duration max) {
            checkPositive("base ejection time", base);
            checkPositive("max ejection time", max);
            if (max.compareTo(base) < 0) {
                throw new IllegalArgumentException("max ejection time " + max + " must not be less than the base " + base);
            }
            this.baseEjection = base;
            this.maxEjection = max;
            return this;
        }

        /** The resilience4j breaker of each endpoint (default: opens at 50 % failures over 20 calls, lock-free window). */
        public Builder<E> circuitBreakerConfig(CircuitBreakerConfig config) {
            this.breakerConfig = Objects.requireNonNull(config, "config");
            return this;
        }

        /** Envoy's overprovisioning factor for priority spill-over (default 1.4, 1.0 to 10.0). */
        public Builder<E> overprovisioningFactor(double factor) {
            if (!(factor >= 1.0 && factor <= 10.0)) {
                throw new IllegalArgumentException("overprovisioning factor must be 1.0 to 10.0, was " + factor);
            }
            this.overprovisioning = factor;
            return this;
        }

        /** Overall health percent below which the router panics (default 50, as Envoy; 0 disables panic). */
        public Builder<E> panicThreshold(int percent) {
            this.panicThreshold = checkRange("panicThreshold", percent, 0, 100);
            return this;
        }

        /**
         * Failback hysteresis: a recovering endpoint gets one trial call per {@code trialInterval}
         * and returns after {@code successes} in a row (defaults 3 and 1 s).
         */
        public Builder<E> failback(int successes, Duration trialInterval) {
            this.failbackSuccesses = checkRange("failback successes", successes, 1, 100);
            checkPositive("trial interval", trialInterval);
            this.trialInterval = trialInterval;
            return this;
        }

        /**
         * Active health probes every {@code interval} on the scheduler; {@code unhealthyThreshold}
         * failures in a row take an endpoint out, {@code healthyThreshold} successes in a row bring
         * it back (no probes by default; thresholds 1 to 100).
         */
        public Builder<E> healthCheck(HealthCheck<E> check, Duration interval, int healthyThreshold, int unhealthyThreshold) {
            this.healthCheck = Objects.requireNonNull(check, "check");
            checkPositive("probe interval", interval);
            this.probeInterval = interval;
            this.healthyThreshold = checkRange("healthyThreshold", healthyThreshold, 1, 100);
            this.unhealthyThreshold = checkRange("unhealthyThreshold", unhealthyThreshold, 1, 100);
            return this;
        }

        /** Attempts per idempotent call, the first included (default 3, 1 to 10). */
        public Builder<E> maxAttempts(int attempts) {
            this.maxAttempts = checkRange("maxAttempts", attempts, 1, 10);
            return this;
        }

        /**
         * The retry budget (default 20 % of calls, plus 10 retries per second, over 10 s): retries
         * and hedges beyond it are refused.
         *
         * @param percent 0.0 to 1.0
         * @param minRetriesPerSecond 0 to 10 000
         * @param ttl 1 s to 10 min
         */
        public Builder<E> retryBudget(double percent, int minRetriesPerSecond, Duration ttl) {
            if (!(percent >= 0.0 && percent <= 1.0)) {
                throw new IllegalArgumentException("retry budget percent must be 0.0 to 1.0, was " + percent);
            }
            checkRange("minRetriesPerSecond", minRetriesPerSecond, 0, 10_000);
            if (ttl.compareTo(Duration.ofSeconds(1)) < 0 || ttl.compareTo(Duration.ofMinutes(10)) > 0) {
                throw new IllegalArgumentException("retry budget ttl must be 1 s to 10 min, was " + ttl);
            }
            this.budgetPercent = percent;
            this.budgetMinPerSecond = minRetriesPerSecond;
            this.budgetTtl = ttl;
            return this;
        }

        /** Hedges idempotent async calls (off by default). */
        public Builder<E> hedging(HedgePolicy policy) {
            this.hedge = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /** The time constant of the latency average (default 2 s): about how much recent time it reflects. */
        public Builder<E> latencyDecay(Duration decay) {
            checkPositive("latency decay", decay);
            this.latencyDecay = decay;
            return this;
        }

        /**
         * The scheduler for probes, hedges and async retries. Not shut down by the router. By
         * default the router creates a one-thread daemon scheduler when it needs one, and shuts it
         * down on close.
         */
        public Builder<E> scheduler(ScheduledExecutorService scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        /**
         * Builds the router.
         *
         * @throws IllegalArgumentException if no endpoint was given or two share an id
         */
        public FailoverRouter<E> build() {
            if (endpoints.isEmpty()) {
                throw new IllegalArgumentException("router '" + name + "' needs at least one endpoint");
            }
            Set<String> ids = new HashSet<>();
            for (Endpoint<E> e : endpoints) {
                if (!ids.add(e.id())) {
                    throw new IllegalArgumentException("router '" + name + "' has two endpoints with id " + e.id());
                }
            }
            return new FailoverRouter<>(this);
        }

        private static int checkRange(String what, int value, int min, int max) {
            if (value < min || value > max) {
                throw new IllegalArgumentException(what + " must be " + min + " to " + max + ", was " + value);
            }
            return value;
        }

        private static void checkPositive(String what, Duration d) {
            Objects.requireNonNull(d, what);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " must be positive, was " + d);
            }
        }
    }
}
