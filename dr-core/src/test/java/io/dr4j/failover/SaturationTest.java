package io.dr4j.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.testing.Await;
import io.dr4j.testing.MutableClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Backpressure semantics on a fake clock: saturation is not failure, and the limits hold. */
class SaturationTest {

    private final MutableClock clock = new MutableClock();
    private final List<FailoverEvent> events = new CopyOnWriteArrayList<>();
    /** Endpoint id to the Retry-After it answers with (empty: 429 without advice); absent: it serves. */
    private final Map<String, Optional<Duration>> saturated = new ConcurrentHashMap<>();
    private final Map<String, Boolean> dead = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> served = new ConcurrentHashMap<>();
    private FailoverRouter<String> router;

    @AfterEach
    void close() {
        if (router != null) {
            router.close();
        }
    }

    private FailoverRouterBuilder<String> builder(Endpoint<String>... endpoints) {
        FailoverRouterBuilder<String> b = FailoverRouter.<String>builder().name("saturation").clock(clock)
                .listener(events::add).ejectionTime(Duration.ofSeconds(10), Duration.ofSeconds(40));
        for (Endpoint<String> e : endpoints) {
            b.endpoint(e);
        }
        return b;
    }

    private static Endpoint<String> ep(String id, int priority) {
        return Endpoint.of(id, "region-" + id, priority, id);
    }

    private String work(Endpoint<String> e) throws IOException {
        clock.advance(Duration.ofMillis(1));
        Optional<Duration> advice = saturated.get(e.id());
        if (advice != null) {
            throw new EndpointSaturatedException(e.id(), 429, "slow down", advice);
        }
        if (dead.containsKey(e.id())) {
            throw new IOException("connection refused by " + e.id());
        }
        served.computeIfAbsent(e.id(), k -> new AtomicInteger()).incrementAndGet();
        return e.id();
    }

    private int served(String id) {
        AtomicInteger n = served.get(id);
        return n == null ? 0 : n.get();
    }

    private EndpointStatus<String> status(String id) {
        return router.endpoint(id).orElseThrow();
    }

    @Test
    void aSaturatedEndpointIsLeftAloneForTheAdvisedTimeThenServesAgainAndIsNeverEjected() {
        router = builder(ep("a", 0), ep("b", 0)).build();
        saturated.put("a", Optional.of(Duration.ofSeconds(3)));
        for (int i = 0; i < 200; i++) {
            assertThat(router.callIdempotent(this::work)).isEqualTo("b");
        }
        EndpointStatus<String> a = status("a");
        assertThat(a.state()).isEqualTo(EndpointState.HEALTHY);
        assertThat(a.failures()).isZero();
        assertThat(a.ejections()).isZero();
        assertThat(a.saturations()).isEqualTo(1);
        assertThat(a.saturated()).isTrue();
        assertThat(events).noneMatch(e -> e instanceof FailoverEvent.Ejected);
        assertThat(events).filteredOn(e -> e instanceof FailoverEvent.Saturated).hasSize(1);

        saturated.remove("a");
        clock.advance(Duration.ofSeconds(3));
        assertThat(status("a").saturated()).isFalse();
        for (int i = 0; i < 200; i++) {
            router.callIdempotent(this::work);
        }
        assertThat(served("a")).isGreaterThan(50);
    }

    @Test
    void callsGoToFreeEndpointsOfTheSameLevelFirstAndSpillOverOnlyWhenTheLevelIsSaturated() {
        router = builder(ep("a", 0), ep("b", 0), ep("c", 1)).build();
        saturated.put("a", Optional.of(Duration.ofSeconds(30)));
        for (int i = 0; i < 100; i++) {
            router.callIdempotent(this::work);
        }
        assertThat(served("b")).isEqualTo(100);
        assertThat(served("c")).isZero();
        assertThat(router.priorityLoad()).containsEntry(0, 100);

        saturated.put("b", Optional.of(Duration.ofSeconds(30)));
        for (int i = 0; i < 100; i++) {
            assertThat(router.callIdempotent(this::work)).isEqualTo("c");
        }
        // Saturation moves calls, not the plan: level 0 keeps its full share for when it frees up.
        assertThat(router.priorityLoad()).containsEntry(0, 100);
        assertThat(router.inPanic()).isFalse();
    }

    @Test
    void whenEveryEndpointIsSaturatedACallFailsFastWithATypedExceptionNamingTheEarliest() {
        router = builder(ep("a", 0), ep("b", 1)).whenAllSaturated(Duration.ZERO).build();
        saturated.put("a", Optional.of(Duration.ofSeconds(5)));
        saturated.put("b", Optional.of(Duration.ofSeconds(2)));
        // The first call hears 429 from both, then finds nobody free for its third attempt.
        assertThatThrownBy(() -> router.callIdempotent(this::work))
                .isInstanceOfSatisfying(AllEndpointsSaturatedException.class, e -> {
                    assertThat(e.getSuppressed()).hasSize(2).allMatch(s -> s instanceof EndpointSaturatedException);
                    assertThat(e.earliestAvailableIn()).isEqualTo(Duration.ofSeconds(2));
                });
        assertThatThrownBy(() -> router.callIdempotent(this::work))
                .isInstanceOfSatisfying(AllEndpointsSaturatedException.class, e -> {
                    assertThat(e.earliestAvailableIn()).isEqualTo(Duration.ofSeconds(2));
                    assertThat(e).hasMessageContaining("fail fast");
                });
        assertThat(router.endpoints()).allMatch(s -> s.state() == EndpointState.HEALTHY && s.failures() == 0);
    }

    @Test
    void aCallWaitsForTheEarliestSaturatedEndpointWithinItsWait() throws Exception {
        // Real time here: the wait is what is under test.
        try (FailoverRouter<String> real = FailoverRouter.<String>builder().clock(Clock.systemUTC())
                .endpoint(ep("a", 0)).whenAllSaturated(Duration.ofSeconds(5)).build()) {
            AtomicInteger calls = new AtomicInteger();
            assertThatThrownBy(() -> real.call(e -> {
                calls.incrementAndGet();
                throw new EndpointSaturatedException(e.id(), 429, "", Optional.of(Duration.ofMillis(150)));
            })).isInstanceOf(EndpointCallException.class);
            long t0 = System.nanoTime();
            assertThat(real.<String>call(e -> "served after the wait")).isEqualTo("served after the wait");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(Duration.ofMillis(100), Duration.ofSeconds(3));

            real.call(e -> {
                throw new EndpointSaturatedException(e.id(), 429, "", Optional.of(Duration.ofMillis(150)));
            });
        } catch (EndpointCallException expected) {
            // the last call: saturated again, not retried (not idempotent)
        }
    }

    @Test
    void aWaitShorterThanTheAdviceFailsAtOnceInsteadOfSleepingInVain() {
        router = builder(ep("a", 0)).whenAllSaturated(Duration.ofSeconds(1)).build();
        saturated.put("a", Optional.of(Duration.ofSeconds(20)));
        assertThatThrownBy(() -> router.call(this::work)).isInstanceOf(EndpointCallException.class);
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> router.call(this::work)).isInstanceOf(AllEndpointsSaturatedException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(500));
    }

    @Test
    void saturationRetriesSpendTheRetryBudget() {
        router = builder(ep("a", 0), ep("b", 0), ep("c", 0)).retryBudget(0.0, 0, Duration.ofSeconds(10)).build();
        saturated.put("a", Optional.of(Duration.ofSeconds(1)));
        saturated.put("b", Optional.of(Duration.ofSeconds(1)));
        saturated.put("c", Optional.of(Duration.ofSeconds(1)));
        assertThatThrownBy(() -> router.callIdempotent(this::work))
                .isInstanceOfSatisfying(EndpointCallException.class, e -> {
                    assertThat(e.retryBudgetExhausted()).isTrue();
                    assertThat(e.endpointsTried()).hasSize(1);
                    assertThat(e.getCause()).isInstanceOf(EndpointSaturatedException.class);
                });
        assertThat(router.retriesRefused()).isEqualTo(1);
    }

    @Test
    void withBudgetASaturatedCallIsRetriedOnAnotherEndpointAndPaysOneToken() {
        router = builder(ep("a", 0), ep("b", 1)).retryBudget(0.0, 1, Duration.ofSeconds(10)).build();
        saturated.put("a", Optional.empty());
        long before = router.retryBudgetAvailable();
        assertThat(router.callIdempotent(this::work)).isEqualTo("b");
        assertThat(router.retryBudgetAvailable()).isEqualTo(before - 1);
        // Without advice the default (1 s) applies.
        assertThat(status("a").saturatedFor()).isBetween(Duration.ofMillis(990), Duration.ofSeconds(1));
    }

    @Test
    void mixedRegionsOneSaturatedOneDeadOneHealthyAllCallsSucceedAndOnlyTheDeadOneIsEjected() {
        router = builder(ep("busy", 0), ep("dead", 1), ep("fine", 2)).build();
        saturated.put("busy", Optional.of(Duration.ofSeconds(2)));
        dead.put("dead", true);
        for (int i = 0; i < 300; i++) {
            assertThat(router.callIdempotent(this::work)).isEqualTo("fine");
            clock.advance(Duration.ofMillis(10));
        }
        assertThat(status("busy").state()).isEqualTo(EndpointState.HEALTHY);
        assertThat(status("busy").failures()).isZero();
        assertThat(status("busy").saturations()).isGreaterThan(1);
        assertThat(status("dead").state()).isIn(EndpointState.EJECTED, EndpointState.RECOVERING);
        assertThat(events).filteredOn(e -> e instanceof FailoverEvent.Ejected)
                .allMatch(e -> ((FailoverEvent.Ejected) e).endpoint().id().equals("dead"));
    }

    @Test
    void adviceIsCappedByTheConfiguredMaximum() {
        // One endpoint per router: with two, the balancer may pick the same one for every call and
        // the other's advice would never be read.
        router = builder(ep("a", 0)).saturation(Duration.ofMillis(500), Duration.ofSeconds(10))
                .whenAllSaturated(Duration.ZERO).build();
        saturated.put("a", Optional.of(Duration.ofDays(365)));
        assertThatThrownBy(() -> router.call(this::work)).isInstanceOfAny(EndpointCallException.class,
                AllEndpointsSaturatedException.class);
        assertThat(status("a").saturations()).isEqualTo(1);
        assertThat(status("a").saturatedFor()).isBetween(Duration.ofMillis(9_990), Duration.ofSeconds(10));
    }

    @Test
    void negativeAdviceSaturatesForNoTimeAtAll() {
        router = builder(ep("b", 0)).saturation(Duration.ofMillis(500), Duration.ofSeconds(10))
                .whenAllSaturated(Duration.ZERO).build();
        saturated.put("b", Optional.of(Duration.ofSeconds(-3)));
        assertThatThrownBy(() -> router.call(this::work)).isInstanceOfAny(EndpointCallException.class,
                AllEndpointsSaturatedException.class);
        assertThat(status("b").saturations()).isEqualTo(1);
        assertThat(status("b").saturatedFor()).isLessThanOrEqualTo(Duration.ZERO);
    }

    @Test
    void aFixedConcurrencyLimitHoldsAndIsReportedInStatusAndMeters() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        router = builder(ep("a", 0)).concurrencyLimit(ConcurrencyLimit.fixed(2)).whenAllSaturated(Duration.ZERO)
                .meterRegistry(registry).build();
        CountDownLatch started = new CountDownLatch(2);
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<String>> held = List.of(pool.submit(() -> router.call(e -> hold(started, release))),
                    pool.submit(() -> router.call(e -> hold(started, release))));
            assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
            assertThatThrownBy(() -> router.call(e -> "third"))
                    .isInstanceOfSatisfying(AllEndpointsSaturatedException.class,
                            e -> assertThat(e.earliestAvailableIn()).isEqualTo(Duration.ZERO));
            assertThat(status("a").outstanding()).isEqualTo(2);
            assertThat(status("a").concurrencyLimit()).isEqualTo(2);
            assertThat(registry.get(SlotMeters.CONCURRENCY_LIMIT).tag("endpoint", "a").gauge().value()).isEqualTo(2.0);
            assertThat(registry.get(SlotMeters.IN_FLIGHT).tag("endpoint", "a").gauge().value()).isEqualTo(2.0);
            release.countDown();
            for (Future<String> f : held) {
                assertThat(f.get(10, TimeUnit.SECONDS)).isEqualTo("held");
            }
            assertThat(router.<String>call(e -> "third")).isEqualTo("third");
        } finally {
            release.countDown();
            pool.shutdownNow();
        }
    }

    @Test
    void aCallWaitingForAConcurrencySlotGetsTheOneThatFreesUp() throws Exception {
        router = builder(ep("a", 0)).concurrencyLimit(ConcurrencyLimit.fixed(1)).whenAllSaturated(Duration.ofSeconds(10)).build();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<String> first = pool.submit(() -> router.call(e -> hold(started, release)));
            assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
            Future<String> second = pool.submit(() -> router.call(e -> "second"));
            Await.until("the second call queued for the slot", Duration.ofSeconds(10), () -> router.waitingForFree() == 1);
            assertThat(second).isNotDone();
            release.countDown();
            assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo("held");
            assertThat(second.get(10, TimeUnit.SECONDS)).isEqualTo("second");
        } finally {
            release.countDown();
            pool.shutdownNow();
        }
    }

    @Test
    void anAdaptiveLimitShrinksOnSaturationAnswersAndIsReported() {
        router = builder(ep("a", 0), ep("b", 0)).concurrencyLimit(ConcurrencyLimit.vegas(20, 100)).build();
        assertThat(status("a").concurrencyLimit()).isEqualTo(20);
        for (int i = 0; i < 20; i++) {
            router.call(this::work);
        }
        saturated.put("a", Optional.of(Duration.ZERO));
        for (int i = 0; i < 50; i++) {
            try {
                router.call(this::work);
            } catch (EndpointCallException expected) {
                // a said 429
            }
        }
        assertThat(status("a").saturations()).isPositive();
        assertThat(status("a").concurrencyLimit()).isLessThan(20);
        assertThat(status("b").concurrencyLimit()).isGreaterThanOrEqualTo(20);
    }

    private static String hold(CountDownLatch started, CountDownLatch release) throws InterruptedException {
        started.countDown();
        if (!release.await(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("never released");
        }
        return "held";
    }
}
