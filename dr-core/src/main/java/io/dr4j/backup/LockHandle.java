package io.dr4j.backup;

import io.dr4j.Dr4jException;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A held {@link RepositoryLock}, refreshed on the repository's scheduler every third of
 * {@link RepositoryOptions#lockStaleAfter()} until closed. Closing twice is harmless.
 */
final class LockHandle implements AutoCloseable {

    private final RepositoryLock lock;
    private final ScheduledFuture<?> refresher;

    private LockHandle(RepositoryLock lock, String purpose, Context ctx, ScheduledExecutorService scheduler) {
        this.lock = lock;
        long period = Math.max(1, ctx.options().lockStaleAfter().toMillis() / 3);
        this.refresher = scheduler.scheduleAtFixedRate(() -> {
            try {
                lock.refresh(purpose);
            } catch (IOException | RuntimeException e) {
                // the next refresh tries again; a lock gone stale only weakens protection from prune
            }
        }, period, period, TimeUnit.MILLISECONDS);
    }

    /**
     * Takes a lock of {@code mode} for {@code purpose}.
     *
     * @throws RepositoryLockedException if a conflicting lock is held
     * @throws Dr4jException if the store fails
     */
    static LockHandle acquire(Context ctx, ScheduledExecutorService scheduler, RepositoryLock.Mode mode, String purpose,
            String storeName) {
        try {
            RepositoryLock lock = RepositoryLock.acquire(ctx.store(), mode, ctx.options().host(), ctx.options().clock(),
                    ctx.options().lockStaleAfter(), purpose);
            return new LockHandle(lock, purpose, ctx, scheduler);
        } catch (IOException e) {
            throw new Dr4jException("cannot lock the repository in " + storeName + " for " + purpose + ": "
                    + e.getMessage(), e);
        }
    }

    /** Removes stale locks, or with {@code all} every lock; see {@link Repository#unlock}. */
    static List<LockInfo> remove(Context ctx, boolean all, String storeName) {
        try {
            return RepositoryLock.remove(ctx.store(), ctx.options().lockStaleAfter(), all).stream()
                    .map(h -> new LockInfo(h.key().value(), h.mode().name().toLowerCase(java.util.Locale.ROOT), h.host(),
                            h.pid(), h.purpose(), h.created(), h.lastWritten(), h.stale()))
                    .toList();
        } catch (IOException e) {
            throw new Dr4jException("unlocking " + storeName + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        refresher.cancel(false);
        try {
            lock.close();
        } catch (IOException e) {
            // a lock left behind goes stale and is removed by the next prune
        }
    }
}
