package io.dr4j.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.failover.FailoverEvent.EjectionReason;
import io.dr4j.failover.FailureClassifier.Verdict;
import io.dr4j.testing.MutableClock;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.URI;
import java.net.http.HttpConnectTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A refused connection is proof that nothing listens at the endpoint: it is ejected on the first
 * one (configurable), while other failures still need {@code consecutiveFailures} in a row.
 */
class ConnectFailureTest {

    private final MutableClock clock = new MutableClock();
    private final List<FailoverEvent.Ejected> ejections = Collections.synchronizedList(new ArrayList<>());

    @SafeVarargs
    private final FailoverRouterBuilder<String> builder(Endpoint<String>... endpoints) {
        FailoverRouterBuilder<String> b = FailoverRouter.<String>builder().name("connect-test").clock(clock)
                .consecutiveFailures(1000).failureRate(100, 10_000)
                .listener(e -> {
                    if (e instanceof FailoverEvent.Ejected ej) {
                        ejections.add(ej);
                    }
                });
        for (Endpoint<String> e : endpoints) {
            b.endpoint(e);
        }
        return b;
    }

    /** An idempotent call that fails with {@code failure} on endpoint "a" and returns the id of any other. */
    private static String callFailingOnA(FailoverRouter<String> router, Exception failure) {
        EndpointCall<String, String> call = e -> {
            if (e.id().equals("a")) {
                throw failure;
            }
            return e.id();
        };
        return router.callIdempotent(call);
    }

    @Test
    void theDefaultClassifierTellsARefusedConnectionFromATimeout() {
        FailureClassifier c = FailureClassifier.defaults();
        assertThat(c.classify(new ConnectException("Connection refused"))).isEqualTo(Verdict.UNREACHABLE);
        assertThat(c.classify(new NoRouteToHostException("no route"))).isEqualTo(Verdict.UNREACHABLE);
        assertThat(c.classify(new HttpConnectTimeoutException("connect timed out"))).isEqualTo(Verdict.RETRYABLE);
        assertThat(c.classify(new IOException("connection reset"))).isEqualTo(Verdict.RETRYABLE);
    }

    @Test
    void aDeadServerIsEjectedByTheFirstRefusedConnectionAndTheCallIsServedElsewhere() throws Exception {
        try (LoopbackInferenceServer dead = new LoopbackInferenceServer("dead");
             LoopbackInferenceServer live = new LoopbackInferenceServer("live")) {
            dead.stop();
            FailoverRouter<URI> router = FailoverRouter.<URI>builder().name("connect-http").clock(clock)
                    .consecutiveFailures(1000).failureRate(100, 10_000)
                    .listener(e -> {
                        if (e instanceof FailoverEvent.Ejected ej) {
                            ejections.add(ej);
                        }
                    })
                    .endpoint(Endpoint.of("dead", "region-a", 0, dead.uri()))
                    .endpoint(Endpoint.of("live", "region-b", 1, live.uri()))
                    .build();
            try (FailoverHttpClient client = FailoverHttpClient.builder(router).tryTimeout(Duration.ofSeconds(5))
                    .deadline(Duration.ofSeconds(10)).build()) {
                assertThat(client.post("v1/chat/completions", "{}").endpointId()).isEqualTo("live");
                EndpointStatus<URI> status = router.endpoint("dead").orElseThrow();
                assertThat(status.state()).isEqualTo(EndpointState.EJECTED);
                assertThat(status.requests()).isEqualTo(1);
                assertThat(ejections).singleElement().satisfies(e -> {
                    assertThat(e.endpoint().id()).isEqualTo("dead");
                    assertThat(e.reason()).isEqualTo(EjectionReason.UNREACHABLE);
                });
                // The next calls go straight to the live one (the async path records it the same way).
                assertThat(client.postAsync("v1/chat/completions", "{}").get().endpointId()).isEqualTo("live");
                assertThat(router.endpoint("dead").orElseThrow().requests()).isEqualTo(1);
            }
        }
    }

    @Test
    void theAsyncPathEjectsOnARefusedConnectionToo() throws Exception {
        try (LoopbackInferenceServer dead = new LoopbackInferenceServer("dead");
             LoopbackInferenceServer live = new LoopbackInferenceServer("live")) {
            dead.stop();
            FailoverRouter<URI> router = FailoverRouter.<URI>builder().name("connect-async").clock(clock)
                    .consecutiveFailures(1000).failureRate(100, 10_000)
                    .endpoint(Endpoint.of("dead", "region-a", 0, dead.uri()))
                    .endpoint(Endpoint.of("live", "region-b", 1, live.uri()))
                    .build();
            try (FailoverHttpClient client = FailoverHttpClient.builder(router).tryTimeout(Duration.ofSeconds(5))
                    .deadline(Duration.ofSeconds(10)).build()) {
                assertThat(client.postAsync("v1/chat/completions", "{}").get().endpointId()).isEqualTo("live");
                assertThat(router.endpoint("dead").orElseThrow().state()).isEqualTo(EndpointState.EJECTED);
            }
        }
    }

    @Test
    void otherFailuresStillNeedConsecutiveFailures() {
        try (FailoverRouter<String> router = builder(Endpoint.of("a", "r", 0, "a"), Endpoint.of("b", "r", 1, "b"))
                .consecutiveFailures(3).build()) {
            for (int i = 0; i < 2; i++) {
                assertThat(callFailingOnA(router, new IOException("connection reset"))).isEqualTo("b");
                assertThat(router.endpoint("a").orElseThrow().state()).isEqualTo(EndpointState.HEALTHY);
            }
            assertThat(ejections).isEmpty();
        }
    }

    @Test
    void consecutiveConnectFailuresSetsHowManyRefusalsInARowEject() {
        try (FailoverRouter<String> router = builder(Endpoint.of("a", "r", 0, "a"), Endpoint.of("b", "r", 1, "b"))
                .consecutiveConnectFailures(3).build()) {
            assertThat(router.config().consecutiveConnectFailures()).isEqualTo(3);
            for (int i = 1; i <= 3; i++) {
                assertThat(callFailingOnA(router, new ConnectException("Connection refused"))).isEqualTo("b");
                assertThat(router.endpoint("a").orElseThrow().state())
                        .isEqualTo(i < 3 ? EndpointState.HEALTHY : EndpointState.EJECTED);
            }
            assertThat(ejections).singleElement().extracting(FailoverEvent.Ejected::reason).isEqualTo(EjectionReason.UNREACHABLE);
        }
    }

    @Test
    void consecutiveConnectFailuresIsRangeChecked() {
        FailoverRouterBuilder<String> b = builder(Endpoint.of("a", "r", 0, "a"));
        assertThatThrownBy(() -> b.consecutiveConnectFailures(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("consecutiveConnectFailures must be 1 to 1000, was 0");
        try (FailoverRouter<String> router = b.build()) {
            assertThat(router.config().consecutiveConnectFailures()).isEqualTo(1);
        }
    }
}
