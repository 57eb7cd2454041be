package io.dr4j.failover;

import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Builds a {@link FailoverRouter} ({@link FailoverRouter#builder()}). Every option has a
 * documented default, so only the endpoints are required; values are checked when set and the
 * whole when built. {@link #build()} takes a {@link FailoverRouterConfig} snapshot, so the
 * builder may be reused. Not thread-safe.
 *
 * @param <E> the endpoint payload type
 */
public final class FailoverRouterBuilder<E> {

    final List<Endpoint<E>> endpoints = new ArrayList<>();
    final List<FailoverListener> listeners = new ArrayList<>();
    String name = "default";
    Clock clock = Clock.systemUTC();
    FailureClassifier classifier = FailureClassifier.defaults();
    int consecutiveFailures = 5;
    int consecutiveConnectFailures = 1;
    Duration baseEjection = Duration.ofSeconds(30);
    Duration maxEjection = Duration.ofMinutes(5);
    int failureRateThreshold = 50;
    int breakerWindow = 20;
    CircuitBreakerConfig breakerOverride;
    double overprovisioning = 1.4;
    int panicThreshold = 50;
    int failbackSuccesses = 3;
    Duration trialInterval = Duration.ofSeconds(1);
    HealthCheck<E> healthCheck;
    Duration probeInterval;
    int healthyThreshold = 2;
    int unhealthyThreshold = 3;
    int maxAttempts = 3;
    double budgetPercent = 0.2;
    int budgetMinPerSecond = 10;
    Duration budgetTtl = Duration.ofSeconds(10);
    HedgePolicy hedge;
    Duration latencyDecay = Duration.ofSeconds(2);
    Duration defaultRetryAfter = Duration.ofSeconds(1);
    Duration maxRetryAfter = Duration.ofSeconds(30);
    Duration maxSaturationWait = Duration.ofSeconds(2);
    ConcurrencyLimit concurrencyLimit = ConcurrencyLimit.none();
    MeterRegistry registry;
    ScheduledExecutorService scheduler;
    boolean warmUp = true;
    /** The region check, or null: none if {@link #regionCheckOn} is false, else the TCP-connect default where it applies. */
    HealthCheck<E> regionCheck;
    boolean regionCheckOn = true;
    boolean connectionWatch;

    FailoverRouterBuilder() {
    }

    /** Adds an endpoint (at least one is required; ids must be unique). */
    public FailoverRouterBuilder<E> endpoint(Endpoint<E> endpoint) {
        endpoints.add(Objects.requireNonNull(endpoint, "endpoint"));
        return this;
    }

    /** Adds endpoints. */
    public FailoverRouterBuilder<E> endpoints(List<Endpoint<E>> list) {
        list.forEach(this::endpoint);
        return this;
    }

    /** The router's name in metrics, logs and errors (default {@code "default"}). */
    public FailoverRouterBuilder<E> name(String name) {
        if (Objects.requireNonNull(name, "name").isBlank()) {
            throw new IllegalArgumentException("router name must not be blank");
        }
        this.name = name;
        return this;
    }

    /**
     * The time source for ejections, saturation, hysteresis, latencies and the retry budget
     * (default {@link Clock#systemUTC()}, whose elapsed time is read monotonically); tests pass a
     * fake clock.
     */
    public FailoverRouterBuilder<E> clock(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
        return this;
    }

    /** Adds a listener for {@link FailoverEvent}s (none by default). */
    public FailoverRouterBuilder<E> listener(FailoverListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    /** Publishes per-endpoint metrics to {@code registry} (none by default). */
    public FailoverRouterBuilder<E> meterRegistry(MeterRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
        return this;
    }

    /** Which failures count and which may be retried (default {@link FailureClassifier#defaults()}). */
    public FailoverRouterBuilder<E> failureClassifier(FailureClassifier classifier) {
        this.classifier = Objects.requireNonNull(classifier, "classifier");
        return this;
    }

    /** Failures in a row that eject an endpoint (default 5, 1 to 1000). */
    public FailoverRouterBuilder<E> consecutiveFailures(int failures) {
        this.consecutiveFailures = checkRange("consecutiveFailures", failures, 1, 1000);
        return this;
    }

    /**
     * Failures in a row, the last a refused connection ({@link FailureClassifier.Verdict#UNREACHABLE
     * UNREACHABLE}), that eject an endpoint (default 1, 1 to 1000; Envoy's local-origin failures). A
     * refused connection means nothing listens at the address: waiting for
     * {@link #consecutiveFailures} of them only sends more calls to a dead endpoint.
     */
    public FailoverRouterBuilder<E> consecutiveConnectFailures(int failures) {
        this.consecutiveConnectFailures = checkRange("consecutiveConnectFailures", failures, 1, 1000);
        return this;
    }

    /**
     * Ejection time: {@code base × n} for the n-th ejection, at most {@code max} (defaults 30 s
     * and 5 min, as Envoy). The multiplier decays by one per {@code max} spent healthy.
     */
    public FailoverRouterBuilder<E> ejectionTime(Duration base, Duration max) {
        checkPositive("base ejection time", base);
        checkPositive("max ejection time", max);
        if (max.compareTo(base) < 0) {
            throw new IllegalArgumentException("max ejection time " + max + " must not be less than the base " + base);
        }
        this.baseEjection = base;
        this.maxEjection = max;
        return this;
    }

    /**
     * Each endpoint's circuit breaker: it opens (ejecting the endpoint) when at least
     * {@code thresholdPercent} of the last {@code windowCalls} counted calls failed (defaults 50 %
     * over 20 calls; 1 to 100, and 2 to 10 000). Saturation answers never count.
     */
    public FailoverRouterBuilder<E> failureRate(int thresholdPercent, int windowCalls) {
        this.failureRateThreshold = checkRange("failure rate threshold", thresholdPercent, 1, 100);
        this.breakerWindow = checkRange("breaker window", windowCalls, 2, 10_000);
        return this;
    }

    /**
     * Escape hatch: a resilience4j {@code CircuitBreakerConfig} for each endpoint's breaker,
     * instead of {@link #failureRate}. It ties the caller to resilience4j's API and version and is
     * outside this library's compatibility promise; prefer {@code failureRate}. A time-based
     * window makes the router record every success in the breaker (allocating per call).
     */
    public FailoverRouterBuilder<E> resilience4jCircuitBreakerConfig(CircuitBreakerConfig config) {
        this.breakerOverride = Objects.requireNonNull(config, "config");
        return this;
    }

    /** Envoy's overprovisioning factor for priority spill-over (default 1.4, 1.0 to 10.0). */
    public FailoverRouterBuilder<E> overprovisioningFactor(double factor) {
        if (!(factor >= 1.0 && factor <= 10.0)) {
            throw new IllegalArgumentException("overprovisioning factor must be 1.0 to 10.0, was " + factor);
        }
        this.overprovisioning = factor;
        return this;
    }

    /** Overall health percent below which the router panics (default 50, as Envoy; 0 disables panic). */
    public FailoverRouterBuilder<E> panicThreshold(int percent) {
        this.panicThreshold = checkRange("panicThreshold", percent, 0, 100);
        return this;
    }

    /**
     * Failback hysteresis: a recovering endpoint gets one trial call per {@code trialInterval}
     * and returns after {@code successes} in a row (defaults 3 and 1 s).
     */
    public FailoverRouterBuilder<E> failback(int successes, Duration trialInterval) {
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
    public FailoverRouterBuilder<E> healthCheck(HealthCheck<E> check, Duration interval, int healthyThreshold,
                                                int unhealthyThreshold) {
        this.healthCheck = Objects.requireNonNull(check, "check");
        checkPositive("probe interval", interval);
        this.probeInterval = interval;
        this.healthyThreshold = checkRange("healthyThreshold", healthyThreshold, 1, 100);
        this.unhealthyThreshold = checkRange("unhealthyThreshold", unhealthyThreshold, 1, 100);
        return this;
    }

    /**
     * When an attempt finds an endpoint unreachable (a refused connection, verdict
     * {@link FailureClassifier.Verdict#UNREACHABLE UNREACHABLE}), checks the other healthy
     * endpoints of the same {@linkplain Endpoint#region() region} at once with {@code check}, on the
     * router's own check threads (never the caller's, at most one check per endpoint at a time);
     * an endpoint whose check is refused too counts a refused connection, which ejects it
     * ({@link #consecutiveConnectFailures}, default 1). A check that times out or fails in
     * another way changes nothing. A connection that broke before its answer (an I/O error other
     * than a refusal or a timeout: reset, closed by the peer) gets the same check of its region,
     * the endpoint itself included: a server that dies under the calls in flight shows that before
     * any new connection is refused. A dead region is then out of rotation one check after the
     * first sign, instead of after one failed call per endpoint, each as slow as the HTTP client
     * reports a refusal (JDK 17's client retries a refused connect once by itself). Readmission is
     * unchanged (ejection time, probes, trial calls).
     *
     * <p>Default: on, with {@link HealthCheck#tcpConnect HealthCheck.tcpConnect(250 ms)}, when
     * every initial endpoint's payload is a {@link java.net.URI} with a host or an
     * {@link java.net.InetSocketAddress} (as with {@link FailoverHttpClient}); off for other
     * payloads unless a check is given here. Costs nothing until a connection is refused.
     */
    public FailoverRouterBuilder<E> regionCheck(HealthCheck<E> check) {
        this.regionCheck = Objects.requireNonNull(check, "check");
        this.regionCheckOn = true;
        return this;
    }

    /** {@code false} turns the {@link #regionCheck(HealthCheck) region check} off; {@code true} restores the default. */
    public FailoverRouterBuilder<E> regionCheck(boolean enabled) {
        this.regionCheck = null;
        this.regionCheckOn = enabled;
        return this;
    }

    /**
     * Whether the router holds one idle TCP connection to each healthy endpoint and runs the
     * {@link #regionCheck(HealthCheck) region check} of an endpoint and its region the moment
     * that connection is closed or reset by the peer (default off). A server process that dies
     * has its sockets closed by its kernel at once, so its death is known within a scheduling
     * delay, before a call has to meet a refused connection: measured on loopback under load
     * (five runs), a dying server out of rotation 4–11 ms (median 4.8) after its stop began,
     * against 5–14 ms (median 8.9) through the calls' own refusals and HAProxy's 7–16 ms (median
     * 8.2) (docs/guide.md, "Failover and overload"). The watch never ejects by itself: only
     * the check's refused connect does, so a server that closes an idle connection (keep-alive
     * or header timeout) changes nothing and gets a new one, with a backoff (100 ms doubling to
     * 60 s while connections live under a second). One daemon thread per router.
     *
     * <p>Off by default because the held connection is a connection that never sends a
     * request: harmless to event-loop servers (vLLM's and TGI's, uvicorn, Netty, nginx, Envoy)
     * and to thread-pool servers, which spend one idle thread on it, but a server that serves one
     * connection at a time (Python's plain {@code http.server}) would wait on it and starve. It
     * sees nothing through a proxy (the connection goes to the endpoint's own address) and
     * stops with the default region check when a {@link FailoverHttpClient} goes through one; it
     * sees a process that dies, not a host that vanishes without closing its sockets (probes and
     * calls find that).
     *
     * @throws IllegalArgumentException from {@link #build()} if on while the region check is off,
     *         or an initial endpoint's payload is neither a {@link java.net.URI} with a host nor an
     *         {@link java.net.InetSocketAddress}
     */
    public FailoverRouterBuilder<E> connectionWatch(boolean enabled) {
        this.connectionWatch = enabled;
        return this;
    }

    /** Attempts per idempotent call, the first included (default 3, 1 to 10). */
    public FailoverRouterBuilder<E> maxAttempts(int attempts) {
        this.maxAttempts = checkRange("maxAttempts", attempts, 1, 10);
        return this;
    }

    /**
     * The retry budget (default 20 % of calls, plus 10 retries per second, over 10 s): retries,
     * saturation retries and hedges beyond it are refused.
     *
     * @param percent 0.0 to 1.0
     * @param minRetriesPerSecond 0 to 10 000
     * @param ttl 1 s to 10 min
     */
    public FailoverRouterBuilder<E> retryBudget(double percent, int minRetriesPerSecond, Duration ttl) {
        if (!(percent >= 0.0 && percent <= 1.0)) {
            throw new IllegalArgumentException("retry budget percent must be 0.0 to 1.0, was " + percent);
        }
        checkRange("minRetriesPerSecond", minRetriesPerSecond, 0, 10_000);
        Objects.requireNonNull(ttl, "ttl");
        if (ttl.compareTo(Duration.ofSeconds(1)) < 0 || ttl.compareTo(Duration.ofMinutes(10)) > 0) {
            throw new IllegalArgumentException("retry budget ttl must be 1 s to 10 min, was " + ttl);
        }
        this.budgetPercent = percent;
        this.budgetMinPerSecond = minRetriesPerSecond;
        this.budgetTtl = ttl;
        return this;
    }

    /** Hedges idempotent async calls (off by default). */
    public FailoverRouterBuilder<E> hedging(HedgePolicy policy) {
        this.hedge = Objects.requireNonNull(policy, "policy");
        return this;
    }

    /** The time constant of the latency average (default 2 s): about how much recent time it reflects. */
    public FailoverRouterBuilder<E> latencyDecay(Duration decay) {
        checkPositive("latency decay", decay);
        this.latencyDecay = decay;
        return this;
    }

    /**
     * Backpressure: how long an endpoint that answered 429 (or 503 with {@code Retry-After}) is
     * left alone when it did not say ({@code whenAbsent}, default 1 s), and the most its advice
     * may keep it out ({@code max}, default 30 s). Zero {@code whenAbsent} is allowed; {@code max}
     * must be positive and not less than it.
     */
    public FailoverRouterBuilder<E> saturation(Duration whenAbsent, Duration max) {
        Objects.requireNonNull(whenAbsent, "whenAbsent");
        checkPositive("max retry-after", max);
        if (whenAbsent.isNegative() || whenAbsent.compareTo(max) > 0) {
            throw new IllegalArgumentException("default retry-after " + whenAbsent + " must be 0 to the max " + max);
        }
        this.defaultRetryAfter = whenAbsent;
        this.maxRetryAfter = max;
        return this;
    }

    /**
     * When every endpoint that may take a call is saturated or at its concurrency limit, the
     * call waits up to {@code maxWait} for the earliest to free up, then fails with
     * {@link AllEndpointsSaturatedException}; {@link Duration#ZERO} fails fast (default 2 s, at
     * most 10 min). A caller's own deadline, such as {@link FailoverHttpClient}'s, still applies.
     */
    public FailoverRouterBuilder<E> whenAllSaturated(Duration maxWait) {
        Objects.requireNonNull(maxWait, "maxWait");
        if (maxWait.isNegative() || maxWait.compareTo(Duration.ofMinutes(10)) > 0) {
            throw new IllegalArgumentException("saturation wait must be 0 to 10 min, was " + maxWait);
        }
        this.maxSaturationWait = maxWait;
        return this;
    }

    /** Calls each endpoint may have in flight (default {@link ConcurrencyLimit#none()}). */
    public FailoverRouterBuilder<E> concurrencyLimit(ConcurrencyLimit limit) {
        this.concurrencyLimit = Objects.requireNonNull(limit, "limit");
        return this;
    }

    /**
     * The scheduler for probes, hedges, async retries and async saturation waits. Not shut down
     * by the router. By default the router creates a daemon scheduler when it needs one (two
     * threads with health checks, so that blocking probes never delay retries; one otherwise),
     * and shuts it down on close.
     */
    public FailoverRouterBuilder<E> scheduler(ScheduledExecutorService scheduler) {
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        return this;
    }

    /**
     * Whether {@link #build()} starts a warm-up of the router's failure path (default on): on
     * two throwaway routers in memory, never on the configured endpoints, calls that meet a
     * refused connection, an ejection, a retry, a final failure and a saturation answer, so that
     * (with {@link #connectionWatch} on, also a held connection closed under a throwaway router's
     * watch, on a loopback server socket of its own), so that
     * the classes and call sites of that path are loaded and linked before the first real
     * failure, which in a router that serves for days without one would otherwise pay for them
     * while the region goes down. It runs on a daemon thread of its own: {@code build()} does not
     * wait for it. Measured on 2 shared vCPUs: about 3 ms of that thread per build, 60–100 ms in the
     * first build of a fresh JVM; a failure within that time after the first build finds the path
     * as cold as without a warm-up. A warm-up that fails is logged at debug level and never fails
     * the build.
     */
    public FailoverRouterBuilder<E> warmUp(boolean enabled) {
        this.warmUp = enabled;
        return this;
    }

    /** The configuration as it stands. */
    public FailoverRouterConfig<E> config() {
        return new FailoverRouterConfig<>(this);
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
        FailoverRouterConfig<E> config = config();
        if (connectionWatch) {
            if (config.regionCheck == null) {
                throw new IllegalArgumentException("router '" + name + "': connectionWatch(true) needs the region check on "
                        + "(the watch runs it when a held connection closes): remove regionCheck(false) or give a regionCheck(check)");
            }
            for (Endpoint<E> e : endpoints) {
                try {
                    ConnectionWatch.addressOf(e);
                } catch (IllegalArgumentException bad) {
                    throw new IllegalArgumentException("router '" + name + "': connectionWatch(true) needs a socket address for every "
                            + "endpoint, but " + bad.getMessage(), bad);
                }
            }
        }
        return new FailoverRouter<>(config);
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
