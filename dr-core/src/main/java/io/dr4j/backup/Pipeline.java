package io.dr4j.backup;

import io.dr4j.Dr4jException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Shared machinery of a bounded parallel operation: an in-flight byte budget (back-pressure for
 * whoever produces chunks), the first failure (which stops everyone), and cancellation through
 * a token or interruption. Thread-safe.
 */
final class Pipeline {

    private final Semaphore budget;
    private final int budgetPermits;
    private final CancellationToken token;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final String operation;

    /** Budget in KiB permits, so that more than 2 GiB can be configured. */
    public Pipeline(long inFlightBytes, CancellationToken token, String operation) {
        this.budgetPermits = (int) Math.min(Integer.MAX_VALUE, Math.max(1, inFlightBytes >> 10));
        this.budget = new Semaphore(budgetPermits);
        this.token = token;
        this.operation = operation;
    }

    private int permits(long bytes) {
        return (int) Math.min(budgetPermits, Math.max(1, (bytes + 1023) >> 10));
    }

    /** Waits for room for {@code bytes}; throws if the operation failed or was cancelled meanwhile. */
    public void acquire(long bytes) {
        int permits = permits(bytes);
        while (true) {
            checkRunning();
            try {
                if (budget.tryAcquire(permits, 100, TimeUnit.MILLISECONDS)) {
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail(new OperationCancelledException(operation + " was interrupted"));
                checkRunning();
            }
        }
    }

    /** Returns room for {@code bytes}. */
    public void release(long bytes) {
        budget.release(permits(bytes));
    }

    /** Work on one pack range, given a pooled range buffer and a pooled plaintext buffer. */
    @FunctionalInterface
    interface RangeWork {
        void run(byte[] range, byte[] plain) throws IOException;
    }

    /** A piece of work submitted through {@link #submit}. */
    @FunctionalInterface
    interface Work {
        void run() throws IOException;
    }

    /**
     * Submits one piece of the operation to {@code executor}, as the pack uploads, restore, verify
     * and copy all do: work whose pipeline has stopped is skipped; {@code release} runs when the
     * work ends, however it ends (and at once if the executor refuses it); a failure of the work is
     * recorded here and stops the rest.
     *
     * @throws OperationCancelledException if the executor was shut down (the repository was closed)
     */
    CompletableFuture<Void> submit(Executor executor, Work work, Runnable release) {
        CompletableFuture<Void> f;
        try {
            f = CompletableFuture.runAsync(() -> {
                try {
                    checkRunning();
                    work.run();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                } finally {
                    release.run();
                }
            }, executor);
        } catch (RejectedExecutionException e) {
            release.run();
            throw new OperationCancelledException(operation + " stopped: the repository was closed", e);
        }
        return f.whenComplete((v, e) -> {
            if (e != null) {
                fail(e);
            }
        });
    }

    /**
     * {@link #submit} for one pack range: the range buffer is taken here, so the caller waits while
     * every range buffer is in flight (the memory bound); the plaintext buffer is taken on the
     * worker; both go back to their pools when the work ends.
     */
    CompletableFuture<Void> submitRange(Executor executor, BufferPool rangePool, BufferPool plainPool, RangeWork work) {
        byte[] range = rangePool.take(this::stopped);
        return submit(executor, () -> {
            byte[] plain = plainPool.take(this::stopped);
            try {
                work.run(range, plain);
            } finally {
                plainPool.give(plain);
            }
        }, () -> rangePool.give(range));
    }

    /** Records a failure; the first one wins and stops the operation. */
    public void fail(Throwable t) {
        failure.compareAndSet(null, unwrap(t));
    }

    /** Whether the operation should stop. */
    public boolean stopped() {
        return failure.get() != null || token.isCancelled();
    }

    /** Throws the recorded failure, or {@link OperationCancelledException} if cancelled. */
    public void checkRunning() {
        Throwable t = failure.get();
        if (t != null) {
            throw rethrowable(t);
        }
        if (token.isCancelled()) {
            fail(new OperationCancelledException(operation + " was cancelled"));
            throw rethrowable(failure.get());
        }
        if (Thread.currentThread().isInterrupted()) {
            fail(new OperationCancelledException(operation + " was interrupted"));
            throw rethrowable(failure.get());
        }
    }

    /**
     * Waits for all {@code futures}, watching for cancellation; on failure or cancellation waits
     * for the rest to finish (they see {@link #stopped()} and skip their work) and rethrows.
     */
    public <T> void awaitAll(List<? extends CompletableFuture<? extends T>> futures) {
        CompletableFuture<Void> all = CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0]));
        boolean interrupted = false;
        while (true) {
            try {
                all.get(100, TimeUnit.MILLISECONDS);
                break;
            } catch (TimeoutException e) {
                if (token.isCancelled() && failure.get() == null) {
                    fail(new OperationCancelledException(operation + " was cancelled"));
                }
            } catch (InterruptedException e) {
                interrupted = true;
                fail(new OperationCancelledException(operation + " was interrupted"));
            } catch (ExecutionException | CancellationException e) {
                fail(e);
                break;
            }
        }
        if (failure.get() != null) {
            // let the stragglers notice and drain, so nothing writes after we return
            for (CompletableFuture<? extends T> f : futures) {
                try {
                    f.join();
                } catch (RuntimeException ignored) {
                    // already recorded
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Throwable t = failure.get();
        if (t != null) {
            throw rethrowable(t);
        }
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException || t instanceof UncheckedIOException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private RuntimeException rethrowable(Throwable t) {
        if (t instanceof CancellationException) {
            return new OperationCancelledException(operation + " was cancelled", t);
        }
        if (t instanceof Dr4jException) {
            return (Dr4jException) t;
        }
        if (t instanceof InterruptedIOException || t instanceof java.nio.channels.ClosedByInterruptException) {
            return new OperationCancelledException(operation + " was interrupted", t);
        }
        if (t instanceof IOException) {
            return new Dr4jException(operation + " failed: " + t.getMessage(), t);
        }
        if (t instanceof RuntimeException) {
            return (RuntimeException) t;
        }
        if (t instanceof Error) {
            throw (Error) t;
        }
        return new Dr4jException(operation + " failed: " + t, t);
    }
}
