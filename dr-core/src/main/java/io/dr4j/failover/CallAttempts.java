package io.dr4j.failover;

import io.dr4j.failover.FailureClassifier.Verdict;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The attempts of one routed call, kept only once its first attempt failed (or for async calls):
 * which endpoints were tried, what failed, and how the call ends. An endpoint that answered
 * "saturated" counts as tried while others are free, but is {@linkplain #readmitSaturated
 * readmitted} when nothing else is, so the call may come back to it once its time has passed.
 *
 * <p>Thread-safe: async attempts and hedges record into it from several threads.
 */
final class CallAttempts<E> {

    private final Slot<E>[] tried;
    private int count;
    private final List<String> ids = new ArrayList<>();
    private final List<AttemptFailed> failures = new ArrayList<>();
    private final List<Slot<E>> saturated = new ArrayList<>();
    volatile boolean budgetRefused;
    volatile Group<?> current;

    CallAttempts(int capacity) {
        this.tried = Slot.array(Math.max(1, capacity));
    }

    synchronized void add(Slot<E> slot, AttemptFailed failure) {
        if (count < tried.length) {
            tried[count++] = slot;
        }
        ids.add(slot.endpoint().id());
        if (failure != null) {
            failed(slot, failure);
        }
    }

    synchronized void failed(Slot<E> slot, AttemptFailed failure) {
        failures.add(failure);
        if (failure.verdict == Verdict.SATURATED) {
            saturated.add(slot);
        }
    }

    /** Makes the endpoints that answered "saturated" eligible again for this call; false if there were none. */
    synchronized boolean readmitSaturated() {
        if (saturated.isEmpty()) {
            return false;
        }
        for (Slot<E> s : saturated) {
            for (int i = 0; i < count; i++) {
                if (tried[i] == s) {
                    tried[i] = tried[--count];
                    tried[count] = null;
                    break;
                }
            }
        }
        saturated.clear();
        return true;
    }

    /** Picks another endpoint (null when all the untried ones are busy). */
    synchronized Slot<E> pick(Balancer<E> balancer, long now) {
        return balancer.acquire(now, tried, count);
    }

    synchronized long nanosUntilFree(Balancer<E> balancer, long now) {
        return balancer.nanosUntilFree(now, tried, count);
    }

    /** The exception that ends the call. */
    synchronized RuntimeException finalFailure() {
        if (failures.isEmpty()) {
            return new CancellationException("call cancelled after attempts on " + ids);
        }
        List<Throwable> causes = new ArrayList<>();
        for (AttemptFailed f : failures) {
            causes.add(f.getCause());
        }
        return finalFailure(List.copyOf(ids), causes, failures.get(failures.size() - 1).verdict, budgetRefused);
    }

    /** Adds the failures so far to {@code e} as suppressed, and returns it. */
    synchronized <X extends RuntimeException> X withFailures(X e) {
        for (AttemptFailed f : failures) {
            e.addSuppressed(f.getCause());
        }
        return e;
    }

    static RuntimeException finalFailure(List<String> tried, List<Throwable> failures, Verdict verdict, boolean budgetRefused) {
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

    /** A failed attempt travelling through Failsafe; no stack trace, it is control flow. */
    static final class AttemptFailed extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final transient Verdict verdict;
        final boolean retryable;

        AttemptFailed(Throwable cause, Verdict verdict) {
            super(cause.toString(), cause, false, false);
            this.verdict = verdict;
            this.retryable = verdict == Verdict.RETRYABLE || verdict == Verdict.UNREACHABLE || verdict == Verdict.SATURATED;
        }
    }

    /** The budget (or the endpoint set) refused another attempt. */
    static final class RetryRefused extends RuntimeException {
        private static final long serialVersionUID = 1L;

        RetryRefused() {
            super("retry refused", null, false, false);
        }
    }

    /** One attempt of an async call and its hedges: the first success completes {@link #out}. */
    static final class Group<T> {
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
}
