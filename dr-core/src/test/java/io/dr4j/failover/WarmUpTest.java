package io.dr4j.failover;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The failure path is run once when a router or client is built, so the first real failure of a
 * process does not pay for loading it, and that warm-up is invisible: it calls no configured
 * endpoint, emits no event to the caller's listeners, registers no meter in the caller's
 * registry, and a warm-up that fails never fails the build.
 */
class WarmUpTest {

    private final List<FailoverEvent> events = Collections.synchronizedList(new ArrayList<>());
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private FailoverRouterBuilder<URI> router(LoopbackInferenceServer a, LoopbackInferenceServer b) {
        return FailoverRouter.<URI>builder().name("warm-up-test").listener(events::add).meterRegistry(registry)
                .endpoint(Endpoint.of("a", "region-a", 0, a.uri()))
                .endpoint(Endpoint.of("b", "region-b", 1, b.uri()));
    }

    @Test
    void buildRunsTheFailurePathWithoutTouchingAnyConfiguredEndpoint() throws Exception {
        try (LoopbackInferenceServer a = new LoopbackInferenceServer("a");
             LoopbackInferenceServer b = new LoopbackInferenceServer("b")) {
            FailoverRouter<URI> router = router(a, b).build();
            try (FailoverHttpClient client = FailoverHttpClient.builder(router).header("Authorization", "Bearer secret")
                    .tryTimeout(Duration.ofSeconds(5)).deadline(Duration.ofSeconds(10)).build()) {
                // The router's warm-up: refused connections, an ejection, retries, a final failure and a saturation, in memory.
                assertThat(router.warmedUp().failure()).isEmpty();
                assertThat(router.warmedUp().failedAttempts()).isGreaterThanOrEqualTo(4);
                // The client's: one request through its own HTTP client, refused at a closed loopback port, on both throwaway endpoints.
                assertThat(client.warmedUp().failure()).isEmpty();
                assertThat(client.warmedUp().failedAttempts()).isEqualTo(2);
                assertThat(client.warmedUp().nanos()).isLessThan(Duration.ofSeconds(2).toNanos());

                assertThat(a.exchanges.get()).isZero();
                assertThat(b.exchanges.get()).isZero();
                assertThat(router.endpoints()).allSatisfy(s -> {
                    assertThat(s.requests()).isZero();
                    assertThat(s.failures()).isZero();
                    assertThat(s.state()).isEqualTo(EndpointState.HEALTHY);
                });
                assertThat(events).isEmpty();
                assertThat(registry.getMeters()).extracting(Meter::getId)
                        .allSatisfy(id -> assertThat(id.getTag("router")).isEqualTo("warm-up-test"));

                // And the client works as usual afterwards.
                assertThat(client.post("v1/chat/completions", "{}").endpointId()).isEqualTo("a");
                assertThat(a.exchanges.get()).isEqualTo(1);
            }
        }
    }

    @Test
    void aWarmUpThatThrowsNeverBreaksTheBuild() throws Exception {
        try (LoopbackInferenceServer a = new LoopbackInferenceServer("a");
             LoopbackInferenceServer b = new LoopbackInferenceServer("b")) {
            FailoverRouter<URI> router = router(a, b).build();
            IOException noLoopback = new IOException("no loopback interface");
            try (FailoverHttpClient client = FailoverHttpClient.builder(router).warmUpTarget(() -> {
                throw noLoopback;
            }).tryTimeout(Duration.ofSeconds(5)).deadline(Duration.ofSeconds(10)).build()) {
                assertThat(client.warmedUp().failure()).containsSame(noLoopback);
                assertThat(client.post("v1/chat/completions", "{}").endpointId()).isEqualTo("a");
                assertThat(events).isEmpty();
            }
        }
    }

    @Test
    void aWarmUpTargetThatAnswersIsReportedAndDoesNotBreakTheBuild() throws Exception {
        try (LoopbackInferenceServer a = new LoopbackInferenceServer("a");
             LoopbackInferenceServer b = new LoopbackInferenceServer("b");
             LoopbackInferenceServer squatter = new LoopbackInferenceServer("squatter")) {
            // Something bound the closed port in the instant after it was picked: the warm-up notices, and nothing else changes.
            FailoverRouter<URI> router = router(a, b).build();
            try (FailoverHttpClient client = FailoverHttpClient.builder(router).warmUpTarget(squatter::uri)
                    .tryTimeout(Duration.ofSeconds(5)).deadline(Duration.ofSeconds(10)).build()) {
                assertThat(client.warmedUp().failure()).hasValueSatisfying(
                        f -> assertThat(f).isInstanceOf(IllegalStateException.class).hasMessageContaining("something answered"));
                assertThat(squatter.exchanges.get()).isEqualTo(1);
                assertThat(a.exchanges.get() + b.exchanges.get()).isZero();
                assertThat(client.post("v1/chat/completions", "{}").endpointId()).isEqualTo("a");
            }
        }
    }

    @Test
    void warmUpCanBeTurnedOff() throws Exception {
        try (LoopbackInferenceServer a = new LoopbackInferenceServer("a");
             LoopbackInferenceServer b = new LoopbackInferenceServer("b")) {
            FailoverRouter<URI> router = router(a, b).warmUp(false).build();
            assertThat(router.config().warmUp()).isFalse();
            try (FailoverHttpClient client = FailoverHttpClient.builder(router).warmUp(false).build()) {
                assertThat(router.warmedUp()).isEqualTo(WarmUp.Result.SKIPPED);
                assertThat(client.warmedUp()).isEqualTo(WarmUp.Result.SKIPPED);
            }
        }
    }
}
