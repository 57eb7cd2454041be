package io.dr4j.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Streams that break after their first event, resumed end to end against loopback servers that
 * accept continuation (the partial assistant message as a prefix, as vLLM's
 * {@code continue_final_message}).
 */
class ResumableStreamTest {

    private static final String REQUEST = "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"count\"}]}";
    private static final Pattern CONTENT = Pattern.compile("\"content\":\"([^\"]*)\"");

    private LoopbackInferenceServer primary;
    private LoopbackInferenceServer secondary;
    private FailoverHttpClient client;
    private final List<ServerSentEvent> received = new ArrayList<>();
    private final AtomicInteger resumerCalls = new AtomicInteger();

    /** The caller's resumer: the text so far as the partial assistant message, continuation asked for. */
    private final StreamResumer resumer = (original, events) -> {
        resumerCalls.incrementAndGet();
        String prefix = text(events);
        return Optional.of(original.substring(0, original.length() - 2)
                + ",{\"role\":\"assistant\",\"content\":\"" + prefix + "\"}],\"continue_final_message\":true}");
    };

    @BeforeEach
    void start() throws Exception {
        primary = new LoopbackInferenceServer("primary");
        secondary = new LoopbackInferenceServer("secondary");
        primary.events = 20;
        secondary.events = 20;
        FailoverRouter<URI> router = FailoverRouter.<URI>builder().name("resume")
                .endpoint(Endpoint.of("primary", "region-a", 0, primary.uri()))
                .endpoint(Endpoint.of("secondary", "region-b", 1, secondary.uri()))
                // Keep the primary in rotation through the breaks of the random test.
                .consecutiveFailures(1000).failureRate(100, 10_000)
                .build();
        client = FailoverHttpClient.builder(router).tryTimeout(Duration.ofSeconds(2)).deadline(Duration.ofSeconds(10)).build();
    }

    @AfterEach
    void stop() {
        client.close();
        primary.close();
        secondary.close();
    }

    private static String text(List<ServerSentEvent> events) {
        StringBuilder b = new StringBuilder();
        for (ServerSentEvent e : events) {
            Matcher m = CONTENT.matcher(e.data());
            if (m.find()) {
                b.append(m.group(1));
            }
        }
        return b.toString();
    }

    @Test
    void aStreamThatBreaksIsResumedElsewhereWithNothingDuplicatedOrLost() {
        primary.breaks.add(3);
        StreamSummary summary = client.stream("v1/generate", REQUEST, resumer, received::add);
        assertThat(text(received)).isEqualTo(primary.fullText());
        assertThat(summary.resumes()).isEqualTo(1);
        assertThat(summary.endpointId()).isEqualTo("secondary");
        assertThat(summary.events()).isEqualTo(received.size());
        assertThat(received.get(received.size() - 1).data()).isEqualTo("[DONE]");
    }

    @Test
    void aSecondBreakDuringTheResumedStreamIsResumedToo() {
        primary.breaks.add(5);
        secondary.breaks.add(4);
        StreamSummary summary = client.stream("v1/generate", REQUEST, resumer, received::add);
        assertThat(text(received)).isEqualTo(primary.fullText());
        assertThat(summary.resumes()).isEqualTo(2);
        assertThat(resumerCalls).hasValue(2);
        assertThat(received).filteredOn(e -> e.data().equals("[DONE]")).hasSize(1);
    }

    @Test
    void aResumerThatDeclinesLeavesTheBreakToTheCallerWithHowFarItGot() {
        primary.breaks.add(3);
        assertThatThrownBy(() -> client.stream("v1/generate", REQUEST, (original, events) -> Optional.empty(), received::add))
                .isInstanceOfSatisfying(StreamInterruptedException.class, e -> {
                    // The server sent three events before it crashed; the client may lose the last
                    // ones still in flight with the connection, never more than what was sent.
                    assertThat(e.eventsDelivered()).isEqualTo(received.size()).isBetween(1L, 3L);
                    assertThat(e.endpointId()).isEqualTo("primary");
                });
        assertThat("t0 t1 t2 ").startsWith(text(received));
        assertThat(secondary.served).hasValue(0);
    }

    @Test
    void withoutAResumerABreakIsAStreamInterruptedExceptionAsBefore() {
        primary.breaks.add(2);
        assertThatThrownBy(() -> client.stream("v1/generate", REQUEST, received::add))
                .isInstanceOfSatisfying(StreamInterruptedException.class, e -> assertThat(e.eventsDelivered()).isBetween(1L, 2L));
    }

    @Test
    void resumesAreBoundedByTheRouterAttempts() {
        for (int i = 0; i < 5; i++) {
            primary.breaks.add(1);
            secondary.breaks.add(1);
        }
        assertThatThrownBy(() -> client.stream("v1/generate", REQUEST, resumer, received::add))
                .isInstanceOfSatisfying(StreamInterruptedException.class, e -> assertThat(e.eventsDelivered()).isEqualTo(received.size()));
        assertThat(resumerCalls).hasValue(3);
        // What arrived is still a clean prefix: nothing duplicated.
        assertThat(primary.fullText()).startsWith(text(received));
    }

    @Test
    void breaksAtRandomEventCountsNeverDuplicateOrLoseText() {
        Random random = new Random(20261201L);
        for (int round = 0; round < 25; round++) {
            primary.breaks.clear();
            secondary.breaks.clear();
            received.clear();
            int events = 2 + random.nextInt(30);
            primary.events = events;
            secondary.events = events;
            // At most one break per server per round: at most two resumes, within the three allowed.
            primary.breaks.add(1 + random.nextInt(events - 1));
            if (random.nextBoolean()) {
                secondary.breaks.add(1 + random.nextInt(events - 1));
            }
            StreamSummary summary = client.stream("v1/generate", REQUEST, resumer, received::add);
            assertThat(text(received)).as("round %d (%d events)", round, events).isEqualTo(primary.fullText());
            assertThat(summary.resumes()).isBetween(0, 2);
        }
    }
}
