package io.dr4j.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.failover.FailoverEvent.EjectionReason;
import io.dr4j.testing.Await;
import io.dr4j.testing.MutableClock;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The region check: one refused connection gets the rest of its region checked at once, off the
 * caller's thread, and only a refused check ejects. Real loopback servers, killed and restarted.
 * Region A is a1 at priority 0 and a2 at priority 2, region B is b1 at priority 1: a call that
 * fails on a1 is retried on b1, so a2 is never called and only the check can find it dead.
 */
class RegionCheckTest {

    private static final Duration BOUND = Duration.ofSeconds(10);

    private final MutableClock clock = new MutableClock();
    /** Ejections by endpoint id, with their reason. */
    private final Map<String, EjectionReason> ejected = new ConcurrentHashMap<>();
    private final CountDownLatch a2Ejected = new CountDownLatch(1);

    private FailoverRouterBuilder<URI> builder(LoopbackInferenceServer a1, LoopbackInferenceServer a2, LoopbackInferenceServer b1) {
        return FailoverRouter.<URI>builder().name("region-check").clock(clock)
                .consecutiveFailures(1000).failureRate(100, 10_000)
                .ejectionTime(Duration.ofSeconds(1), Duration.ofSeconds(10))
                .failback(1, Duration.ofMillis(1))
                .listener(e -> {
                    if (e instanceof FailoverEvent.Ejected ej) {
                        ejected.put(ej.endpoint().id(), ej.reason());
                        if (ej.endpoint().id().equals("a2")) {
                            a2Ejected.countDown();
                        }
                    }
                })
                .endpoint(Endpoint.of("a1", "region-a", 0, a1.uri()))
                .endpoint(Endpoint.of("b1", "region-b", 1, b1.uri()))
                .endpoint(Endpoint.of("a2", "region-a", 2, a2.uri()));
    }

    private static FailoverHttpClient client(FailoverRouter<URI> router) {
        return FailoverHttpClient.builder(router).tryTimeout(Duration.ofSeconds(5)).deadline(Duration.ofSeconds(10)).build();
    }

    @Test
    void aRefusedConnectionEjectsTheRestOfItsRegionWithoutCallingIt() throws Exception {
        try (LoopbackInferenceServer a1 = new LoopbackInferenceServer("a1");
             LoopbackInferenceServer a2 = new LoopbackInferenceServer("a2");
             LoopbackInferenceServer b1 = new LoopbackInferenceServer("b1")) {
            FailoverRouter<URI> router = builder(a1, a2, b1).build();
            assertThat(router.config().regionCheck()).as("on by default for URI endpoints").isPresent();
            try (FailoverHttpClient client = client(router)) {
                assertThat(client.post("v1/chat/completions", "{}").endpointId()).isEqualTo("a1");
                a1.stop();
                a2.stop();

                assertThat(client.post("v1/chat/completions", "{}").endpointId()).isEqualTo("b1");
                assertThat(a2Ejected.await(BOUND.toSeconds(), TimeUnit.SECONDS)).as("a2 ejected by the check").isTrue();
                assertThat(ejected).containsEntry("a1", EjectionReason.UNREACHABLE).containsEntry("a2", EjectionReason.UNREACHABLE)
                        .doesNotContainKey("b1");
                EndpointStatus<URI> a2Status = router.endpoint("a2").orElseThrow();
                assertThat(a2Status.state()).isEqualTo(EndpointState.EJECTED);
                assertThat(a2Status.requests()).as("a2 was never called").isZero();
                assertThat(a2Status.failures()).as("a check is not a failed call").isZero();
                assertThat(router.endpoint("b1").orElseThrow().state()).isEqualTo(EndpointState.HEALTHY);

                // Restarted, the region comes back through the usual trial calls once the ejection is over.
                a1.start();
                a2.start();
                clock.advance(Duration.ofSeconds(2));
                assertThat(client.post("v1/chat/completions", "{}").endpointId()).isIn("a1", "a2");
                assertThat(client.post("v1/chat/completions", "{}").endpointId()).isIn("a1", "a2");
                Await.until("a1 and a2 are healthy again", BOUND, () ->
                        router.endpoint("a1").orElseThrow().state() == EndpointState.HEALTHY
                                && router.endpoint("a2").orElseThrow().state() == EndpointState.HEALTHY);
                assertThat(client.post("v1/chat/completions", "{}").endpointId()).isEqualTo("a1");
            }
        }
    }

    @Test
    void aClientBehindAProxySwitchesTheDefaultCheckOffButKeepsAGivenOne() throws Exception {
        try (LoopbackInferenceServer a1 = new LoopbackInferenceServer("a1");
             LoopbackInferenceServer a2 = new LoopbackInferenceServer("a2");
             LoopbackInferenceServer b1 = new LoopbackInferenceServer("b1")) {
            java.net.http.HttpClient proxied = java.net.http.HttpClient.newBuilder()
                    .proxy(java.net.ProxySelector.of(new InetSocketAddress("127.0.0.1", 9))).build();
            try (FailoverRouter<URI> router = builder(a1, a2, b1).warmUp(false).build();
                 FailoverHttpClient client = FailoverHttpClient.builder(router).httpClient(proxied).warmUp(false).build()) {
                assertThat(router.regionCheckActive()).as("a direct connect cannot see what the proxy reaches").isFalse();
            }
            try (FailoverRouter<URI> router = builder(a1, a2, b1).warmUp(false).regionCheck(e -> { }).build();
                 FailoverHttpClient client = FailoverHttpClient.builder(router).httpClient(proxied).warmUp(false).build()) {
                assertThat(router.regionCheckActive()).as("a check the application chose stays").isTrue();
            }
            try (FailoverRouter<URI> router = builder(a1, a2, b1).warmUp(false).build();
                 FailoverHttpClient client = FailoverHttpClient.builder(router).httpClient(java.net.http.HttpClient.newHttpClient())
                         .warmUp(false).build()) {
                assertThat(router.regionCheckActive()).as("a direct client keeps the default").isTrue();
            }
        }
    }

    @Test
    void withoutTheRegionCheckOnlyTheEndpointThatRefusedIsEjected() throws Exception {
        try (LoopbackInferenceServer a1 = new LoopbackInferenceServer("a1");
             LoopbackInferenceServer a2 = new LoopbackInferenceServer("a2");
             LoopbackInferenceServer b1 = new LoopbackInferenceServer("b1")) {
            FailoverRouter<URI> router = builder(a1, a2, b1).regionCheck(false).build();
            assertThat(router.config().regionCheck()).isEmpty();
            try (FailoverHttpClient client = client(router)) {
                a1.stop();
                a2.stop();
                assertThat(client.post("v1/chat/completions", "{}").endpointId()).isEqualTo("b1");
                assertThat(client.post("v1/chat/completions", "{}").endpointId()).isEqualTo("b1");
                // No check exists that could still eject it later: the state now is final.
                assertThat(router.endpoint("a2").orElseThrow().state()).isEqualTo(EndpointState.HEALTHY);
                assertThat(ejected).containsOnlyKeys("a1");
            }
        }
    }

    @Test
    void aLiveNeighbourOrACheckThatTimesOutIsLeftAlone() throws Exception {
        try (LoopbackInferenceServer a1 = new LoopbackInferenceServer("a1");
             LoopbackInferenceServer a2 = new LoopbackInferenceServer("a2");
             LoopbackInferenceServer b1 = new LoopbackInferenceServer("b1")) {
            Semaphore started = new Semaphore(0);
            boolean[] timeOut = {false};
            HealthCheck<URI> tcp = HealthCheck.tcpConnect(Duration.ofSeconds(2));
            HealthCheck<URI> check = endpoint -> {
                started.release();
                if (timeOut[0]) {
                    throw new SocketTimeoutException("connect timed out (test)");
                }
                tcp.check(endpoint);
            };
            FailoverRouter<URI> router = builder(a1, a2, b1).regionCheck(check).build();
            try (FailoverHttpClient client = client(router)) {
                a1.stop();
                assertThat(client.post("v1/chat/completions", "{}").endpointId()).isEqualTo("b1");
                awaitCheckOfA2(router, started);
                assertThat(router.endpoint("a2").orElseThrow().state()).as("a2 listens").isEqualTo(EndpointState.HEALTHY);

                // A timeout proves nothing: a2 is dead now, but a check that only times out leaves it in.
                a2.stop();
                timeOut[0] = true;
                // Level 0 is a3 alone (healthy until it is called), so the call goes there first.
                router.removeEndpoint("a1");
                router.addEndpoint(Endpoint.of("a3", "region-a", 0, URI.create("http://127.0.0.1:" + deadPort() + "/")));
                assertThat(client.post("v1/chat/completions", "{}").endpointId()).isEqualTo("b1");
                awaitCheckOfA2(router, started);
                assertThat(router.endpoint("a2").orElseThrow().state()).isEqualTo(EndpointState.HEALTHY);
                assertThat(ejected).containsOnlyKeys("a1", "a3");
            }
        }
    }

    /** Waits until a check of a2 started and its outcome was applied. */
    private static void awaitCheckOfA2(FailoverRouter<URI> router, Semaphore started) throws InterruptedException {
        assertThat(started.tryAcquire(BOUND.toSeconds(), TimeUnit.SECONDS)).as("a2 checked").isTrue();
        Await.until("the check of a2 is over", BOUND, () -> !router.regionCheckRunning("a2"));
    }

    @Test
    void aConnectionThatBrokeGetsItsOwnEndpointCheckedAndEjectedWhenNothingListens() throws Exception {
        try (LoopbackInferenceServer a1 = new LoopbackInferenceServer("a1");
             LoopbackInferenceServer a2 = new LoopbackInferenceServer("a2");
             LoopbackInferenceServer b1 = new LoopbackInferenceServer("b1")) {
            CountDownLatch a1Ejected = new CountDownLatch(1);
            FailoverRouter<URI> router = builder(a1, a2, b1).listener(e -> {
                if (e instanceof FailoverEvent.Ejected ej && ej.endpoint().id().equals("a1")) {
                    a1Ejected.countDown();
                }
            }).build();
            try (FailoverHttpClient client = client(router)) {
                a1.delay = Duration.ofSeconds(30);
                CompletableFuture<InferenceResponse> inFlight = client.postAsync("v1/chat/completions", "{}");
                Await.until("the call is in flight at a1", BOUND, () -> a1.exchanges.get() == 1);
                // Killed under the call: its connection breaks (no refusal yet, no new call needed).
                a1.stop();
                a2.stop();
                assertThat(inFlight.get(BOUND.toSeconds(), TimeUnit.SECONDS).endpointId()).isEqualTo("b1");
                assertThat(a1Ejected.await(BOUND.toSeconds(), TimeUnit.SECONDS)).as("a1 ejected by the check").isTrue();
                assertThat(a2Ejected.await(BOUND.toSeconds(), TimeUnit.SECONDS)).as("a2 ejected by the check").isTrue();
                assertThat(ejected).containsEntry("a1", EjectionReason.UNREACHABLE).containsEntry("a2", EjectionReason.UNREACHABLE);
                assertThat(router.endpoint("a1").orElseThrow().requests()).isEqualTo(1);
                assertThat(router.endpoint("a2").orElseThrow().requests()).isZero();
            }
        }
    }

    @Test
    void onlyABrokenConnectionCountsAsOneNotATimeoutOrARefusal() {
        assertThat(RegionCheck.brokenConnection(new java.io.IOException("HTTP/1.1 header parser received no bytes"))).isTrue();
        assertThat(RegionCheck.brokenConnection(new java.net.SocketException("Connection reset"))).isTrue();
        assertThat(RegionCheck.brokenConnection(new ConnectException("refused"))).isFalse();
        assertThat(RegionCheck.brokenConnection(new java.net.http.HttpTimeoutException("request timed out"))).isFalse();
        assertThat(RegionCheck.brokenConnection(new SocketTimeoutException("read timed out"))).isFalse();
        assertThat(RegionCheck.brokenConnection(new IllegalStateException("x"))).isFalse();
    }

    @Test
    void theDefaultIsOffForPayloadsWithoutAnAddressAndAGivenCheckTurnsItOn() {
        try (FailoverRouter<String> plain = FailoverRouter.<String>builder().warmUp(false)
                .endpoint(Endpoint.of("a", "r", 0, "a")).build()) {
            assertThat(plain.config().regionCheck()).isEmpty();
        }
        try (FailoverRouter<String> given = FailoverRouter.<String>builder().warmUp(false).regionCheck(e -> { })
                .endpoint(Endpoint.of("a", "r", 0, "a")).build()) {
            assertThat(given.config().regionCheck()).isPresent();
        }
        try (FailoverRouter<InetSocketAddress> sockets = FailoverRouter.<InetSocketAddress>builder().warmUp(false)
                .endpoint(Endpoint.of("a", "r", 0, new InetSocketAddress("127.0.0.1", 1))).build()) {
            assertThat(sockets.config().regionCheck()).isPresent();
        }
    }

    @Test
    void tcpConnectIsRefusedByAStoppedServerAndNamesAPayloadItCannotUse() throws Exception {
        HealthCheck<Object> tcp = HealthCheck.tcpConnect(Duration.ofSeconds(2));
        try (LoopbackInferenceServer server = new LoopbackInferenceServer("s")) {
            Endpoint<Object> endpoint = Endpoint.of("s", "r", 0, server.uri());
            tcp.check(endpoint);
            tcp.check(Endpoint.of("s", "r", 0, new InetSocketAddress("127.0.0.1", server.uri().getPort())));
            server.stop();
            assertThatThrownBy(() -> tcp.check(endpoint)).isInstanceOf(ConnectException.class);
        }
        assertThatThrownBy(() -> tcp.check(Endpoint.of("x", "r", 0, List.of())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("endpoint x has a payload of type")
                .hasMessageContaining("not a URI with a host or an InetSocketAddress");
        assertThatThrownBy(() -> tcp.check(Endpoint.of("y", "r", 0, URI.create("grpc://host/"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("endpoint y has no port");
        assertThatThrownBy(() -> HealthCheck.tcpConnect(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 ms to 1 min");
    }

    private static int deadPort() throws java.io.IOException {
        return WarmUp.closedLoopbackPort().getPort();
    }
}
