package io.dr4j.failover;

/**
 * Hears {@link FailoverEvent}s. Called synchronously on the thread whose call or probe caused the
 * change, so it must be quick and must not block; an exception it throws is logged and ignored.
 * Must be thread-safe: events may arrive from several threads at once.
 */
@FunctionalInterface
public interface FailoverListener {

    /** Receives one event. */
    void onEvent(FailoverEvent event);
}
