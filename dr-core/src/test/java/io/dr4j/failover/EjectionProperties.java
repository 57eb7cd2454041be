package io.dr4j.failover;

import static org.assertj.core.api.Assertions.assertThat;

import io.dr4j.testing.MutableClock;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** Laws of outlier ejection and failback, on a fake clock. A 100 % threshold over a window longer than any run keeps the breaker shut, so only the consecutive-failure rule is at work. */
class EjectionProperties {

    @Property(tries = 300)
    void anEndpointIsEjectedExactlyWhenItFailsTheConfiguredNumberOfTimesInARow(
            @ForAll @Size(max = 60) List<Boolean> outcomes,
            @ForAll @IntRange(min = 1, max = 8) int threshold) {
        MutableClock clock = new MutableClock();
        try (FailoverRouter<String> router = FailoverRouter.<String>builder().clock(clock)
                .endpoint(Endpoint.of("a", "r0", 0, "a")).endpoint(Endpoint.of("b", "r1", 1, "b"))
                .consecutiveFailures(threshold).failureRate(100, 100).build()) {
            int run = 0;
            boolean expectEjected = false;
            for (boolean ok : outcomes) {
                try {
                    router.call(e -> {
                        clock.advance(Duration.ofMillis(1));
                        if (!ok) {
                            throw new IOException("fail");
                        }
                        return "ok";
                    });
                } catch (EndpointCallException expected) {
                    // failures are part of the pattern
                }
                run = ok ? 0 : run + 1;
                if (run >= threshold) {
                    expectEjected = true;
                    break;
                }
                assertThat(router.endpoint("a").orElseThrow().state()).isEqualTo(EndpointState.HEALTHY);
            }
            assertThat(router.endpoint("a").orElseThrow().state())
                    .isEqualTo(expectEjected ? EndpointState.EJECTED : EndpointState.HEALTHY);
        }
    }

    @Property(tries = 300)
    void anEjectedEndpointReturnsOnlyAfterTheConfiguredSuccessesEachATrialIntervalApart(
            @ForAll @IntRange(min = 1, max = 6) int successes,
            @ForAll @IntRange(min = 1, max = 1000) int trialMillis,
            @ForAll @IntRange(min = 1, max = 50) int callsBetweenTrials) {
        MutableClock clock = new MutableClock();
        AtomicInteger callsOnA = new AtomicInteger();
        try (FailoverRouter<String> router = FailoverRouter.<String>builder().clock(clock)
                .endpoint(Endpoint.of("a", "r0", 0, "a")).endpoint(Endpoint.of("b", "r1", 1, "b"))
                .consecutiveFailures(1).ejectionTime(Duration.ofSeconds(5), Duration.ofSeconds(5))
                .failback(successes, Duration.ofMillis(trialMillis)).build()) {
            try {
                router.call(e -> {
                    throw new IOException("down");
                });
            } catch (EndpointCallException expected) {
                // ejects "a"
            }
            assertThat(router.endpoint("a").orElseThrow().state()).isEqualTo(EndpointState.EJECTED);
            clock.advance(Duration.ofSeconds(5));
            int trials = 0;
            while (router.endpoint("a").orElseThrow().state() != EndpointState.HEALTHY) {
                for (int i = 0; i < callsBetweenTrials && router.endpoint("a").orElseThrow().state() != EndpointState.HEALTHY; i++) {
                    router.call(e -> {
                        if (e.id().equals("a")) {
                            callsOnA.incrementAndGet();
                        }
                        return e.id();
                    });
                }
                trials++;
                assertThat(callsOnA).as("calls on the recovering endpoint").hasValue(trials);
                assertThat(trials).isLessThanOrEqualTo(successes);
                clock.advance(Duration.ofMillis(trialMillis));
            }
            assertThat(trials).isEqualTo(successes);
        }
    }
}
