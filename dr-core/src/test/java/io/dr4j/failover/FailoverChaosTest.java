package io.dr4j.failover;

import io.dr4j.testing.Await;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Chaos under load: real HTTP servers on 127.0.0.1 in three "regions" (two primaries, two
 * secondaries, one tertiary), a steady load of concurrent idempotent requests through
 * {@link FailoverHttpClient}, and servers killed, restarted on the same port, slowed, added and
 * drained while it runs. Time bounds are generous (a loaded 2-core machine); the measured
 * failover times are printed.
 */
class FailoverChaosTest {

    private static final Duration PROBE_INTERVAL = Duration.ofMillis(50);
    private static final int UNHEALTHY_THRESHOLD = 2;
    private static final int HEALTHY_THRESHOLD = 2;
    private static final Duration PROBE_TIMEOUT = Duration.ofMillis(300);
    /** The configured detection time: failed probes in a row (passive detection, 3 failures in a row, is faster under load). */
    private static final Duration DETECTION = PROBE_INTERVAL.multipliedBy(UNHEALTHY_THRESHOLD).plus(PROBE_TIMEOUT);
    private static final Duration GENEROUS = Duration.ofSeconds(15);

    private final List<LoopbackInferenceServer> servers = new ArrayList<>();
    private final List<TimedEvent> events = new CopyOnWriteArrayList<>();
    private LoopbackInferenceServer primary1;
    private LoopbackInferenceServer primary2;
    private LoopbackInferenceServer secondary1;
    private LoopbackInferenceServer secondary2;
    private LoopbackInferenceServer tertiary;
    private HttpClient probeClient;
    private FailoverHttpClient client;
    private FailoverRouter<URI> router;
    private Load load;

    record TimedEvent(long at, FailoverEvent event) {
    }

    @BeforeEach
    void start() throws Exception {
        primary1 = server("primary1");
        primary2 = server("primary2");
        secondary1 = server("secondary1");
        secondary2 = server("secondary2");
        tertiary = server("tertiary");
        probeClient = HttpClient.newBuilder().connectTimeout(PROBE_TIMEOUT).build();
        router = FailoverRouter.<URI>builder()
                .name("chaos")
                .endpoint(Endpoint.of("primary1", "eu-west", 0, primary1.uri()))
                .endpoint(Endpoint.of("primary2", "eu-west", 0, primary2.uri()))
                .endpoint(Endpoint.of("secondary1", "us-east", 1, secondary1.uri()))
                .endpoint(Endpoint.of("secondary2", "us-east", 1, secondary2.uri()))
                .endpoint(Endpoint.of("tertiary", "ap-south", 2, tertiary.uri()))
                .consecutiveFailures(3)
                .ejectionTime(Duration.ofMillis(200), Duration.ofSeconds(2))
                .failback(3, Duration.ofMillis(50))
                .healthCheck(FailoverHttpClient.healthCheck(probeClient, "health", PROBE_TIMEOUT), PROBE_INTERVAL,
                        HEALTHY_THRESHOLD, UNHEALTHY_THRESHOLD)
                .maxAttempts(4)
                .retryBudget(0.2, 50, Duration.ofSeconds(10))
                .listener(e -> events.add(new TimedEvent(System.nanoTime(), e)))
                .build();
        client = FailoverHttpClient.builder(router).tryTimeout(Duration.ofSeconds(2)).deadline(Duration.ofSeconds(10)).build();
    }

    @AfterEach
    void stop() {
        if (load != null) {
            load.close();
        }
        client.close();
        servers.forEach(LoopbackInferenceServer::close);
    }

    private LoopbackInferenceServer server(String name) throws Exception {
        LoopbackInferenceServer s = new LoopbackInferenceServer(name);
        servers.add(s);
        return s;
    }

    @Test
    void killingThePrimaryRegionFailsOverWithoutAFailedRequestAndRestartingItFailsBackWithoutFlapping() throws Exception {
        load = new Load(client, 6);
        load.awaitSuccesses(200);
        assertThat(load.servedBy("primary")).isPositive();

        long killed = System.nanoTime();
        primary1.stop();
        primary2.stop();
        long primaryOut = awaitNanos(() -> router.priorityLoad().get(0) == 0) - killed;
        long firstSecondary = load.firstSuccessAfter(killed, "secondary", GENEROUS) - killed;
        System.out.printf("failover: first response from the secondary region %.1f ms after the kill; "
                        + "primary region out of rotation after %.1f ms (configured detection %d ms)%n",
                firstSecondary / 1e6, primaryOut / 1e6, DETECTION.toMillis());
        assertThat(Duration.ofNanos(primaryOut)).isLessThan(DETECTION.plus(Duration.ofSeconds(3)));
        int secondaryBefore = secondary1.served.get() + secondary2.served.get();
        load.awaitSuccesses(300);
        assertThat(secondary1.served.get() + secondary2.served.get()).isGreaterThan(secondaryBefore);

        int eventsBeforeRestart = events.size();
        long restarted = System.nanoTime();
        primary1.start();
        primary2.start();
        long failback = awaitNanos(() -> router.priorityLoad().get(0) == 100) - restarted;
        long firstPrimary = load.firstSuccessAfter(restarted, "primary", GENEROUS) - restarted;
        System.out.printf("failback: primary region back at 100 %% %.1f ms after the restart (hysteresis: %d probes %d ms apart); "
                        + "first primary response after %.1f ms%n",
                failback / 1e6, HEALTHY_THRESHOLD, PROBE_INTERVAL.toMillis(), firstPrimary / 1e6);
        // Hysteresis: two good probes at least one interval apart before anything returns.
        assertThat(Duration.ofNanos(failback)).isGreaterThanOrEqualTo(PROBE_INTERVAL.multipliedBy(HEALTHY_THRESHOLD - 1));
        load.awaitSuccesses(300);

        List<FailoverEvent> afterRestart = events.subList(eventsBeforeRestart, events.size()).stream().map(TimedEvent::event).toList();
        assertThat(afterRestart).filteredOn(FailoverEvent.Ejected.class::isInstance).as("no ejection after the restart").isEmpty();
        assertThat(afterRestart).filteredOn(FailoverEvent.Restored.class::isInstance)
                .extracting(e -> ((FailoverEvent.Restored) e).endpoint().id())
                .containsExactlyInAnyOrder("primary1", "primary2");
        List<Integer> primaryShares = afterRestart.stream().filter(FailoverEvent.Failover.class::isInstance)
                .map(e -> ((FailoverEvent.Failover) e).load().get(0)).toList();
        assertThat(primaryShares).as("the primary share only grows after the restart (no flapping)").isSorted().endsWith(100);
        assertThat(load.failures()).as("failed client requests").isEmpty();
    }

    @Test
    void aSlowServerLosesItsShare() throws Exception {
        load = new Load(client, 6);
        load.awaitSuccesses(200);
        int slowBaseline = primary1.served.get();
        int fastBaseline = primary2.served.get();
        primary1.delay = Duration.ofMillis(150);
        load.awaitSuccesses(200);
        int slowBefore = primary1.served.get();
        int fastBefore = primary2.served.get();
        load.awaitSuccesses(600);
        int slow = primary1.served.get() - slowBefore;
        int fast = primary2.served.get() - fastBefore;
        System.out.printf("slow server: %d of %d primary-region responses (%.1f %%) after it slowed down by 150 ms, %.1f %% before%n",
                slow, slow + fast, 100.0 * slow / (slow + fast), 100.0 * slowBaseline / (slowBaseline + fastBaseline));
        assertThat(slow).isLessThan((slow + fast) / 4);
        assertThat(load.failures()).isEmpty();
    }

    @Test
    void aServerAddedUnderLoadTakesTrafficAndADrainedOneFinishesWithoutAFailure() throws Exception {
        LoopbackInferenceServer added = server("primary3");
        load = new Load(client, 6);
        load.awaitSuccesses(200);
        router.addEndpoint(Endpoint.of("primary3", "eu-west", 0, added.uri()));
        Await.until("the added server serves", GENEROUS, () -> added.served.get() >= 50);

        primary1.delay = Duration.ofMillis(20);
        load.awaitSuccesses(100);
        router.drainEndpoint("primary1").get(GENEROUS.toSeconds(), TimeUnit.SECONDS);
        primary1.delay = Duration.ZERO;
        assertThat(router.endpoint("primary1")).isEmpty();
        int drainedServed = primary1.served.get();
        load.awaitSuccesses(300);
        assertThat(primary1.served.get()).as("requests to the drained server").isEqualTo(drainedServed);
        assertThat(load.failures()).as("failed client requests").isEmpty();
    }

    @Test
    void withEveryRegionDownCallsFailClearlyAndRecoverAsSoonAsOneRegionReturns() throws Exception {
        load = new Load(client, 4);
        load.awaitSuccesses(100);
        servers.forEach(LoopbackInferenceServer::stop);
        Throwable failure = load.awaitFailure(GENEROUS);
        assertThat(failure).isInstanceOfSatisfying(EndpointCallException.class, e -> {
            assertThat(e.getMessage()).startsWith("call failed after ");
            assertThat(e.endpointsTried()).isNotEmpty();
        });
        Await.until("the router panics", GENEROUS, router::inPanic);

        long restarted = System.nanoTime();
        tertiary.start();
        long firstSuccess = load.firstSuccessAfter(restarted, "tertiary", GENEROUS) - restarted;
        long healthy = awaitNanos(() -> router.endpoint("tertiary").orElseThrow().state() == EndpointState.HEALTHY) - restarted;
        System.out.printf("recovery: first response %.1f ms after one region returned; it was back in rotation after %.1f ms%n",
                firstSuccess / 1e6, healthy / 1e6);
        load.clearFailures();
        load.awaitSuccesses(200);
        assertThat(load.failures()).as("failures once the tertiary region was back in rotation").isEmpty();
    }

    private static long awaitNanos(java.util.function.BooleanSupplier condition) {
        AtomicReference<Long> at = new AtomicReference<>();
        Await.until("condition", GENEROUS, () -> {
            if (condition.getAsBoolean()) {
                at.set(System.nanoTime());
                return true;
            }
            return false;
        });
        return at.get();
    }

    /** A steady load: {@code threads} workers sending requests back to back with a short pause, until closed. */
    static final class Load implements AutoCloseable {
        record Success(long at, String endpointId) {
        }

        private final ConcurrentLinkedQueue<Success> successes = new ConcurrentLinkedQueue<>();
        private final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        private final AtomicInteger successCount = new AtomicInteger();
        private final AtomicBoolean stopped = new AtomicBoolean();
        /** Failures of calls started before this are not recorded (see {@link #clearFailures}). */
        private volatile long clearedAt = Long.MIN_VALUE;
        private final CountDownLatch done;
        private final List<Thread> workers = new ArrayList<>();

        Load(FailoverHttpClient client, int threads) {
            done = new CountDownLatch(threads);
            for (int i = 0; i < threads; i++) {
                Thread t = new Thread(() -> {
                    try {
                        while (!stopped.get()) {
                            long started = System.nanoTime();
                            try {
                                InferenceResponse r = client.post("v1/chat/completions", "{\"prompt\":\"ping\"}");
                                successes.add(new Success(System.nanoTime(), r.endpointId()));
                                successCount.incrementAndGet();
                            } catch (RuntimeException e) {
                                if (started >= clearedAt) {
                                    failures.add(e);
                                }
                            }
                            Thread.sleep(2); // paces the load loop (about 500 calls/s per thread): the rate is the point
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } finally {
                        done.countDown();
                    }
                }, "load-" + i);
                t.setDaemon(true);
                workers.add(t);
                t.start();
            }
        }

        void awaitSuccesses(int more) {
            int target = successCount.get() + more;
            Await.until(more + " more successful requests", GENEROUS, () -> successCount.get() >= target);
        }

        long firstSuccessAfter(long since, String endpointPrefix, Duration timeout) {
            AtomicReference<Long> at = new AtomicReference<>();
            Await.until("a response from " + endpointPrefix, timeout, () -> {
                for (Success s : successes) {
                    if (s.at() - since > 0 && s.endpointId().startsWith(endpointPrefix)) {
                        at.set(s.at());
                        return true;
                    }
                }
                return false;
            });
            return at.get();
        }

        long servedBy(String endpointPrefix) {
            return successes.stream().filter(s -> s.endpointId().startsWith(endpointPrefix)).count();
        }

        Throwable awaitFailure(Duration timeout) {
            Await.until("a failed request", timeout, () -> !failures.isEmpty());
            return failures.peek();
        }

        List<Throwable> failures() {
            return List.copyOf(failures);
        }

        /** Forgets the failures so far, and those still to come of calls already in flight. */
        void clearFailures() {
            clearedAt = System.nanoTime();
            failures.clear();
        }

        @Override
        public void close() {
            stopped.set(true);
            try {
                if (!done.await(30, TimeUnit.SECONDS)) {
                    workers.forEach(Thread::interrupt);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
