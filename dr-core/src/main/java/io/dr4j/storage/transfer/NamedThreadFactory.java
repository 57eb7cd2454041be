package io.dr4j.storage.transfer;

import java.util.Objects;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Daemon threads named {@code <prefix>-<n>}: the one thread factory of dr4j's executors, so a
 * thread dump says which store (and which bucket or container) a thread works for, and no pool
 * keeps a JVM alive. Thread-safe.
 */
public final class NamedThreadFactory implements ThreadFactory {

    private final String prefix;
    private final AtomicInteger count = new AtomicInteger();

    /** Threads named {@code prefix-1}, {@code prefix-2}, ... */
    public NamedThreadFactory(String prefix) {
        this.prefix = Objects.requireNonNull(prefix, "prefix");
    }

    @Override
    public Thread newThread(Runnable r) {
        Thread t = new Thread(r, prefix + "-" + count.incrementAndGet());
        t.setDaemon(true);
        return t;
    }

    @Override
    public String toString() {
        return "NamedThreadFactory[" + prefix + "]";
    }
}
