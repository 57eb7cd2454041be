package io.dr4j.failover;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * Wakes callers that wait for an endpoint to free up (every one saturated or at its concurrency
 * limit) when any attempt ends: blocked threads through the monitor, asynchronous waiters by
 * running the next parked task, first parked first (so that async callers are served in the
 * order they came). The end of an attempt reads one volatile int and does more only while
 * someone waits. A wake-up can be missed between a waiter's look at the endpoints and its wait;
 * waiters therefore bound each wait (see {@code RouterCore}, {@code AsyncCalls}), and a parked
 * task must do nothing when its wait already ended another way.
 *
 * <p>Thread-safe.
 */
final class FreeSignal {

    private final AtomicInteger waiters = new AtomicInteger();
    private final ConcurrentLinkedQueue<BooleanSupplier> parked = new ConcurrentLinkedQueue<>();

    /** Called at the end of every attempt. */
    void signal() {
        if (waiters.get() != 0) {
            synchronized (this) {
                notifyAll();
            }
            // Skip the tasks whose wait already ended by their timer: wake one that still waits.
            BooleanSupplier next;
            while ((next = parked.poll()) != null) {
                waiters.decrementAndGet();
                if (next.getAsBoolean()) {
                    break;
                }
            }
        }
    }

    /** Runs {@code task} on the thread that ends the next attempt; it returns false if it had nothing left to do. */
    void park(BooleanSupplier task) {
        waiters.incrementAndGet();
        parked.add(task);
    }

    /** How many callers wait right now (blocked or parked): what a test awaits instead of sleeping. */
    int waiters() {
        return waiters.get();
    }

    /** Waits until {@link #signal} or {@code nanos} pass. */
    void await(long nanos) throws InterruptedException {
        if (nanos <= 0) {
            return;
        }
        waiters.incrementAndGet();
        try {
            synchronized (this) {
                TimeUnit.NANOSECONDS.timedWait(this, nanos);
            }
        } finally {
            waiters.decrementAndGet();
        }
    }
}
