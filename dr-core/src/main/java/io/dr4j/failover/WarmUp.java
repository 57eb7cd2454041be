package io.dr4j.failover;

import io.dr4j.Dr4jException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the failure path once when a router or client is built, so that the first real failure
 * of a process does not pay for it. A router can serve for days without a single failure; when
 * the region finally dies, every call in flight would otherwise meet code that never ran: the
 * classes of the failure path (exceptions, verdicts, ejection events, Failsafe's retry
 * lambdas, the JDK {@code HttpClient}'s connect-failure path) loaded, linked and interpreted
 * for the first time at the worst possible moment (measured: a first refused connection in a
 * fresh JVM takes 11–24 ms to surface, 3–9 ms after one refusal has been seen before).
 *
 * <p>The warm-up never calls a configured endpoint. {@link #router} works in memory, on two
 * throwaway routers whose calls throw; {@link #closedLoopbackPort} names a port on the loopback
 * interface on which nothing listens (bound, then closed), so a connection to it is refused in
 * about a millisecond without leaving the machine. A warm-up that fails is logged at debug level
 * and ignored: it is an optimisation, never a reason for {@code build()} to fail.
 *
 * <p>It runs in the background ({@link #start}): {@code build()} returns without waiting for it.
 *
 * <p>Stateless; safe to call from any thread.
 */
final class WarmUp {

    private static final Logger LOG = LoggerFactory.getLogger(WarmUp.class);

    private WarmUp() {
    }

    /** What a warm-up did: how long it took, how many failed attempts it went through, and what went wrong, if anything. */
    record Result(long nanos, int failedAttempts, Optional<Throwable> failure) {
        static final Result SKIPPED = new Result(0, 0, Optional.empty());
    }

    /** A piece of warm-up work; returns the failed attempts it went through. */
    @FunctionalInterface
    interface Task {
        int run() throws Exception;
    }

    /**
     * Starts {@code task} on a daemon thread of its own and returns at once: {@code build()} does
     * not wait for the warm-up (in a fresh JVM it loads and links the failure path for 50 to 150 ms
     * of a loaded 2-vCPU machine), and the warm-up is over long before a router that was just
     * built meets its first failure. A failure that comes sooner finds the path as cold as
     * without a warm-up, no worse. The future never fails: its result carries any failure.
     */
    static CompletableFuture<Result> start(String what, Task task) {
        CompletableFuture<Result> done = new CompletableFuture<>();
        Thread t = new Thread(() -> done.complete(run(what, task)), "dr4j-warm-up");
        t.setDaemon(true);
        t.start();
        return done;
    }

    /** Runs {@code task}, timed; a failure is logged and returned, never thrown. */
    static Result run(String what, Task task) {
        long start = System.nanoTime();
        Throwable failure = null;
        int failed = 0;
        try {
            failed = task.run();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure = e;
        } catch (Exception | LinkageError | AssertionError e) {
            failure = e;
        }
        long nanos = System.nanoTime() - start;
        if (failure != null) {
            LOG.debug("{}: warm-up of the failure path failed after {} µs (ignored): {}", what, nanos / 1000, failure.toString());
        } else {
            LOG.debug("{}: failure path warmed up in {} µs ({} failed attempts)", what, nanos / 1000, failed);
        }
        return new Result(nanos, failed, Optional.ofNullable(failure));
    }

    /**
     * The router's failure path, in memory: on throwaway routers (a dead endpoint at priority 0,
     * a live one at 1, no listeners, meters or scheduler of the caller's), one synchronous and one
     * asynchronous idempotent call each meet a refused connection, eject the dead endpoint (which
     * moves the traffic split) and are retried on the live one; then a call that fails everywhere
     * and one that meets a saturated endpoint. Touches nothing outside this JVM.
     */
    static int router() throws Exception {
        try (FailoverRouter<String> sync = throwaway(); FailoverRouter<String> async = throwaway()) {
            EndpointCall<String, String> refusedOnDead = endpoint -> {
                if (endpoint.id().equals("dead")) {
                    throw new ConnectException("warm-up: nothing listens at " + endpoint.id());
                }
                return endpoint.id();
            };
            sync.callIdempotent(refusedOnDead);
            async.callIdempotentAsync(endpoint -> endpoint.id().equals("dead")
                    ? CompletableFuture.failedFuture(new ConnectException("warm-up: nothing listens at " + endpoint.id()))
                    : CompletableFuture.completedFuture(endpoint.id())).get();
            try {
                sync.callIdempotent(endpoint -> {
                    throw new EndpointStatusException(endpoint.id(), 503, "warm-up");
                });
            } catch (EndpointCallException expected) {
                // The final-failure path is what is being loaded.
            }
            try {
                async.callIdempotent(endpoint -> {
                    throw new EndpointSaturatedException(endpoint.id(), 429, "warm-up", Optional.of(Duration.ZERO));
                });
            } catch (Dr4jException expected) {
                // Saturated everywhere it may go: the saturation path is what is being loaded.
            }
            return failedAttempts(sync) + failedAttempts(async);
        }
    }

    /**
     * The connection watch's path ({@link FailoverRouterBuilder#connectionWatch}), for a router
     * that has it on: a throwaway router watches a server socket of this method's own on the
     * loopback interface, which then stops listening and closes the held connection, so the
     * watch sees the close, the region check's connect is refused and the endpoint is ejected,
     * as when a real server dies. Touches nothing outside this JVM.
     *
     * @return 1 (the ejection, which this method waits for, up to 2 s)
     */
    static int watch() throws Exception {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        CountDownLatch ejected = new CountDownLatch(1);
        ServerSocket server = new ServerSocket(0, 4, loopback);
        try (server; FailoverRouter<InetSocketAddress> router = FailoverRouter.<InetSocketAddress>builder().name("dr4j-warm-up")
                .warmUp(false).connectionWatch(true)
                .listener(e -> {
                    if (e instanceof FailoverEvent.Ejected) {
                        ejected.countDown();
                    }
                })
                .endpoint(Endpoint.of("dying", "warm-up-a", 0, new InetSocketAddress(loopback, server.getLocalPort())))
                .build()) {
            server.setSoTimeout(2_000);
            try (Socket held = server.accept()) {
                server.close();
                held.shutdownOutput();
            }
            if (!ejected.await(2, TimeUnit.SECONDS)) {
                throw new IllegalStateException("warm-up: the connection watch did not eject a closed loopback endpoint within 2 s");
            }
            return 1;
        }
    }

    /** Failed attempts (counted failures and saturation answers) a router saw on all its endpoints. */
    static int failedAttempts(FailoverRouter<?> router) {
        long n = 0;
        for (EndpointStatus<?> s : router.endpoints()) {
            n += s.failures() + s.saturations();
        }
        return (int) n;
    }

    private static FailoverRouter<String> throwaway() {
        return FailoverRouter.<String>builder().name("dr4j-warm-up").warmUp(false)
                .endpoint(Endpoint.of("dead", "warm-up-a", 0, "dead"))
                .endpoint(Endpoint.of("live", "warm-up-b", 1, "live"))
                .whenAllSaturated(Duration.ZERO)
                .build();
    }

    /**
     * A base URI on the loopback interface at which nothing listens: a port the system handed out,
     * bound and closed again at once. A connection to it is refused by the local kernel.
     */
    static URI closedLoopbackPort() throws IOException {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, loopback)) {
            port = s.getLocalPort();
        }
        String host = loopback.getHostAddress();
        return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port + "/");
    }
}
