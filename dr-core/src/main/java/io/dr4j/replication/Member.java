package io.dr4j.replication;


import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStore;
import io.dr4j.storage.TransientBlobStoreException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One member of a replicated store: its store, name, priority, circuit breaker and latency
 * average. Every call to the member goes through {@link #call} (or {@link #probe} for repair), so
 * the breaker and the latency see all traffic. Answers such as "not found" and "exists" count as
 * successes: the member worked.
 *
 * <p>Thread-safe.
 */
final class Member {

    /** An I/O call to a member's store. */
    @FunctionalInterface
    public interface IoCall<T> {
        T call() throws IOException;
    }

    private static final double EWMA_WEIGHT = 0.2;

    private final String name;
    private final BlobStore store;
    private final int priority;
    private final CircuitBreaker breaker;
    private volatile double latencyNanos;

    Member(String name, BlobStore store, int priority, CircuitBreakerSettings settings, java.time.Clock clock) {
        this.name = name;
        this.store = store;
        this.priority = priority;
        this.breaker = CircuitBreaker.of(name, CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(settings.windowCalls())
                .minimumNumberOfCalls(settings.minimumCalls())
                .failureRateThreshold(settings.failureRatePercent())
                .waitDurationInOpenState(settings.openFor())
                .permittedNumberOfCallsInHalfOpenState(settings.halfOpenCalls())
                .clock(clock)
                .build());
    }

    public String name() {
        return name;
    }

    public BlobStore store() {
        return store;
    }

    public int priority() {
        return priority;
    }

    CircuitBreaker breaker() {
        return breaker;
    }

    /** The latency average, zero before the first successful call. */
    public Duration latency() {
        return Duration.ofNanos((long) latencyNanos);
    }

    /** The member's health from its breaker's state and recent failures. */
    public MemberHealth health() {
        switch (breaker.getState()) {
            case OPEN:
            case FORCED_OPEN:
                return MemberHealth.DOWN;
            case HALF_OPEN:
                return MemberHealth.DEGRADED;
            default:
                return breaker.getMetrics().getNumberOfFailedCalls() > 0 ? MemberHealth.DEGRADED : MemberHealth.HEALTHY;
        }
    }

    /** Rank for read ordering: healthy first. */
    public int healthRank() {
        return health().ordinal();
    }

    /**
     * Runs {@code call} if the breaker permits, recording the outcome.
     *
     * @throws TransientBlobStoreException naming the member if its breaker is open
     */
    public <T> T call(BlobKey key, IoCall<T> call) throws IOException {
        if (!breaker.tryAcquirePermission()) {
            throw new TransientBlobStoreException(name, key, "circuit breaker is open (member considered down)", null);
        }
        return run(call, false);
    }

    /**
     * Runs {@code call} through the breaker if it permits, otherwise as a {@link #probe}. For
     * reads, which try members best-first: a member whose breaker is open comes last, and is
     * asked only when every better one has failed, which is better than failing unasked.
     */
    public <T> T callOrProbe(IoCall<T> call) throws IOException {
        if (breaker.tryAcquirePermission()) {
            return run(call, false);
        }
        return probe(call);
    }

    /**
     * Runs {@code call} whatever the breaker's state: an active probe, used by repair. A success
     * closes an open breaker, so a member that came back is used again without waiting.
     */
    public <T> T probe(IoCall<T> call) throws IOException {
        T result = run(call, true);
        if (breaker.getState() != CircuitBreaker.State.CLOSED) {
            breaker.transitionToClosedState();
        }
        return result;
    }

    private <T> T run(IoCall<T> call, boolean probe) throws IOException {
        long start = System.nanoTime();
        try {
            T result = call.call();
            succeeded(start, probe);
            return result;
        } catch (NoSuchFileException | FileAlreadyExistsException | EOFException e) {
            succeeded(start, probe);
            throw e;
        } catch (InterruptedIOException | ClosedByInterruptException e) {
            // cancelled by us, not the member's fault
            if (!probe) {
                breaker.releasePermission();
            }
            throw e;
        } catch (IOException | RuntimeException | Error e) {
            if (!probe) {
                breaker.onError(System.nanoTime() - start, TimeUnit.NANOSECONDS, e);
            }
            throw e;
        }
    }

    private void succeeded(long start, boolean probe) {
        long elapsed = System.nanoTime() - start;
        if (!probe) {
            breaker.onSuccess(elapsed, TimeUnit.NANOSECONDS);
        }
        double previous = latencyNanos;
        latencyNanos = previous == 0 ? elapsed : previous + EWMA_WEIGHT * (elapsed - previous);
    }

    @Override
    public String toString() {
        return name;
    }
}
