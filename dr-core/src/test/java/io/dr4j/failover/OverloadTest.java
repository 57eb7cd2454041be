package io.dr4j.failover;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Overload against real loopback servers of fixed capacity (4 requests at a time, 50 ms each,
 * 2 more may wait) that answer 429 with {@code Retry-After: 1} and {@code retry-after-ms: 10}
 * beyond it, offered twice their total capacity (16 closed-loop callers for 8 places) for a
 * bounded time: 429 must act as backpressure, not as an outage. (The gradient limit is left out:
 * it does not shrink on drops, so against a server without a queue of its own it keeps sending
 * into 429s; it fits servers that queue and slow down instead.)
 */
class OverloadTest {

    private static final int CAPACITY = 4;
    private static final int QUEUE = 2;
    private static final Duration SERVICE = Duration.ofMillis(50);
    private static final int CALLERS = 16;
    private static final Duration RUN = Duration.ofSeconds(3);

    static Stream<Arguments> limits() {
        return Stream.of(
                Arguments.of("adaptive Vegas limit", ConcurrencyLimit.vegas(4, 64)),
                Arguments.of("fixed limit at what the server admits", ConcurrencyLimit.fixed(CAPACITY + QUEUE)),
                Arguments.of("no limit, 429 alone", ConcurrencyLimit.none()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("limits")
    void twiceTheCapacityIsServedAtCapacityWithoutEjectionAndWithinTheRetryBudget(String label, ConcurrencyLimit limit)
            throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        List<LoopbackInferenceServer> servers = List.of(new LoopbackInferenceServer("a"), new LoopbackInferenceServer("b"));
        FailoverRouterBuilder<URI> b = FailoverRouter.<URI>builder().name("overload").meterRegistry(registry)
                .concurrencyLimit(limit).whenAllSaturated(Duration.ofSeconds(2));
        for (LoopbackInferenceServer s : servers) {
            s.capacity = CAPACITY;
            s.queue = QUEUE;
            s.delay = SERVICE;
            s.retryAfter = "1";
            s.retryAfterMs = "10";
            b.endpoint(Endpoint.of(s.name, "region-" + s.name, 0, s.uri()));
        }
        ExecutorService callers = Executors.newFixedThreadPool(CALLERS);
        List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger ok = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        AtomicInteger calls = new AtomicInteger();
        try (FailoverHttpClient client = FailoverHttpClient.builder(b.build())
                .tryTimeout(Duration.ofSeconds(2)).deadline(Duration.ofSeconds(5)).build()) {
            // Warm up the connections and the limits, then measure from a clean count.
            runLoad(client, callers, Duration.ofMillis(500), new ArrayList<>(), new AtomicInteger(), new AtomicInteger(),
                    new AtomicInteger());
            long served0 = servers.stream().mapToLong(s -> s.served.get()).sum();
            long busy0 = servers.stream().mapToLong(s -> s.busyNanos.get()).sum();
            long retries0 = (long) registry.get("dr4j.failover.retries").counter().count();
            int rejected0 = servers.stream().mapToInt(s -> s.rejected.get()).sum();
            long t0 = System.nanoTime();
            runLoad(client, callers, RUN, latencies, ok, failed, calls);
            double seconds = (System.nanoTime() - t0) / 1e9;
            long served = servers.stream().mapToLong(s -> s.served.get()).sum() - served0;
            long busy = servers.stream().mapToLong(s -> s.busyNanos.get()).sum() - busy0;
            long retries = (long) registry.get("dr4j.failover.retries").counter().count() - retries0;
            int rejected = servers.stream().mapToInt(s -> s.rejected.get()).sum() - rejected0;
            // Capacity as the servers actually offer it: places × time ÷ their mean service time.
            double meanService = (double) busy / Math.max(1, served) / 1e9;
            double capacity = servers.size() * CAPACITY / meanService;
            double goodput = ok.get() / seconds;
            Collections.sort(latencies);
            long p99 = latencies.isEmpty() ? 0 : latencies.get((int) Math.floor(latencies.size() * 0.99) - 1);
            System.out.printf("overload (%s): goodput %.0f/s of capacity %.0f/s (%.1f%%), %d calls, %d failed, %d retries, "
                            + "%d answered 429, p99 %.1f ms, limits %s%n", label, goodput, capacity, 100 * goodput / capacity,
                    calls.get(), failed.get(), retries, rejected, p99 / 1e6,
                    client.router().endpoints().stream().map(s -> s.endpoint().id() + "=" + s.concurrencyLimit()).toList());

            assertThat(client.router().endpoints()).allSatisfy(s -> {
                assertThat(s.state()).isEqualTo(EndpointState.HEALTHY);
                assertThat(s.ejections()).isZero();
                assertThat(s.failures()).isZero();
            });
            assertThat(goodput).as("goodput against capacity %.0f/s", capacity).isGreaterThanOrEqualTo(0.95 * capacity);
            // Retry budget: 20 % of calls plus 10 per second over the 10 s window, warm-up included.
            assertThat(retries).isLessThanOrEqualTo((long) (0.2 * (calls.get() + 2L * CALLERS * 50)) + 100);
            assertThat(p99).as("p99 of admitted calls").isLessThan(Duration.ofSeconds(1).toNanos());
        } finally {
            callers.shutdownNow();
            assertThat(callers.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
            servers.forEach(LoopbackInferenceServer::close);
        }
    }

    /** Closed-loop callers for {@code duration}: each sends its next call when the last one ends. */
    private static void runLoad(FailoverHttpClient client, ExecutorService callers, Duration duration, List<Long> latencies,
                                AtomicInteger ok, AtomicInteger failed, AtomicInteger calls) throws Exception {
        long end = System.nanoTime() + duration.toNanos();
        List<Future<?>> running = new ArrayList<>();
        for (int i = 0; i < CALLERS; i++) {
            running.add(callers.submit(() -> {
                while (System.nanoTime() - end < 0) {
                    long t0 = System.nanoTime();
                    calls.incrementAndGet();
                    try {
                        client.post("v1/chat/completions", "{}");
                        ok.incrementAndGet();
                        latencies.add(System.nanoTime() - t0);
                    } catch (RuntimeException e) {
                        failed.incrementAndGet();
                    }
                }
            }));
        }
        for (Future<?> f : running) {
            f.get(duration.toSeconds() + 30, TimeUnit.SECONDS);
        }
    }
}
