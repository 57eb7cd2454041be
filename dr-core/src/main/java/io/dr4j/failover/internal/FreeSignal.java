package io.dr4j.failover.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Wakes callers that wait for an endpoint to free up (every one saturated or at its concurrency
 * limit) when any attempt ends. The end of an attempt reads one volatile int and takes the
 * monitor only while someone waits. A wake-up can be missed between a waiter's look at the
 * endpoints and its wait; waiters therefore bound each wait (see {@code RouterCore}).
 *
 * <p>Thread-safe.
 */
final class FreeSignal {

    private final AtomicInteger waiters = new AtomicInteger();

    /** Called at the end of every attempt. */
    void signal() {
        if (waiters.get() != 0) {
            synchronized (this) {
                notifyAll();
            }
        }
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
