package io.dr4j.storage.transfer;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.FutureTask;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A {@link FutureTask} whose cancellation can wait for the task to really stop. A plain
 * {@code Future.cancel(true)} returns at once while the task may still be writing into a
 * caller's buffer or sending a part of an upload that is about to be aborted;
 * {@link #cancelAndAwait()} interrupts it and waits until it has left {@code run}, or makes sure
 * that it never starts. Thread-safe.
 */
final class TrackedTask<T> extends FutureTask<T> {

    private final AtomicBoolean started = new AtomicBoolean();
    private final CountDownLatch finished = new CountDownLatch(1);

    private final java.util.function.Consumer<TrackedTask<T>> onDone;

    TrackedTask(Callable<T> callable) {
        this(callable, null);
    }

    /** {@code onDone} is told (on the completing thread) when the task completes, fails or is cancelled. */
    TrackedTask(Callable<T> callable, java.util.function.Consumer<TrackedTask<T>> onDone) {
        super(callable);
        this.onDone = onDone;
    }

    @Override
    protected void done() {
        if (onDone != null) {
            onDone.accept(this);
        }
    }

    @Override
    public void run() {
        if (!started.compareAndSet(false, true)) {
            return; // cancelled before it started
        }
        try {
            super.run();
        } finally {
            finished.countDown();
        }
    }

    /** Cancels the task and returns once it can no longer touch anything, even if interrupted. */
    void cancelAndAwait() {
        if (started.compareAndSet(false, true)) {
            cancel(false);
            finished.countDown();
            return;
        }
        cancel(true);
        boolean interrupted = false;
        while (true) {
            try {
                finished.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
