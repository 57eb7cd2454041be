package io.dr4j.failover;

import dev.failsafe.Failsafe;
import dev.failsafe.FailsafeException;
import dev.failsafe.FailsafeExecutor;
import dev.failsafe.RetryPolicy;
import io.dr4j.failover.CallAttempts.AttemptFailed;
import io.dr4j.failover.CallAttempts.RetryRefused;
import io.dr4j.failover.FailureClassifier.Verdict;
import io.micrometer.core.instrument.Counter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * What every call path of a {@link FailoverRouter} shares, and the synchronous paths themselves:
 * recording an attempt's outcome (success, counted failure, caller error or saturation), paying
 * retries from the budget, waiting for a free endpoint when all are saturated or at their
 * limits, and the synchronous attempt loops ({@link #call}, {@link #callIdempotent}).
 *
 * <p>The first attempt of a synchronous call allocates nothing: Failsafe and the per-call
 * {@link CallAttempts} only come in once it failed. Thread-safe.
 */
final class RouterCore<E> {

    /** How long a waiting call sleeps at most before looking again when endpoints are only at their limits. */
    private static final long LIMIT_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    final String name;
    final Balancer<E> balancer;
    final NanoClock clock;
    final FailureClassifier classifier;
    final int maxAttempts;
    final RetryBudget budget;
    /** Null unless hedging is on. */
    final LatencyHistogram latencies;
    final long defaultRetryAfterNanos;
    final long maxRetryAfterNanos;
    final long maxWaitNanos;
    /** Null without a meter registry. */
    final Counter retries;
    private final FailsafeExecutor<Object> retrier;
    /** Null when off. */
    private final RegionCheck<E> regionCheck;

    RouterCore(String name, Balancer<E> balancer, NanoClock clock, FailoverRouterConfig<E> c, LatencyHistogram latencies,
               Counter retries, RegionCheck<E> regionCheck) {
        this.regionCheck = regionCheck;
        this.name = name;
        this.balancer = balancer;
        this.clock = clock;
        this.classifier = c.classifier;
        this.maxAttempts = c.maxAttempts;
        this.budget = new RetryBudget(c.budgetPercent, c.budgetMinPerSecond, c.budgetTtl.toNanos(), clock.read());
        this.latencies = latencies;
        this.defaultRetryAfterNanos = c.defaultRetryAfter.toNanos();
        this.maxRetryAfterNanos = c.maxRetryAfter.toNanos();
        this.maxWaitNanos = c.maxSaturationWait.toNanos();
        this.retries = retries;
        // The synchronous path makes its first attempt before Failsafe, hence one attempt fewer here.
        this.retrier = Failsafe.with(retryPolicy(maxAttempts - 1));
    }

    static RetryPolicy<Object> retryPolicy(int attempts) {
        return RetryPolicy.builder()
                .handleIf((result, failure) -> failure != null && unwrap(failure) instanceof AttemptFailed af && af.retryable)
                .withMaxAttempts(Math.max(1, attempts))
                .build();
    }

    // ---------------------------------------------------------------- outcomes

    void recordSuccess(Slot<E> slot, long start, long now) {
        balancer.onSuccess(slot, start, now);
        if (latencies != null) {
            latencies.record(now - start);
        }
    }

    /** Records a failed attempt and says what it was. */
    Verdict recordFailure(Slot<E> slot, long start, long now, Throwable cause) {
        Verdict verdict = classifier.classify(cause);
        if (verdict == Verdict.SATURATED) {
            balancer.onSaturated(slot, start, now, saturationNanos(cause));
        } else {
            balancer.onFailure(slot, start, now, cause, verdict != Verdict.CALLER_ERROR, verdict == Verdict.UNREACHABLE);
            if (regionCheck != null) {
                if (verdict == Verdict.UNREACHABLE) {
                    regionCheck.afterRefusal(slot);
                } else if (verdict == Verdict.RETRYABLE && RegionCheck.brokenConnection(cause)) {
                    regionCheck.afterBrokenConnection(slot);
                }
            }
        }
        return verdict;
    }

    /** How long a saturation answer keeps the endpoint out: its advice, or the default, capped. */
    long saturationNanos(Throwable cause) {
        long nanos = defaultRetryAfterNanos;
        if (cause instanceof EndpointSaturatedException s && s.retryAfter().isPresent()) {
            Duration advice = s.retryAfter().get();
            nanos = advice.isNegative() ? 0 : advice.compareTo(Duration.ofNanos(maxRetryAfterNanos)) > 0
                    ? maxRetryAfterNanos : advice.toNanos();
        }
        return Math.min(nanos, maxRetryAfterNanos);
    }

    // ---------------------------------------------------------------- acquiring

    /** The first attempt's endpoint: the hot path, then waiting if every endpoint is busy. */
    Slot<E> acquireFirst(long now) {
        Slot<E> slot = balancer.acquire(now, null, 0);
        return slot != null ? slot : awaitSlot(null);
    }

    /**
     * Waits (blocking) up to the saturation wait for an endpoint to free up: until the earliest
     * saturation ends, or, when endpoints are only at their concurrency limits, until any call
     * ends (polling every millisecond at worst). Elapsed time is read from the clock; when the
     * clock does not move (a test's fake clock) each wait counts in full, so the loop ends.
     *
     * @throws AllEndpointsSaturatedException when the wait is zero or runs out
     */
    Slot<E> awaitSlot(CallAttempts<E> attempts) {
        long waited = 0;
        while (true) {
            long now = clock.read();
            Slot<E> slot;
            try {
                slot = attempts == null ? balancer.acquire(now, null, 0) : attempts.pick(balancer, now);
            } catch (NoHealthyEndpointException e) {
                if (attempts != null && attempts.readmitSaturated()) {
                    continue;
                }
                throw e;
            }
            if (slot != null) {
                return slot;
            }
            if (attempts != null && attempts.readmitSaturated()) {
                continue;
            }
            long until = attempts == null ? balancer.nanosUntilFree(now, null, 0) : attempts.nanosUntilFree(balancer, now);
            long remaining = maxWaitNanos - waited;
            if (until < 0 || remaining <= 0 || until > remaining) {
                throw saturated(Math.max(0, until), waited);
            }
            long step = Math.min(remaining, until == 0 ? LIMIT_POLL_NANOS : until);
            try {
                balancer.awaitFree(step);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw saturated(until, waited);
            }
            long elapsed = clock.read() - now;
            waited += elapsed > 0 ? elapsed : step;
        }
    }

    AllEndpointsSaturatedException saturated(long untilNanos, long waitedNanos) {
        return new AllEndpointsSaturatedException(name, Duration.ofNanos(untilNanos), Duration.ofNanos(waitedNanos));
    }

    /** Takes a retry token; false (and the call marked) when the budget refuses. */
    boolean payRetry(CallAttempts<E> attempts, long now) {
        if (!budget.tryWithdraw(now)) {
            if (attempts != null) {
                attempts.budgetRefused = true;
            }
            return false;
        }
        if (retries != null) {
            retries.increment();
        }
        return true;
    }

    /** The endpoint for a synchronous retry: paid from the budget, another endpoint, waiting if all are busy. */
    private Slot<E> nextSlot(CallAttempts<E> attempts) {
        if (!payRetry(attempts, clock.read())) {
            throw new RetryRefused();
        }
        try {
            return awaitSlot(attempts);
        } catch (NoHealthyEndpointException e) {
            throw new RetryRefused();
        }
    }

    // ---------------------------------------------------------------- synchronous calls

    <T> T call(EndpointCall<E, T> call) {
        long start = clock.read();
        Slot<E> slot = acquireFirst(start);
        budget.deposit(start);
        try {
            return attempt(slot, call, start);
        } catch (AttemptFailed failed) {
            throw CallAttempts.finalFailure(List.of(slot.endpoint().id()), List.of(failed.getCause()), failed.verdict, false);
        }
    }

    <T> T callIdempotent(EndpointCall<E, T> call) {
        long start = clock.read();
        Slot<E> first = acquireFirst(start);
        budget.deposit(start);
        try {
            return attempt(first, call, start);
        } catch (AttemptFailed failed) {
            if (!failed.retryable || maxAttempts == 1) {
                throw CallAttempts.finalFailure(List.of(first.endpoint().id()), List.of(failed.getCause()), failed.verdict, false);
            }
            CallAttempts<E> attempts = new CallAttempts<>(maxAttempts);
            attempts.add(first, failed);
            return retry(call, attempts);
        }
    }

    /**
     * Continues a call on another endpoint than {@code avoid} (a resumed stream): one retry
     * token, then an ordinary idempotent call whose first pick avoids that endpoint if any other
     * may take it.
     *
     * @throws RetryRefused if the budget refuses
     */
    <T> T callIdempotentElsewhere(String avoid, EndpointCall<E, T> call) {
        long start = clock.read();
        if (!payRetry(null, start)) {
            throw new RetryRefused();
        }
        Slot<E> avoided = balancer.find(avoid);
        CallAttempts<E> attempts = new CallAttempts<>(maxAttempts + 1);
        Slot<E> first = null;
        if (avoided != null) {
            attempts.add(avoided, null);
            try {
                first = awaitSlot(attempts);
            } catch (NoHealthyEndpointException e) {
                first = null;
            }
        }
        if (first == null) {
            first = acquireFirst(start);
        }
        attempts.add(first, null);
        budget.deposit(start);
        try {
            return attempt(first, call, clock.read());
        } catch (AttemptFailed failed) {
            attempts.failed(first, failed);
            if (!failed.retryable || maxAttempts == 1) {
                throw attempts.finalFailure();
            }
            return retry(call, attempts);
        }
    }

    private <T> T retry(EndpointCall<E, T> call, CallAttempts<E> attempts) {
        try {
            return retrier.get(() -> {
                Slot<E> slot = nextSlot(attempts);
                attempts.add(slot, null);
                long now = clock.read();
                try {
                    return attempt(slot, call, now);
                } catch (AttemptFailed f) {
                    attempts.failed(slot, f);
                    throw f;
                }
            });
        } catch (AttemptFailed | RetryRefused last) {
            throw attempts.finalFailure();
        } catch (AllEndpointsSaturatedException e) {
            throw attempts.withFailures(e);
        } catch (FailsafeException e) {
            throw attempts.finalFailure();
        }
    }

    /** One synchronous attempt on an acquired slot, with bookkeeping; failures come out as {@link AttemptFailed}. */
    private <T> T attempt(Slot<E> slot, EndpointCall<E, T> call, long start) {
        try {
            T result = call.call(slot.endpoint());
            recordSuccess(slot, start, clock.read());
            return result;
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                // Whoever threw it cleared the flag; the caller's thread must still know.
                Thread.currentThread().interrupt();
            }
            throw new AttemptFailed(e, recordFailure(slot, start, clock.read(), e));
        } finally {
            balancer.end(slot);
        }
    }

    static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }
}
