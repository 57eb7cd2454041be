package io.dr4j.failover;

import dev.failsafe.Failsafe;
import dev.failsafe.FailsafeExecutor;
import io.dr4j.failover.CallAttempts.AttemptFailed;
import io.dr4j.failover.CallAttempts.Group;
import io.dr4j.failover.CallAttempts.RetryRefused;
import io.dr4j.failover.FailureClassifier.Verdict;
import io.micrometer.core.instrument.Counter;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The asynchronous call paths of a {@link FailoverRouter}: single attempts, idempotent calls
 * retried through Failsafe on the router's scheduler, and hedging (a backup copy after the
 * observed latency percentile, paid from the retry budget; the first success wins and the
 * others are cancelled). Waiting for a saturated endpoint never blocks a thread here: the wait is
 * a task on the scheduler.
 *
 * <p>Thread-safe.
 */
final class AsyncCalls<E> {

    /** The fallback look while endpoints are at their limits (the end of any attempt wakes a waiter first). */
    private static final long LIMIT_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    private final RouterCore<E> core;
    private final HedgePolicy hedge;
    /** Null when the router has no scheduler (no probes, hedges or saturation wait). */
    private final ScheduledExecutorService scheduler;
    private final FailsafeExecutor<Object> retrier;
    private final Counter hedges;

    AsyncCalls(RouterCore<E> core, HedgePolicy hedge, ScheduledExecutorService scheduler, Counter hedges) {
        this.core = core;
        this.hedge = hedge;
        this.scheduler = scheduler;
        this.hedges = hedges;
        FailsafeExecutor<Object> async = Failsafe.with(RouterCore.retryPolicy(core.maxAttempts));
        this.retrier = scheduler != null ? async.with(scheduler) : async;
    }

    <T> CompletableFuture<T> call(AsyncEndpointCall<E, T> call) {
        long start = core.clock.read();
        CallAttempts<E> attempts = new CallAttempts<>(1);
        CompletableFuture<T> result = new CompletableFuture<>();
        acquire(null, start).whenComplete((slot, refused) -> {
            if (refused != null) {
                result.completeExceptionally(RouterCore.unwrap(refused));
                return;
            }
            if (result.isDone()) {
                core.balancer.end(slot);
                return;
            }
            core.budget.deposit(start);
            Group<T> group = new Group<>();
            attempts.current = group;
            launch(group, slot, call, attempts);
            group.out.whenComplete((r, t) -> {
                if (t == null) {
                    result.complete(r);
                } else {
                    result.completeExceptionally(attempts.finalFailure());
                }
            });
        });
        result.whenComplete((r, t) -> {
            Group<?> g = attempts.current;
            if (t != null && g != null) {
                g.cancelAll();
            }
        });
        return result;
    }

    <T> CompletableFuture<T> callIdempotent(AsyncEndpointCall<E, T> call) {
        CallAttempts<E> attempts = new CallAttempts<>(core.maxAttempts * (1 + (hedge == null ? 0 : hedge.maxHedges())));
        long start = core.clock.read();
        Slot<E> first;
        try {
            first = core.balancer.acquire(start, null, 0);
        } catch (NoHealthyEndpointException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (first == null) {
            // Every endpoint is busy: wait for one on the scheduler, then start as usual.
            return acquire(null, start).thenCompose(slot -> start(call, slot, attempts, start));
        }
        return start(call, first, attempts, start);
    }

    private <T> CompletableFuture<T> start(AsyncEndpointCall<E, T> call, Slot<E> first, CallAttempts<E> attempts, long start) {
        core.budget.deposit(start);
        CompletableFuture<T> result = new CompletableFuture<>();
        AtomicInteger round = new AtomicInteger();
        CompletableFuture<T> execution = retrier.getStageAsync(() -> {
            boolean firstRound = round.getAndIncrement() == 0;
            if (result.isDone()) {
                if (firstRound) {
                    core.balancer.end(first);
                }
                throw new CancellationException("call completed or cancelled by the caller");
            }
            CompletableFuture<Slot<E>> slot = firstRound ? CompletableFuture.completedFuture(first) : retrySlot(attempts);
            return slot.thenCompose(s -> {
                Group<T> group = new Group<>();
                attempts.current = group;
                launch(group, s, call, attempts);
                scheduleHedge(group, call, attempts);
                return group.out;
            });
        });
        execution.whenComplete((r, t) -> {
            if (t == null) {
                result.complete(r);
            } else if (RouterCore.unwrap(t) instanceof AllEndpointsSaturatedException s) {
                result.completeExceptionally(attempts.withFailures(s));
            } else {
                result.completeExceptionally(attempts.finalFailure());
            }
        });
        result.whenComplete((r, t) -> {
            if (t != null && round.compareAndSet(0, 1)) {
                // Cancelled before Failsafe ran the first attempt: release the slot acquired for it.
                core.balancer.end(first);
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

    /** A retry's endpoint: paid from the budget, then acquired (waiting on the scheduler if all are busy). */
    private CompletableFuture<Slot<E>> retrySlot(CallAttempts<E> attempts) {
        if (!core.payRetry(attempts, core.clock.read())) {
            return CompletableFuture.failedFuture(new RetryRefused());
        }
        return acquire(attempts, core.clock.read()).exceptionallyCompose(t -> RouterCore.unwrap(t) instanceof NoHealthyEndpointException
                ? CompletableFuture.failedFuture(new RetryRefused()) : CompletableFuture.failedFuture(t));
    }

    /** Acquires an endpoint, waiting on the scheduler (never blocking) while every candidate is busy. */
    private CompletableFuture<Slot<E>> acquire(CallAttempts<E> attempts, long now) {
        CompletableFuture<Slot<E>> out = new CompletableFuture<>();
        tryAcquire(attempts, out, 0);
        return out;
    }

    private void tryAcquire(CallAttempts<E> attempts, CompletableFuture<Slot<E>> out, long waited) {
        long now = core.clock.read();
        try {
            Slot<E> slot;
            try {
                slot = attempts == null ? core.balancer.acquire(now, null, 0) : attempts.pick(core.balancer, now);
            } catch (NoHealthyEndpointException e) {
                if (attempts != null && attempts.readmitSaturated()) {
                    tryAcquire(attempts, out, waited);
                    return;
                }
                throw e;
            }
            if (slot != null) {
                if (!out.complete(slot)) {
                    core.balancer.end(slot);
                }
                return;
            }
            if (attempts != null && attempts.readmitSaturated()) {
                tryAcquire(attempts, out, waited);
                return;
            }
            long until = attempts == null ? core.balancer.nanosUntilFree(now, null, 0) : attempts.nanosUntilFree(core.balancer, now);
            long remaining = core.maxWaitNanos - waited;
            if (until < 0 || remaining <= 0 || until > remaining || scheduler == null) {
                out.completeExceptionally(core.saturated(Math.max(0, until), waited));
                return;
            }
            long step = Math.min(remaining, until == 0 ? LIMIT_POLL_NANOS : until);
            // Whichever comes first, the end of some attempt or the timer, looks again; the other does nothing.
            AtomicBoolean looked = new AtomicBoolean();
            java.util.function.BooleanSupplier again = () -> {
                if (!looked.compareAndSet(false, true)) {
                    return false;
                }
                long elapsed = core.clock.read() - now;
                tryAcquire(attempts, out, waited + (elapsed > 0 ? elapsed : step));
                return true;
            };
            if (until == 0) {
                core.balancer.onNextFree(again);
            }
            scheduler.schedule(again::getAsBoolean, step, TimeUnit.NANOSECONDS);
        } catch (RuntimeException e) {
            out.completeExceptionally(e);
        }
    }

    /** Starts an async attempt on an acquired slot; its completion does the bookkeeping and releases the slot. */
    private <T> void launch(Group<T> group, Slot<E> slot, AsyncEndpointCall<E, T> call, CallAttempts<E> attempts) {
        long start = core.clock.read();
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
            long now = core.clock.read();
            try {
                if (failure == null) {
                    core.recordSuccess(slot, start, now);
                    if (group.out.complete(result)) {
                        group.cancelAll();
                    }
                    return;
                }
                Throwable cause = RouterCore.unwrap(failure);
                if (group.out.isDone()) {
                    // The loser of a hedge, cancelled by us: says nothing about the endpoint, good or bad.
                    return;
                }
                Verdict verdict = core.recordFailure(slot, start, now, cause);
                AttemptFailed failed = new AttemptFailed(cause, verdict);
                attempts.failed(slot, failed);
                if (group.pending.decrementAndGet() == 0 || !failed.retryable) {
                    group.out.completeExceptionally(failed);
                }
            } finally {
                core.balancer.end(slot);
            }
        });
    }

    private <T> void scheduleHedge(Group<T> group, AsyncEndpointCall<E, T> call, CallAttempts<E> attempts) {
        if (hedge == null) {
            return;
        }
        long delay = Math.max(hedge.minDelay().toNanos(), core.latencies.quantileNanos(core.clock.read()));
        if (delay == Long.MAX_VALUE) {
            return;
        }
        group.hedgeTimer = scheduler.schedule(() -> {
            if (group.out.isDone() || group.hedgesSent >= hedge.maxHedges()) {
                return;
            }
            // A hedge never waits: if every other endpoint is busy, the original attempt carries on alone.
            if (!core.payRetry(attempts, core.clock.read())) {
                return;
            }
            Slot<E> slot;
            try {
                slot = attempts.pick(core.balancer, core.clock.read());
            } catch (NoHealthyEndpointException e) {
                return;
            }
            if (slot == null) {
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
}
