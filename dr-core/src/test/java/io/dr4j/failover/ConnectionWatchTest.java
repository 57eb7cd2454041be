package io.dr4j.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.failover.FailoverEvent.EjectionReason;
import io.dr4j.testing.Await;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The connection watch: a held idle connection that the peer closes starts the region check at
 * once, so a server that dies is out of rotation with no call and no probe; a live server that
 * closes idle connections ejects nothing and is held again, with a backoff; close() closes what
 * it holds. Real loopback servers and raw sockets.
 */
class ConnectionWatchTest {

    private static final Duration BOUND = Duration.ofSeconds(10);

    private final Map<String, EjectionReason> ejected = new ConcurrentHashMap<>();

    private <E> FailoverRouterBuilder<E> builder(String name) {
        return FailoverRouter.<E>builder().name(name).warmUp(false)
                .ejectionTime(Duration.ofSeconds(30), Duration.ofMinutes(1))
                .listener(e -> {
                    if (e instanceof FailoverEvent.Ejected ej) {
                        ejected.put(ej.endpoint().id(), ej.reason());
                    }
                });
    }

    @Test
    void aServerThatDiesIsOutOfRotationWithoutAnyCallOrProbe() throws Exception {
        try (LoopbackInferenceServer a1 = new LoopbackInferenceServer("a1");
             LoopbackInferenceServer b1 = new LoopbackInferenceServer("b1")) {
            // No health check: without the watch, nothing but a call could find a1 dead.
            try (FailoverRouter<URI> router = this.<URI>builder("watch-death").connectionWatch(true)
                    .endpoint(Endpoint.of("a1", "region-a", 0, a1.uri()))
                    .endpoint(Endpoint.of("b1", "region-b", 1, b1.uri())).build();
                 FailoverHttpClient client = FailoverHttpClient.builder(router).tryTimeout(Duration.ofSeconds(5))
                         .deadline(Duration.ofSeconds(10)).build()) {
                assertThat(router.config().connectionWatch()).isTrue();
                assertThat(client.post("v1/chat/completions", "{}").endpointId()).isEqualTo("a1");
                long callsBefore = router.endpoint("a1").orElseThrow().requests();

                a1.stop();
                Await.until("a1 ejected", BOUND, () -> ejected.containsKey("a1"));

                assertThat(ejected).containsEntry("a1", EjectionReason.UNREACHABLE).doesNotContainKey("b1");
                assertThat(router.endpoint("a1").orElseThrow().requests()).as("no call found it").isEqualTo(callsBefore);
                assertThat(client.post("v1/chat/completions", "{}").endpointId()).isEqualTo("b1");
                assertThat(router.endpoint("a1").orElseThrow().requests()).as("the next call went to region B first").isEqualTo(callsBefore);
            }
        }
    }

    @Test
    void aLiveServerThatClosesIdleConnectionsEjectsNothingAndIsHeldAgainWithABackoff() throws Exception {
        AtomicInteger accepted = new AtomicInteger();
        try (ServerSocket closer = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                while (!closer.isClosed()) {
                    try (Socket s = closer.accept()) {
                        accepted.incrementAndGet();
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "closer");
            acceptor.setDaemon(true);
            acceptor.start();
            InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), closer.getLocalPort());
            try (FailoverRouter<InetSocketAddress> router = this.<InetSocketAddress>builder("watch-idle-close").connectionWatch(true)
                    .endpoint(Endpoint.of("closer", "region-a", 0, address)).build()) {
                Await.until("the watch reconnected after a close", BOUND, () -> accepted.get() >= 3);
                Thread.sleep(2_000);
                assertThat(ejected).as("a close by a live server is no proof").isEmpty();
                assertThat(router.endpoint("closer").orElseThrow().state()).isEqualTo(EndpointState.HEALTHY);
                // Without the backoff: a connect and a region check every 100 ms tick, 40+ in these 2 s.
                int in2s = accepted.get();
                assertThat(in2s).as("held again, but backing off (100 ms doubling)").isLessThan(24);
            }
        }
    }

    @Test
    void offByDefaultAndCloseClosesTheHeldConnection() throws Exception {
        List<Socket> held = new CopyOnWriteArrayList<>();
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort());
            try (FailoverRouter<InetSocketAddress> router = this.<InetSocketAddress>builder("watch-off")
                    .endpoint(Endpoint.of("e", "region-a", 0, address)).build()) {
                assertThat(router.config().connectionWatch()).isFalse();
                server.setSoTimeout(500);
                assertThatThrownBy(server::accept).as("no connection when off").isInstanceOf(SocketTimeoutException.class);
            }

            server.setSoTimeout((int) BOUND.toMillis());
            FailoverRouter<InetSocketAddress> router = this.<InetSocketAddress>builder("watch-close").connectionWatch(true)
                    .endpoint(Endpoint.of("e", "region-a", 0, address)).build();
            try (Socket s = server.accept(); InputStream in = s.getInputStream()) {
                held.add(s);
                s.setSoTimeout((int) BOUND.toMillis());
                router.close();
                assertThat(in.read()).as("closed by router.close(), nothing sent").isEqualTo(-1);
            } finally {
                router.close();
            }
        }
        assertThat(held).hasSize(1);
    }

    @Test
    void theWarmUpRunsTheWatchPathOnItsOwnLoopbackSocket() throws Exception {
        try (LoopbackInferenceServer a1 = new LoopbackInferenceServer("a1")) {
            try (FailoverRouter<URI> router = FailoverRouter.<URI>builder().name("watch-warm-up").connectionWatch(true)
                    .listener(e -> ejected.put(e.toString(), EjectionReason.FAILURE_RATE))
                    .endpoint(Endpoint.of("a1", "region-a", 0, a1.uri())).build()) {
                WarmUp.Result warm = router.warmedUp();
                assertThat(warm.failure()).isEmpty();
                int withoutWatch;
                try (FailoverRouter<URI> plain = FailoverRouter.<URI>builder().name("plain-warm-up")
                        .endpoint(Endpoint.of("a1", "region-a", 0, a1.uri())).build()) {
                    withoutWatch = plain.warmedUp().failedAttempts();
                }
                // the router's in-memory failures, plus the watch's ejection of its own loopback socket
                assertThat(warm.failedAttempts()).isEqualTo(withoutWatch + 1);
                assertThat(ejected).as("no event reached this router's listeners").isEmpty();
                assertThat(router.endpoint("a1").orElseThrow().state()).isEqualTo(EndpointState.HEALTHY);
            }
        }
    }

    @Test
    void refusedWhenItCannotWork() {
        assertThatThrownBy(() -> FailoverRouter.<URI>builder().name("r").warmUp(false).connectionWatch(true).regionCheck(false)
                .endpoint(Endpoint.of("a", "region-a", 0, URI.create("http://127.0.0.1:1/"))).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("connectionWatch(true) needs the region check on");
        assertThatThrownBy(() -> FailoverRouter.<String>builder().name("r").warmUp(false).connectionWatch(true)
                .regionCheck((Endpoint<String> e) -> { })
                .endpoint(Endpoint.of("a", "region-a", 0, "not-an-address")).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("endpoint a has a payload of type java.lang.String");
    }
}
