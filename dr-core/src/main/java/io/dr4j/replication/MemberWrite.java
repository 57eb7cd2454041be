package io.dr4j.replication;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * One write (put or delete) to one member, run on an executor and cancellable by interrupting
 * the thread running it. Unlike {@link java.util.concurrent.Future#cancel}, cancelling never
 * skips the task's completion step, so budgets and reference counts are always released, and
 * {@link #awaitDone} waits for the write to really stop (an interrupted atomic put has either
 * landed or not by then).
 *
 * <p>Thread-safe.
 */
final class MemberWrite implements Runnable {

    /** The write itself. */
    @FunctionalInterface
    public interface Body {
        void run() throws Exception;
    }

    /** Told the outcome once the write has stopped: {@code failure} is null on success. */
    @FunctionalInterface
    public interface Completion {
        void done(MemberWrite write, Throwable failure);
    }

    private final Member member;
    private final Body body;
    private final Completion completion;
    private final CountDownLatch done = new CountDownLatch(1);
    private Thread runner;
    private boolean cancelled;

    public MemberWrite(Member member, Body body, Completion completion) {
        this.member = member;
        this.body = body;
        this.completion = completion;
    }

    public Member member() {
        return member;
    }

    @Override
    public void run() {
        Throwable failure = null;
        try {
            synchronized (this) {
                if (cancelled) {
                    throw new java.io.InterruptedIOException(member.name() + ": write cancelled before it started");
                }
                runner = Thread.currentThread();
            }
            body.run();
        } catch (Throwable t) {
            failure = t;
        } finally {
            synchronized (this) {
                runner = null;
                Thread.interrupted(); // an interrupt meant for this write must not leak into the pool's next task
            }
            try {
                completion.done(this, failure);
            } finally {
                done.countDown();
            }
        }
    }

    /** Stops the write: interrupts it if running, or makes it fail at once if not yet started. */
    public synchronized void cancel() {
        cancelled = true;
        if (runner != null) {
            runner.interrupt();
        }
    }

    public synchronized boolean cancelled() {
        return cancelled;
    }

    /** Waits up to {@code timeoutNanos} for the write to stop; returns whether it did. */
    public boolean awaitDone(long timeoutNanos) throws InterruptedException {
        return done.await(timeoutNanos, TimeUnit.NANOSECONDS);
    }

    public boolean isDone() {
        return done.getCount() == 0;
    }
}
