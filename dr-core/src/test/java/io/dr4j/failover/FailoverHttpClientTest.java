package io.dr4j.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.failover.LoopbackInferenceServer.StreamFault;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FailoverHttpClientTest {

    private LoopbackInferenceServer primary;
    private LoopbackInferenceServer secondary;
    private FailoverHttpClient client;

    @BeforeEach
    void start() throws Exception {
        primary = new LoopbackInferenceServer("primary");
        secondary = new LoopbackInferenceServer("secondary");
        FailoverRouter<URI> router = FailoverRouter.<URI>builder()
                .name("http-test")
                .endpoint(Endpoint.of("primary", "region-a", 0, primary.uri()))
                .endpoint(Endpoint.of("secondary", "region-b", 1, secondary.uri()))
                .build();
        client = FailoverHttpClient.builder(router).tryTimeout(Duration.ofMillis(500)).deadline(Duration.ofSeconds(5)).build();
    }

    @AfterEach
    void stop() {
        client.close();
        primary.close();
        secondary.close();
    }

    @Test
    void aPostIsServedByThePrimaryWhileItIsUp() {
        InferenceResponse response = client.post("v1/chat/completions", "{\"prompt\":\"hi\"}");
        assertThat(response.endpointId()).isEqualTo("primary");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("{\"server\":\"primary\"}");
    }

    @Test
    void aServerErrorFailsOverToTheSecondary() {
        primary.status = 503;
        assertThat(client.post("v1/chat/completions", "{}").endpointId()).isEqualTo("secondary");
    }

    @Test
    void aDeadPrimaryFailsOverToTheSecondary() {
        primary.stop();
        assertThat(client.post("/v1/chat/completions", "{}").endpointId()).isEqualTo("secondary");
    }

    @Test
    void aClientErrorComesBackAtOnceWithoutFailover() {
        assertThatThrownBy(() -> client.post("v1/bad", "{}"))
                .isInstanceOfSatisfying(EndpointStatusException.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(400);
                    assertThat(e.endpointId()).isEqualTo("primary");
                })
                .hasMessageContaining("bad request");
        assertThat(client.router().endpoint("primary").orElseThrow().failures()).isZero();
    }

    @Test
    void aSlowPrimaryTimesOutPerTryAndTheSecondaryAnswers() {
        primary.delay = Duration.ofSeconds(3);
        InferenceResponse response = client.post("v1/chat/completions", "{}");
        assertThat(response.endpointId()).isEqualTo("secondary");
    }

    @Test
    void theDeadlineBoundsTheWholeCall() throws Exception {
        primary.delay = Duration.ofSeconds(3);
        secondary.delay = Duration.ofSeconds(3);
        FailoverRouter<URI> router = FailoverRouter.<URI>builder()
                .endpoint(Endpoint.of("primary", "region-a", 0, primary.uri()))
                .endpoint(Endpoint.of("secondary", "region-b", 1, secondary.uri()))
                .build();
        try (FailoverHttpClient tight = FailoverHttpClient.builder(router)
                .tryTimeout(Duration.ofMillis(400)).deadline(Duration.ofMillis(600)).build()) {
            long start = System.nanoTime();
            assertThatThrownBy(() -> tight.post("v1/chat/completions", "{}"))
                    .isInstanceOf(DeadlineExceededException.class)
                    .hasMessageContaining("POST v1/chat/completions did not complete within its deadline of PT0.6S");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        }
    }

    @Test
    void aStreamIsDeliveredEventByEvent() {
        List<ServerSentEvent> events = new ArrayList<>();
        StreamSummary summary = client.stream("v1/stream", "{\"stream\":true}", events::add);
        assertThat(summary.endpointId()).isEqualTo("primary");
        assertThat(summary.events()).isEqualTo(6);
        assertThat(events).hasSize(6);
        assertThat(events.get(0).data()).isEqualTo("{\"server\":\"primary\",\"token\":0}");
        assertThat(events.get(5).data()).isEqualTo("[DONE]");
    }

    @Test
    void aStreamWhoseServerDiesBeforeTheFirstByteFailsOverTransparently() {
        primary.streamFault = StreamFault.CLOSE_BEFORE_HEADERS;
        List<ServerSentEvent> events = new ArrayList<>();
        StreamSummary summary = client.stream("v1/stream", "{}", events::add);
        assertThat(summary.endpointId()).isEqualTo("secondary");
        assertThat(events).hasSize(6).allSatisfy(e -> assertThat(e.data()).doesNotContain("primary"));
    }

    @Test
    void aStreamThatSendsNothingWithinTheTryTimeoutFailsOver() {
        primary.streamFault = StreamFault.HANG_BEFORE_FIRST_EVENT;
        List<ServerSentEvent> events = new ArrayList<>();
        StreamSummary summary = client.stream("v1/stream", "{}", events::add);
        assertThat(summary.endpointId()).isEqualTo("secondary");
        assertThat(events).hasSize(6);
    }

    @Test
    void aStreamThatBreaksAfterTheFirstEventRaisesATypedErrorSayingHowFarItGot() {
        primary.streamFault = StreamFault.DIE_AFTER_THREE_EVENTS;
        List<ServerSentEvent> events = new ArrayList<>();
        // The server sends three events and crashes; a reset connection may swallow the last ones
        // in flight, so the client may have seen fewer, but never none and never the rest.
        assertThatThrownBy(() -> client.stream("v1/stream", "{}", events::add))
                .isInstanceOfSatisfying(StreamInterruptedException.class, e -> {
                    assertThat(e.endpointId()).isEqualTo("primary");
                    assertThat(e.eventsDelivered()).isBetween(1L, 3L).isEqualTo(events.size());
                    assertThat(e.bytesReceived()).isPositive();
                    assertThat(e.getMessage()).contains("broke after " + e.eventsDelivered() + " events");
                });
        assertThat(events).allSatisfy(e -> assertThat(e.data()).contains("primary"));
        assertThat(secondary.served).hasValue(0);
    }

    @Test
    void anExceptionOfTheEventHandlerReachesTheCallerAndIsNotAnEndpointFailure() {
        assertThatThrownBy(() -> client.stream("v1/stream", "{}", e -> {
            throw new IllegalStateException("consumer gave up");
        })).isInstanceOf(IllegalStateException.class).hasMessage("consumer gave up");
        assertThat(client.router().endpoint("primary").orElseThrow().failures()).isZero();
    }

    @Test
    void theSseParserHandlesMultiLineDataCommentsAndSplitPackets() {
        SseParser parser = new SseParser(true);
        byte[] part1 = ": comment\nevent: delta\nid: 7\ndata: line one\r\nda".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] part2 = "ta: line two\n\ndata: x\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertThat(parser.feed(part1, part1.length)).isEmpty();
        assertThat(parser.feed(part2, part2.length)).containsExactly(new ServerSentEvent("delta", "line one\nline two", "7"));
        assertThat(parser.finish()).containsExactly(new ServerSentEvent("message", "x", "7"));
    }
}
