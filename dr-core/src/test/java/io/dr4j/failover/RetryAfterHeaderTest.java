package io.dr4j.failover;

import static org.assertj.core.api.Assertions.assertThat;

import io.dr4j.testing.MutableClock;
import java.net.URI;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * {@code Retry-After} as a real endpoint sends it, read through {@link FailoverHttpClient}: how
 * long the router leaves the endpoint alone, on a fake clock so that HTTP-dates are exact.
 */
class RetryAfterHeaderTest {

    private final MutableClock clock = new MutableClock();
    private LoopbackInferenceServer busy;
    private LoopbackInferenceServer spare;
    private FailoverHttpClient client;

    @BeforeEach
    void start() throws Exception {
        busy = new LoopbackInferenceServer("busy");
        spare = new LoopbackInferenceServer("spare");
        FailoverRouter<URI> router = FailoverRouter.<URI>builder().name("retry-after").clock(clock)
                .saturation(Duration.ofSeconds(1), Duration.ofSeconds(30))
                .endpoint(Endpoint.of("busy", "region-a", 0, busy.uri()))
                .endpoint(Endpoint.of("spare", "region-b", 1, spare.uri()))
                .build();
        client = FailoverHttpClient.builder(router).tryTimeout(Duration.ofSeconds(2)).deadline(Duration.ofSeconds(10)).build();
    }

    @AfterEach
    void stop() {
        client.close();
        busy.close();
        spare.close();
    }

    private Duration saturatedForAfterOneCall(int status, String retryAfter, String retryAfterMs) {
        busy.status = status;
        busy.retryAfter = retryAfter;
        busy.retryAfterMs = retryAfterMs;
        assertThat(client.post("v1/chat/completions", "{}").endpointId()).isEqualTo("spare");
        EndpointStatus<URI> s = client.router().endpoint("busy").orElseThrow();
        assertThat(s.state()).isEqualTo(EndpointState.HEALTHY);
        assertThat(s.failures()).isZero();
        return s.saturatedFor();
    }

    @ParameterizedTest(name = "429 with Retry-After ''{0}'' leaves the endpoint alone for {1}")
    @CsvSource(delimiter = '|', value = {
            "7            | PT7S",
            "0            | PT0S",
            "soon         | PT1S",
            "-5           | PT1S",
            "1.5          | PT1S",
            "''           | PT1S",
            "99999999999  | PT30S",
            "123456789012345678901234567890 | PT30S"})
    void deltaSecondsMalformedNegativeAndHuge(String header, Duration expected) {
        assertThat(saturatedForAfterOneCall(429, header, null)).isEqualTo(expected);
    }

    @Test
    void anHttpDateIsReadAgainstTheRouterClock() {
        String in12s = DateTimeFormatter.RFC_1123_DATE_TIME.format(clock.instant().plusSeconds(12).atOffset(ZoneOffset.UTC));
        assertThat(saturatedForAfterOneCall(429, in12s, null)).isEqualTo(Duration.ofSeconds(12));
    }

    @Test
    void anHttpDateInThePastMeansNow() {
        String past = DateTimeFormatter.RFC_1123_DATE_TIME.format(clock.instant().minusSeconds(60).atOffset(ZoneOffset.UTC));
        assertThat(saturatedForAfterOneCall(429, past, null)).isEqualTo(Duration.ZERO);
    }

    @Test
    void aHugeHttpDateIsCapped() {
        assertThat(saturatedForAfterOneCall(429, "Fri, 31 Dec 9999 23:59:59 GMT", null)).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void retryAfterMsWinsOverRetryAfter() {
        assertThat(saturatedForAfterOneCall(429, "9", "250")).isEqualTo(Duration.ofMillis(250));
        clock.advance(Duration.ofSeconds(1));
        assertThat(saturatedForAfterOneCall(429, "9", "junk")).isEqualTo(Duration.ofSeconds(9));
    }

    @Test
    void withoutAnyAdviceThe429DefaultApplies() {
        assertThat(saturatedForAfterOneCall(429, null, null)).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void a503WithRetryAfterIsSaturationButA503WithoutIsAFailure() {
        assertThat(saturatedForAfterOneCall(503, "4", null)).isEqualTo(Duration.ofSeconds(4));
        busy.retryAfter = null;
        clock.advance(Duration.ofSeconds(5));
        assertThat(client.post("v1/chat/completions", "{}").endpointId()).isEqualTo("spare");
        EndpointStatus<URI> s = client.router().endpoint("busy").orElseThrow();
        assertThat(s.failures()).isEqualTo(1);
        assertThat(s.saturated()).isFalse();
    }
}
