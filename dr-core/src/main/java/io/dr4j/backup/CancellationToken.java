package io.dr4j.backup;

/**
 * Lets another thread cancel a running backup, restore or verify: the operation stops at the
 * next chunk boundary and throws {@link OperationCancelledException}. Interrupting the calling
 * thread has the same effect. Thread-safe; a token stays cancelled once cancelled.
 */
public final class CancellationToken {

    private volatile boolean cancelled;

    /** Requests cancellation. */
    public void cancel() {
        cancelled = true;
    }

    /** Whether {@link #cancel()} was called. */
    public boolean isCancelled() {
        return cancelled;
    }
}
