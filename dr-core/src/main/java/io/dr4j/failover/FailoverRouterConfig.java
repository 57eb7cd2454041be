package io.dr4j.failover;

import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The settings of a {@link FailoverRouter}, as its {@link FailoverRouterBuilder} left them: a
 * readable, immutable record of every option and its value (defaults included), in the manner
 * of Failsafe's {@code RetryPolicyConfig}. The option docs, with defaults and ranges, are on the
 * builder's methods.
 *
 * <p>Immutable, hence thread-safe (the endpoint list is a snapshot of the initial set; the live
 * set is {@link FailoverRouter#endpoints()}).
 *
 * @param <E> the endpoint payload type
 */
public final class FailoverRouterConfig<E> {

    final List<Endpoint<E>> endpoints;
    final List<FailoverListener> listeners;
    final String name;
    final Clock clock;
    final FailureClassifier classifier;
    final int consecutiveFailures;
    final int consecutiveConnectFailures;
    final Duration baseEjection;
    final Duration maxEjection;
    final int failureRateThreshold;
    final int breakerWindow;
    /** The escape hatch, or null. */
    final CircuitBreakerConfig breakerOverride;
    final double overprovisioning;
    final int panicThreshold;
    final int failbackSuccesses;
    final Duration trialInterval;
    final HealthCheck<E> healthCheck;
    final Duration probeInterval;
    final int healthyThreshold;
    final int unhealthyThreshold;
    final int maxAttempts;
    final double budgetPercent;
    final int budgetMinPerSecond;
    final Duration budgetTtl;
    final HedgePolicy hedge;
    final Duration latencyDecay;
    final Duration defaultRetryAfter;
    final Duration maxRetryAfter;
    final Duration maxSaturationWait;
    final ConcurrencyLimit concurrencyLimit;
    final MeterRegistry registry;
    final ScheduledExecutorService scheduler;
    final boolean warmUp;
    /** The region check in effect (the default resolved), or null. */
    final HealthCheck<E> regionCheck;
    /** Whether {@link #regionCheck} is the TCP-connect default rather than one the application chose. */
    final boolean regionCheckIsDefault;
    final boolean connectionWatch;

    FailoverRouterConfig(FailoverRouterBuilder<E> b) {
        this.endpoints = List.copyOf(b.endpoints);
        this.listeners = List.copyOf(b.listeners);
        this.name = b.name;
        this.clock = b.clock;
        this.classifier = b.classifier;
        this.consecutiveFailures = b.consecutiveFailures;
        this.consecutiveConnectFailures = b.consecutiveConnectFailures;
        this.baseEjection = b.baseEjection;
        this.maxEjection = b.maxEjection;
        this.failureRateThreshold = b.failureRateThreshold;
        this.breakerWindow = b.breakerWindow;
        this.breakerOverride = b.breakerOverride;
        this.overprovisioning = b.overprovisioning;
        this.panicThreshold = b.panicThreshold;
        this.failbackSuccesses = b.failbackSuccesses;
        this.trialInterval = b.trialInterval;
        this.healthCheck = b.healthCheck;
        this.probeInterval = b.probeInterval;
        this.healthyThreshold = b.healthyThreshold;
        this.unhealthyThreshold = b.unhealthyThreshold;
        this.maxAttempts = b.maxAttempts;
        this.budgetPercent = b.budgetPercent;
        this.budgetMinPerSecond = b.budgetMinPerSecond;
        this.budgetTtl = b.budgetTtl;
        this.hedge = b.hedge;
        this.latencyDecay = b.latencyDecay;
        this.defaultRetryAfter = b.defaultRetryAfter;
        this.maxRetryAfter = b.maxRetryAfter;
        this.maxSaturationWait = b.maxSaturationWait;
        this.concurrencyLimit = b.concurrencyLimit;
        this.registry = b.registry;
        this.scheduler = b.scheduler;
        this.warmUp = b.warmUp;
        this.regionCheck = !b.regionCheckOn ? null : b.regionCheck != null ? b.regionCheck
                : !endpoints.isEmpty() && endpoints.stream().allMatch(e -> hasSocketAddress(e.payload()))
                ? HealthCheck.tcpConnect(DEFAULT_REGION_CHECK_TIMEOUT) : null;
        this.regionCheckIsDefault = regionCheck != null && b.regionCheck == null;
        this.connectionWatch = b.connectionWatch;
    }

    /** The connect timeout of the default region check. */
    static final Duration DEFAULT_REGION_CHECK_TIMEOUT = Duration.ofMillis(250);

    private static boolean hasSocketAddress(Object payload) {
        return payload instanceof InetSocketAddress || payload instanceof URI uri && uri.getHost() != null;
    }

    /**
     * The check run on the other healthy endpoints of a region when one of them refused a
     * connection ({@link FailoverRouterBuilder#regionCheck}); empty when off.
     */
    public Optional<HealthCheck<E>> regionCheck() {
        return Optional.ofNullable(regionCheck);
    }

    /** Whether the router holds an idle connection to each healthy endpoint to learn of its death ({@link FailoverRouterBuilder#connectionWatch}). */
    public boolean connectionWatch() {
        return connectionWatch;
    }

    /** The breaker configuration each endpoint gets: the escape hatch's, or one built from the threshold and window. */
    CircuitBreakerConfig breakerConfig() {
        if (breakerOverride != null) {
            return breakerOverride;
        }
        return CircuitBreakerConfig.custom()
                .failureRateThreshold(failureRateThreshold)
                .slidingWindow(breakerWindow, breakerWindow, CircuitBreakerConfig.SlidingWindowType.COUNT_BASED,
                        CircuitBreakerConfig.SlidingWindowSynchronizationStrategy.LOCK_FREE)
                .writableStackTraceEnabled(false)
                .build();
    }

    /** The endpoints the router started with. */
    public List<Endpoint<E>> initialEndpoints() {
        return endpoints;
    }

    /** The router's name in metrics, logs and errors. */
    public String name() {
        return name;
    }

    /** The time source. */
    public Clock clock() {
        return clock;
    }

    /** Which failures count and which may be retried. */
    public FailureClassifier failureClassifier() {
        return classifier;
    }

    /** Failures in a row that eject an endpoint. */
    public int consecutiveFailures() {
        return consecutiveFailures;
    }

    /** Failures in a row, the last a refused connection, that eject an endpoint. */
    public int consecutiveConnectFailures() {
        return consecutiveConnectFailures;
    }

    /** The first ejection's time. */
    public Duration baseEjectionTime() {
        return baseEjection;
    }

    /** The longest ejection. */
    public Duration maxEjectionTime() {
        return maxEjection;
    }

    /** The failure rate (percent) over {@link #circuitBreakerWindow()} calls that opens an endpoint's breaker. */
    public int failureRateThreshold() {
        return failureRateThreshold;
    }

    /** Calls in each endpoint's breaker window. */
    public int circuitBreakerWindow() {
        return breakerWindow;
    }

    /** Whether a resilience4j configuration was passed through the escape hatch (then the two values above do not apply). */
    public boolean hasResilience4jBreakerConfig() {
        return breakerOverride != null;
    }

    /** Envoy's overprovisioning factor. */
    public double overprovisioningFactor() {
        return overprovisioning;
    }

    /** Overall health percent below which the router panics (0: never). */
    public int panicThreshold() {
        return panicThreshold;
    }

    /** Successes in a row that bring a recovering endpoint back. */
    public int failbackSuccesses() {
        return failbackSuccesses;
    }

    /** Time between trial calls to a recovering endpoint. */
    public Duration trialInterval() {
        return trialInterval;
    }

    /** The probe interval, when active health checks are on. */
    public Optional<Duration> probeInterval() {
        return Optional.ofNullable(probeInterval);
    }

    /** Probe successes in a row that restore an endpoint. */
    public int healthyThreshold() {
        return healthyThreshold;
    }

    /** Probe failures in a row that take an endpoint out. */
    public int unhealthyThreshold() {
        return unhealthyThreshold;
    }

    /** Attempts per idempotent call, the first included. */
    public int maxAttempts() {
        return maxAttempts;
    }

    /** The share of recent calls that may be retried (0 to 1). */
    public double retryBudgetPercent() {
        return budgetPercent;
    }

    /** Retries always allowed per second. */
    public int retryBudgetMinPerSecond() {
        return budgetMinPerSecond;
    }

    /** How long the budget remembers calls and retries. */
    public Duration retryBudgetTtl() {
        return budgetTtl;
    }

    /** The hedging policy, if hedging is on. */
    public Optional<HedgePolicy> hedging() {
        return Optional.ofNullable(hedge);
    }

    /** The time constant of the latency average. */
    public Duration latencyDecay() {
        return latencyDecay;
    }

    /** How long an endpoint that said it is saturated without saying for how long is left alone. */
    public Duration defaultRetryAfter() {
        return defaultRetryAfter;
    }

    /** The most an endpoint's {@code Retry-After} may keep it out of selection. */
    public Duration maxRetryAfter() {
        return maxRetryAfter;
    }

    /** The longest a call waits when every endpoint is saturated or at its limit; zero is fail fast. */
    public Duration maxSaturationWait() {
        return maxSaturationWait;
    }

    /** The per-endpoint concurrency limit. */
    public ConcurrencyLimit concurrencyLimit() {
        return concurrencyLimit;
    }

    /** Whether {@code build()} runs the failure path once in memory first ({@link FailoverRouterBuilder#warmUp}). */
    public boolean warmUp() {
        return warmUp;
    }

    /** The meter registry, if metrics are on. */
    public Optional<MeterRegistry> meterRegistry() {
        return Optional.ofNullable(registry);
    }
}
