package io.dr4j.failover;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;

/**
 * An active health probe: returns normally when the endpoint is healthy, throws otherwise. It
 * runs on the router's scheduler, one endpoint after another, so it must bound its own time
 * (a request timeout well below the probe interval). Called from the scheduler thread only, one
 * probe at a time (as a {@linkplain FailoverRouterBuilder#regionCheck region check}, from the
 * router's check threads, one check per endpoint at a time).
 *
 * @param <E> the endpoint payload type
 */
@FunctionalInterface
public interface HealthCheck<E> {

    /** Probes {@code endpoint}; throws when it is not healthy. */
    void check(Endpoint<E> endpoint) throws Exception;

    /**
     * A bare TCP connect to the endpoint's address, closed at once: healthy when something
     * accepts the connection within {@code timeout}. A refusal surfaces as
     * {@link java.net.ConnectException} (classified {@link FailureClassifier.Verdict#UNREACHABLE
     * UNREACHABLE}), a timeout as {@link java.net.SocketTimeoutException}. The payload must be a
     * {@link URI} with a host (port from the URI, else 80 for http and 443 for https) or an
     * {@link InetSocketAddress}; another payload fails the check with an
     * {@link IllegalArgumentException} naming its type. Cheaper than an HTTP probe (no request, no
     * client's thread hand-offs) but it proves only that a process listens, not that it serves:
     * the default {@linkplain FailoverRouterBuilder#regionCheck region check}; as a periodic
     * {@link FailoverRouterBuilder#healthCheck healthCheck} it can run at short intervals.
     * Thread-safe.
     *
     * @param timeout the connect timeout, 1 ms to 1 min
     */
    static <E> HealthCheck<E> tcpConnect(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.compareTo(Duration.ofMillis(1)) < 0 || timeout.compareTo(Duration.ofMinutes(1)) > 0) {
            throw new IllegalArgumentException("TCP connect timeout must be 1 ms to 1 min, was " + timeout);
        }
        int millis = (int) timeout.toMillis();
        return endpoint -> {
            InetSocketAddress address = socketAddress(endpoint);
            try (Socket socket = new Socket()) {
                socket.connect(address, millis);
            }
        };
    }

    private static InetSocketAddress socketAddress(Endpoint<?> endpoint) {
        try {
            return ConnectionWatch.addressOf(endpoint);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("TCP connect check: " + e.getMessage(), e);
        }
    }
}
