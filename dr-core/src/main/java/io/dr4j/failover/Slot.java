package io.dr4j.failover;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * The router's live state for one endpoint. The hot path touches only atomics and volatile
 * fields; the state machine moves by compare-and-set so that exactly one thread performs (and
 * reports) each transition.
 *
 * <p>The latency average is a time-weighted EWMA of successful calls; failures raise it at once
 * (see {@link #observeFailure}). When read, it decays toward zero with idle time, so that a slow
 * endpoint that lost all its traffic is tried again now and then and its estimate stays fresh.
 * Its two fields are updated without a common lock: a race loses one sample, which a statistic
 * can afford.
 */
final class Slot<E> {

    public static final int HEALTHY = 0;
    public static final int EJECTED = 1;
    public static final int RECOVERING = 2;
    public static final int UNHEALTHY = 3;

    private static final double MAX_EWMA_NANOS = 60e9;

    private volatile Endpoint<E> endpoint;
    private final CircuitBreaker breaker;
    private final EndpointLimiter limiter;
    private final SlotMeters meters;

    public final AtomicInteger outstanding = new AtomicInteger();
    public final AtomicInteger state = new AtomicInteger(HEALTHY);
    public final AtomicInteger consecutiveFailures = new AtomicInteger();
    /** Successes recorded in the breaker since its last failure, up to the breaker's window size. */
    public final AtomicInteger breakerSuccesses = new AtomicInteger();
    public final AtomicInteger recoverySuccesses = new AtomicInteger();
    public final AtomicLong nextTrialAt = new AtomicLong();
    /** Striped: counted on every call from every thread. */
    public final LongAdder requests = new LongAdder();
    public final LongAdder failures = new LongAdder();
    public final LongAdder saturations = new LongAdder();

    /** Until when the endpoint asked to be left alone (clock nanos); in the past when it is not saturated. */
    public volatile long saturatedUntil;

    /** When the current ejection ends (ticker nanos); meaningful in EJECTED only. */
    public volatile long ejectedUntil;
    /** Ejections counted for the growing ejection time; written by the thread that won the ejecting CAS. */
    public volatile int ejections;
    /** When the endpoint last became healthy, for the decay of {@link #ejections}. */
    public volatile long restoredAt;
    /** The verdict of active probes, with hysteresis; true when no probes are configured. */
    public volatile boolean probeHealthy = true;
    /** Probe streaks; touched only by the single probing task. */
    public int probeSuccesses;
    public int probeFailures;
    /** True while a region check ({@link RegionCheck}) of this endpoint runs: at most one at a time. */
    public final AtomicBoolean regionCheckRunning = new AtomicBoolean();

    private volatile double ewmaNanos;
    private volatile long ewmaStamp;

    /** Set once when the endpoint is drained; completed when its last in-flight call ends. */
    public volatile CompletableFuture<Void> drained;

    /**
     * @param meters makes the slot's meters; it gets the slot itself because Micrometer holds a
     *               gauge's state object only weakly, and the router holds the slot strongly
     */
    public Slot(Endpoint<E> endpoint, CircuitBreaker breaker, EndpointLimiter limiter, Function<Slot<E>, SlotMeters> meters,
                long now) {
        this.endpoint = endpoint;
        this.breaker = breaker;
        this.limiter = limiter;
        this.ewmaStamp = now;
        this.restoredAt = now;
        this.saturatedUntil = now;
        this.meters = meters.apply(this);
    }

    /** Whether a new call may go here now as far as load goes: not saturated and below its concurrency limit. */
    public boolean available(long now) {
        return now - saturatedUntil >= 0 && outstanding.get() < limiter.limit();
    }

    public boolean saturated(long now) {
        return now - saturatedUntil < 0;
    }

    public EndpointLimiter limiter() {
        return limiter;
    }

    /** A typed array of slots (Java cannot create generic arrays directly). */
    @SuppressWarnings("unchecked")
    public static <E> Slot<E>[] array(int n) {
        return (Slot<E>[]) new Slot<?>[n];
    }

    @SuppressWarnings("unchecked")
    static <E> Slot<E>[][] matrix(int n) {
        return (Slot<E>[][]) new Slot<?>[n][];
    }

    public Endpoint<E> endpoint() {
        return endpoint;
    }

    public void endpoint(Endpoint<E> replacement) {
        this.endpoint = replacement;
    }

    public CircuitBreaker breaker() {
        return breaker;
    }

    public SlotMeters meters() {
        return meters;
    }

    /** The P2C cost: expected wait if one more call is added, scaled down by weight. */
    public double cost(long now, double tauNanos) {
        double e = ewmaNanos;
        long idle = now - ewmaStamp;
        if (idle > 0) {
            e = e * tauNanos / (tauNanos + idle);
        }
        // A floor of 1 µs keeps outstanding counts decisive between endpoints with no history.
        return (outstanding.get() + 1) * Math.max(e, 1_000.0) / endpoint.weight();
    }

    /**
     * Folds one latency sample into the average, weighted by the time since the previous one
     * (so the average covers about {@code tau} of time whatever the call rate).
     */
    public void observeLatency(long now, long sampleNanos, double tauNanos) {
        double sample = Math.min(sampleNanos, MAX_EWMA_NANOS);
        double e = ewmaNanos;
        if (e == 0) {
            e = sample;
        } else {
            double w = Math.exp(-Math.max(0, now - ewmaStamp) / tauNanos);
            e = e * w + sample * (1 - w);
        }
        ewmaNanos = e;
        ewmaStamp = now;
    }

    /**
     * A failure raises the average at once (a peak, not a sample) to at least twice its value
     * and 1 ms, so that a dead endpoint that fails fast does not look fast, and one that keeps
     * failing looks ever slower.
     */
    public void observeFailure(long now, long latencyNanos, double tauNanos) {
        double penalty = Math.min(Math.max(Math.max(latencyNanos, 2 * ewmaNanos), 1_000_000.0), MAX_EWMA_NANOS);
        if (penalty > ewmaNanos) {
            ewmaNanos = penalty;
        }
        ewmaStamp = now;
    }

    /** Forgets the latency history: a restored endpoint starts afresh, as a new one would, instead of carrying its failure penalties. */
    public void resetLatency(long now) {
        ewmaNanos = 0;
        ewmaStamp = now;
    }

    public double ewmaNanos() {
        return ewmaNanos;
    }

    public EndpointState publicState() {
        if (drained != null) {
            return EndpointState.DRAINING;
        }
        switch (state.get()) {
            case EJECTED:
                return EndpointState.EJECTED;
            case RECOVERING:
                return EndpointState.RECOVERING;
            case UNHEALTHY:
                return EndpointState.UNHEALTHY;
            default:
                return EndpointState.HEALTHY;
        }
    }

    @Override
    public String toString() {
        return endpoint.id();
    }
}
