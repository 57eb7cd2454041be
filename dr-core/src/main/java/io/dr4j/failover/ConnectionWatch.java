package io.dr4j.failover;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds one idle TCP connection to each healthy endpoint and runs the {@link RegionCheck} the
 * moment the peer closes or resets it ({@link FailoverRouterBuilder#connectionWatch}). When a
 * server process dies, its kernel closes its sockets at once, so the held connection reports the
 * death within a scheduling delay, before any call has to meet a refused connection (which the
 * JDK's HTTP client reports milliseconds later, after a silent second connect). The watch itself
 * never ejects: it only starts the region check, whose refused connect is the proof; a server
 * that merely closed an idle connection (its keep-alive or header timeout) still accepts the
 * check, changes nothing, and gets a new held connection.
 *
 * <p>Bounded: one connection per healthy endpoint (none to an ejected or recovering one), one
 * daemon thread for the whole router, a 256-byte read buffer, and a reconnect backoff (100 ms,
 * doubling up to 60 s while connections live under a second, reset by one that lives longer),
 * so a server that closes every idle connection at once costs one connect per minute. What
 * the server sends on the held connection is read and dropped. Timing is the JVM's
 * {@link System#nanoTime()}, not the router's clock: it paces real sockets.
 *
 * <p>Thread-safe: all state belongs to the watch thread; {@link #close()} may be called from
 * any thread and closes every held connection before it returns.
 */
final class ConnectionWatch<E> implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ConnectionWatch.class);
    static final long TICK_MILLIS = 100;
    static final long MIN_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    static final long MAX_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(60);
    /** A held connection that the peer closes sooner than this doubles the reconnect backoff. */
    static final long SHORT_LIVED_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Balancer<E> balancer;
    private final RegionCheck<E> regionCheck;
    private final Selector selector;
    private final Thread thread;
    /** Watch thread only. */
    private final Map<Slot<E>, Watched> watched = new HashMap<>();
    private final ByteBuffer sink = ByteBuffer.allocateDirect(256);
    /** Sweeps so far (watch thread only). */
    private long sweeps;
    private volatile boolean closed;

    /** What the watch holds for one endpoint (watch thread only). */
    private final class Watched {
        final Slot<E> slot;
        SocketChannel channel;
        long connectedAt;
        long notBefore;
        long backoff = MIN_BACKOFF_NANOS;
        /** The last {@link #sweeps} that found the endpoint active; an older one means it was removed. */
        long seenInSweep;

        Watched(Slot<E> slot) {
            this.slot = slot;
        }
    }

    private ConnectionWatch(Balancer<E> balancer, RegionCheck<E> regionCheck) throws IOException {
        this.balancer = balancer;
        this.regionCheck = regionCheck;
        this.selector = Selector.open();
        this.thread = new Thread(this::run, "dr4j-connection-watch-" + balancer.name());
        thread.setDaemon(true);
    }

    /** Starts watching the balancer's active endpoints; their payloads need a socket address ({@link #addressOf}). */
    static <E> ConnectionWatch<E> start(Balancer<E> balancer, RegionCheck<E> regionCheck) {
        try {
            ConnectionWatch<E> watch = new ConnectionWatch<>(balancer, regionCheck);
            watch.thread.start();
            return watch;
        } catch (IOException e) {
            throw new IllegalStateException("router '" + balancer.name() + "': cannot open a selector for the connection watch", e);
        }
    }

    private void run() {
        long lastSweep = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(TICK_MILLIS);
        try {
            while (!closed) {
                long now = System.nanoTime();
                if (now - lastSweep >= TimeUnit.MILLISECONDS.toNanos(TICK_MILLIS)) {
                    sweep(now);
                    lastSweep = now;
                }
                selector.select(TICK_MILLIS);
                Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                while (keys.hasNext()) {
                    SelectionKey key = keys.next();
                    keys.remove();
                    @SuppressWarnings("unchecked")
                    Watched w = (Watched) key.attachment();
                    if (key.isValid()) {
                        ready(key, w);
                    }
                }
            }
        } catch (ClosedSelectorException e) {
            // closed
        } catch (IOException | RuntimeException e) {
            if (!closed) {
                LOG.warn("router '{}': connection watch stopped", balancer.name(), e);
            }
        } finally {
            for (Watched w : watched.values()) {
                drop(w);
            }
            watched.clear();
            try {
                selector.close();
            } catch (IOException e) {
                LOG.debug("router '{}': closing the watch selector", balancer.name(), e);
            }
        }
    }

    /** Opens held connections to healthy endpoints that lack one, drops those of endpoints no longer healthy or gone. */
    private void sweep(long now) {
        if (regionCheck.suspended()) {
            for (Watched w : watched.values()) {
                drop(w);
            }
            watched.clear();
            return;
        }
        sweeps++;
        for (Slot<E> s : balancer.activeSlots()) {
            Watched w = watched.computeIfAbsent(s, Watched::new);
            w.seenInSweep = sweeps;
            if (s.state.get() != Slot.HEALTHY) {
                drop(w);
                w.backoff = MIN_BACKOFF_NANOS;
                w.notBefore = now;
            } else if (w.channel == null && now - w.notBefore >= 0) {
                open(w, now);
            }
        }
        for (Iterator<Map.Entry<Slot<E>, Watched>> it = watched.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Slot<E>, Watched> e = it.next();
            if (e.getValue().seenInSweep != sweeps) {
                drop(e.getValue());
                it.remove();
            }
        }
    }

    private void open(Watched w, long now) {
        InetSocketAddress address;
        try {
            address = addressOf(w.slot.endpoint());
        } catch (IllegalArgumentException e) {
            LOG.debug("router '{}': connection watch skips {}: {}", balancer.name(), w.slot.endpoint().id(), e.getMessage());
            w.notBefore = now + MAX_BACKOFF_NANOS;
            return;
        }
        if (address.isUnresolved()) {
            LOG.debug("router '{}': connection watch cannot resolve {} of {}", balancer.name(), address, w.slot.endpoint().id());
            backOff(w, now);
            return;
        }
        SocketChannel channel = null;
        try {
            channel = SocketChannel.open();
            channel.configureBlocking(false);
            boolean connected = channel.connect(address);
            channel.register(selector, connected ? SelectionKey.OP_READ : SelectionKey.OP_CONNECT, w);
            w.channel = channel;
            w.connectedAt = now;
        } catch (IOException e) {
            closeQuietly(channel);
            w.connectedAt = now;
            lost(w, now, "connect failed: " + e);
        }
    }

    private void ready(SelectionKey key, Watched w) {
        long now = System.nanoTime();
        SocketChannel channel = (SocketChannel) key.channel();
        try {
            if (key.isConnectable()) {
                channel.finishConnect();
                key.interestOps(SelectionKey.OP_READ);
                w.connectedAt = now;
                return;
            }
            if (key.isReadable()) {
                int n;
                do {
                    sink.clear();
                    n = channel.read(sink);
                } while (n > 0);
                if (n < 0) {
                    drop(w);
                    lost(w, now, "closed by the peer");
                }
            }
        } catch (IOException e) {
            drop(w);
            lost(w, now, e.toString());
        }
    }

    /** The held connection to {@code w} closed, broke or could not be made: check the endpoint and its region, back off. */
    private void lost(Watched w, long now, String why) {
        if (now - w.connectedAt < SHORT_LIVED_NANOS) {
            backOff(w, now);
        } else {
            w.backoff = MIN_BACKOFF_NANOS;
            w.notBefore = now + MIN_BACKOFF_NANOS;
        }
        if (w.slot.state.get() == Slot.HEALTHY && !closed) {
            LOG.debug("router '{}': held connection to {} lost ({}): checking its region", balancer.name(), w.slot.endpoint().id(), why);
            regionCheck.afterBrokenConnection(w.slot);
        }
    }

    private void backOff(Watched w, long now) {
        w.notBefore = now + w.backoff;
        w.backoff = Math.min(MAX_BACKOFF_NANOS, w.backoff * 2);
    }

    private void drop(Watched w) {
        if (w.channel != null) {
            closeQuietly(w.channel);
            w.channel = null;
        }
    }

    private static void closeQuietly(SocketChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                // nothing to lose: an idle connection that carried nothing
            }
        }
    }

    /** Stops the watch and closes every held connection before returning. Idempotent. */
    @Override
    public void close() {
        closed = true;
        selector.wakeup();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            LOG.warn("router '{}': connection watch did not stop within 5 s", balancer.name());
        }
    }

    /**
     * The socket address of an endpoint whose payload is an {@link InetSocketAddress} or a
     * {@link URI} with a host (port from the URI, else 80 for http and ws, 443 for https and wss).
     *
     * @throws IllegalArgumentException naming the endpoint and what its payload lacks
     */
    static InetSocketAddress addressOf(Endpoint<?> endpoint) {
        Object payload = endpoint.payload();
        if (payload instanceof InetSocketAddress address) {
            return address.isUnresolved() ? new InetSocketAddress(address.getHostString(), address.getPort()) : address;
        }
        if (payload instanceof URI uri && uri.getHost() != null) {
            int port = uri.getPort();
            if (port < 0) {
                String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
                port = switch (scheme) {
                    case "http", "ws" -> 80;
                    case "https", "wss" -> 443;
                    default -> throw new IllegalArgumentException("endpoint " + endpoint.id() + " has no port in " + uri);
                };
            }
            return new InetSocketAddress(uri.getHost(), port);
        }
        throw new IllegalArgumentException("endpoint " + endpoint.id() + " has a payload of type "
                + (payload == null ? "null" : payload.getClass().getName()) + ", not a URI with a host or an InetSocketAddress");
    }
}
