package io.dr4j.failover;

import io.dr4j.failover.FailureClassifier.Verdict;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.http.HttpTimeoutException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks the rest of a region at once when one of its endpoints refused a connection, and the
 * endpoint itself too when a connection to it broke ({@link FailoverRouterBuilder#regionCheck}). A refused connection says that nothing listens at
 * that address; when a host, a rack or a region goes down, its other endpoints are usually gone
 * too, but without this each of them is found out only by a call of its own that fails (through
 * an HTTP client that may take milliseconds to report the refusal, and retry the connect first).
 * Here each other healthy endpoint of the region gets one check (by default a bare TCP connect,
 * well under a millisecond on a LAN), on this class's own threads, never the caller's; an
 * endpoint whose check is refused as well ({@link Verdict#UNREACHABLE UNREACHABLE} by the
 * router's classifier) counts one refused connection, which ejects it by default. A check that
 * times out or fails otherwise changes nothing: only a refusal is proof.
 *
 * <p>Bounded: at most one check per endpoint runs at a time (further refusals meanwhile start
 * none), on at most {@value #MAX_THREADS} daemon threads that exist only while checks run. It
 * runs only after a refused attempt, so a healthy router never checks anything. Thread-safe;
 * {@link #close()} stops the threads.
 */
final class RegionCheck<E> implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RegionCheck.class);
    static final int MAX_THREADS = 4;

    private final Balancer<E> balancer;
    private final HealthCheck<E> check;
    private final FailureClassifier classifier;
    private final NanoClock clock;
    private final ThreadPoolExecutor executor;
    private volatile boolean suspended;

    RegionCheck(Balancer<E> balancer, HealthCheck<E> check, FailureClassifier classifier, NanoClock clock) {
        this.balancer = balancer;
        this.check = check;
        this.classifier = classifier;
        this.clock = clock;
        AtomicInteger threads = new AtomicInteger();
        String name = "dr4j-region-check-" + balancer.name() + "-";
        this.executor = new ThreadPoolExecutor(MAX_THREADS, MAX_THREADS, 5, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, name + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        executor.allowCoreThreadTimeOut(true);
    }

    /** {@code refused} refused a connection: checks every other healthy endpoint of its region, asynchronously. */
    void afterRefusal(Slot<E> refused) {
        checkRegion(refused, false);
    }

    /**
     * A connection to {@code broken} broke before an answer came (an I/O error that is neither a
     * refusal nor a timeout, such as a reset or a close by the peer): a server that died under
     * the calls in flight looks like this before any new connection is refused. Checks
     * {@code broken} itself and every other healthy endpoint of its region, asynchronously.
     */
    void afterBrokenConnection(Slot<E> broken) {
        checkRegion(broken, true);
    }

    /** Whether {@code failure} (unwrapped) is a connection that broke: an I/O error other than a refusal or a timeout. */
    static boolean brokenConnection(Throwable failure) {
        return failure instanceof IOException && !(failure instanceof InterruptedIOException)
                && !(failure instanceof HttpTimeoutException) && !(failure instanceof ConnectException);
    }

    /** Stops all further checks (the default check cannot see what the application's HTTP client reaches: a proxy). */
    void suspend() {
        suspended = true;
    }

    boolean suspended() {
        return suspended;
    }

    private void checkRegion(Slot<E> failed, boolean includeFailed) {
        if (suspended) {
            return;
        }
        String region = failed.endpoint().region();
        String after = failed.endpoint().id();
        for (Slot<E> s : balancer.activeSlots()) {
            if ((s != failed || includeFailed) && s.state.get() == Slot.HEALTHY && s.endpoint().region().equals(region)
                    && s.regionCheckRunning.compareAndSet(false, true)) {
                try {
                    executor.execute(() -> checkOne(s, after));
                } catch (RejectedExecutionException closed) {
                    s.regionCheckRunning.set(false);
                    return;
                }
            }
        }
    }

    private void checkOne(Slot<E> s, String after) {
        try {
            if (s.state.get() == Slot.HEALTHY) {
                check.check(s.endpoint());
            }
        } catch (Exception e) {
            if (classifier.classify(e) == Verdict.UNREACHABLE) {
                LOG.debug("router '{}': region check of {} after a failure of {}: refused: {}", balancer.name(), s.endpoint().id(),
                        after, e.toString());
                balancer.onRegionCheckRefused(s, clock.read());
            } else {
                LOG.debug("router '{}': region check of {} after {} failed without a refusal (ignored): {}", balancer.name(),
                        s.endpoint().id(), after, e.toString());
            }
        } catch (Error e) {
            LOG.warn("router '{}': region check of {} threw", balancer.name(), s.endpoint().id(), e);
        } finally {
            s.regionCheckRunning.set(false);
        }
    }

    /** Stops the check threads; checks still running are interrupted. */
    @Override
    public void close() {
        executor.shutdownNow();
    }
}
