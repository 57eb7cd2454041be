package io.dr4j.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.failover.FailoverEvent.EjectionReason;
import io.dr4j.testing.Await;
import io.dr4j.testing.MutableClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class FailoverRouterTest {

    private final MutableClock clock = new MutableClock();
    private final List<FailoverEvent> events = new CopyOnWriteArrayList<>();
    private final Set<String> down = ConcurrentHashMap.newKeySet();
    private final Map<String, Duration> latency = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> served = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> attempted = new ConcurrentHashMap<>();
    private FailoverRouter<String> router;

    @AfterEach
    void close() {
        if (router != null) {
            router.close();
        }
    }

    @SafeVarargs
    private FailoverRouterBuilder<String> builder(Endpoint<String>... endpoints) {
        FailoverRouterBuilder<String> b = FailoverRouter.<String>builder()
                .name("test")
                .clock(clock)
                .listener(events::add)
                .ejectionTime(Duration.ofSeconds(10), Duration.ofSeconds(40))
                .failback(3, Duration.ofSeconds(1));
        for (Endpoint<String> e : endpoints) {
            b.endpoint(e);
        }
        return b;
    }

    private static Endpoint<String> ep(String id, int priority) {
        return Endpoint.of(id, "region-" + priority, priority, id);
    }

    /** A call that takes the configured latency of its endpoint (on the fake clock) and fails with 503 if it is down. */
    private String work(Endpoint<String> e) {
        attempted.computeIfAbsent(e.id(), k -> new AtomicInteger()).incrementAndGet();
        clock.advance(latency.getOrDefault(e.id(), Duration.ofMillis(1)));
        if (down.contains(e.id())) {
            throw new EndpointStatusException(e.id(), 503, "down");
        }
        served.computeIfAbsent(e.id(), k -> new AtomicInteger()).incrementAndGet();
        return e.id();
    }

    private int served(String id) {
        AtomicInteger n = served.get(id);
        return n == null ? 0 : n.get();
    }

    private EndpointState state(String id) {
        return router.endpoint(id).orElseThrow().state();
    }

    private void callIgnoringFailures(int times) {
        for (int i = 0; i < times; i++) {
            try {
                router.call(this::work);
            } catch (EndpointCallException expected) {
                // the failures are the point
            }
        }
    }

    // ------------------------------------------------------------------ configuration

    @Test
    void buildRefusesARouterWithoutEndpoints() {
        assertThatThrownBy(() -> FailoverRouter.<String>builder().build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least one endpoint");
    }

    @Test
    void buildRefusesDuplicateIds() {
        assertThatThrownBy(() -> FailoverRouter.<String>builder().endpoint(ep("a", 0)).endpoint(ep("a", 1)).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("two endpoints with id a");
    }

    @Test
    void outOfRangeSettingsAreRefusedWithTheirName() {
        FailoverRouterBuilder<String> b = FailoverRouter.builder();
        assertThatThrownBy(() -> b.consecutiveFailures(0)).hasMessageContaining("consecutiveFailures must be 1 to 1000, was 0");
        assertThatThrownBy(() -> b.panicThreshold(101)).hasMessageContaining("panicThreshold must be 0 to 100, was 101");
        assertThatThrownBy(() -> b.overprovisioningFactor(0.5)).hasMessageContaining("overprovisioning factor");
        assertThatThrownBy(() -> b.ejectionTime(Duration.ofSeconds(10), Duration.ofSeconds(1))).hasMessageContaining("must not be less than");
        assertThatThrownBy(() -> b.retryBudget(1.5, 1, Duration.ofSeconds(10))).hasMessageContaining("retry budget percent");
        assertThatThrownBy(() -> b.maxAttempts(0)).hasMessageContaining("maxAttempts");
        assertThatThrownBy(() -> b.failback(1, Duration.ZERO)).hasMessageContaining("trial interval must be positive");
        assertThatThrownBy(() -> b.healthCheck(e -> { }, Duration.ofSeconds(1), 0, 1)).hasMessageContaining("healthyThreshold");
        assertThatThrownBy(() -> new HedgePolicy(0.2, Duration.ofMillis(5), 1)).hasMessageContaining("hedge percentile");
        assertThatThrownBy(() -> Endpoint.of("a b", "r", 0, "x")).hasMessageContaining("without whitespace");
        assertThatThrownBy(() -> Endpoint.of("a", "r", -1, "x")).hasMessageContaining("priority of endpoint a");
        assertThatThrownBy(() -> new Endpoint<>("a", "r", 0, 0, "x")).hasMessageContaining("weight of endpoint a");
    }

    // ------------------------------------------------------------------ selection

    @Test
    void callsSpreadOverTheFirstLevelAndNeverReachTheSecondWhileItIsHealthy() {
        router = builder(ep("a1", 0), ep("a2", 0), ep("b1", 1)).build();
        for (int i = 0; i < 2000; i++) {
            router.call(this::work);
        }
        assertThat(served("b1")).isZero();
        assertThat(served("a1")).isGreaterThan(500);
        assertThat(served("a2")).isGreaterThan(500);
        assertThat(router.priorityLoad()).containsExactly(Map.entry(0, 100), Map.entry(1, 0));
    }

    @Test
    void aSlowEndpointLosesItsShare() {
        router = builder(ep("fast", 0), ep("slow", 0)).build();
        latency.put("slow", Duration.ofMillis(50));
        for (int i = 0; i < 1000; i++) {
            router.call(this::work);
        }
        assertThat(served("slow")).isLessThan(100);
        assertThat(served("fast")).isGreaterThan(900);
    }

    @Test
    void powerOfTwoChoicesBalancesOutstandingCalls() {
        router = builder(ep("a", 0), ep("b", 0)).build();
        List<CompletableFuture<String>> held = new ArrayList<>();
        Map<String, Integer> started = new HashMap<>();
        for (int i = 0; i < 40; i++) {
            router.callAsync(e -> {
                started.merge(e.id(), 1, Integer::sum);
                CompletableFuture<String> f = new CompletableFuture<>();
                held.add(f);
                return f;
            });
        }
        assertThat(started.get("a")).isEqualTo(20);
        assertThat(started.get("b")).isEqualTo(20);
        held.forEach(f -> f.complete("done"));
        assertThat(router.endpoints()).allSatisfy(s -> assertThat(s.outstanding()).isZero());
    }

    @Test
    void weightScalesAnEndpointsShareOfConcurrentCalls() {
        router = builder(ep("small", 0), ep("big", 0)).build();
        router.reweightEndpoint("big", 4);
        Map<String, Integer> started = new HashMap<>();
        List<CompletableFuture<String>> held = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            router.callAsync(e -> {
                started.merge(e.id(), 1, Integer::sum);
                CompletableFuture<String> f = new CompletableFuture<>();
                held.add(f);
                return f;
            });
        }
        assertThat(started.get("big")).isGreaterThanOrEqualTo(3 * started.get("small"));
        held.forEach(f -> f.complete("done"));
    }

    // ------------------------------------------------------------------ ejection and failback

    @Test
    void fiveFailuresInARowEjectAnEndpointAndEachEjectionLastsLongerUpToTheCap() {
        router = builder(ep("a", 0), ep("b", 1)).build();
        down.add("a");
        callIgnoringFailures(200);
        assertThat(state("a")).isEqualTo(EndpointState.EJECTED);
        assertThat(ejections()).first().satisfies(e -> {
            assertThat(e.reason()).isEqualTo(EjectionReason.CONSECUTIVE_FAILURES);
            assertThat(e.duration()).isEqualTo(Duration.ofSeconds(10));
        });
        // Each expiry gives one failing trial call, which ejects it again for longer: 20 s, 30 s, 40 s, 40 s.
        for (int round = 0; round < 4; round++) {
            clock.advance(Duration.ofSeconds(41));
            callIgnoringFailures(5);
        }
        assertThat(ejections()).extracting(FailoverEvent.Ejected::duration).containsExactly(
                Duration.ofSeconds(10), Duration.ofSeconds(20), Duration.ofSeconds(30), Duration.ofSeconds(40), Duration.ofSeconds(40));
        assertThat(ejections().subList(1, 5)).allSatisfy(e -> assertThat(e.reason()).isEqualTo(EjectionReason.RECOVERY_FAILED));
    }

    @Test
    void failbackTakesThreeSpacedTrialSuccessesAndNoMore() {
        router = builder(ep("a", 0), ep("b", 1)).build();
        down.add("a");
        callIgnoringFailures(100);
        assertThat(state("a")).isEqualTo(EndpointState.EJECTED);
        down.clear();
        clock.advance(Duration.ofSeconds(10));
        int before = served("a");
        router.call(this::work);
        assertThat(state("a")).isEqualTo(EndpointState.RECOVERING);
        assertThat(served("a")).isEqualTo(before + 1);
        // Within the trial interval, no further call reaches it: that is the hysteresis.
        for (int i = 0; i < 50; i++) {
            router.call(this::work);
        }
        assertThat(served("a")).isEqualTo(before + 1);
        clock.advance(Duration.ofSeconds(1));
        router.call(this::work);
        assertThat(state("a")).isEqualTo(EndpointState.RECOVERING);
        clock.advance(Duration.ofSeconds(1));
        router.call(this::work);
        assertThat(state("a")).isEqualTo(EndpointState.HEALTHY);
        assertThat(events).filteredOn(FailoverEvent.Restored.class::isInstance).hasSize(1);
    }

    @Test
    void callerErrorsNeitherCountAgainstTheEndpointNorAreRetried() {
        router = builder(ep("a", 0)).build();
        AtomicInteger attempts = new AtomicInteger();
        for (int i = 0; i < 20; i++) {
            assertThatThrownBy(() -> router.callIdempotent(e -> {
                attempts.incrementAndGet();
                throw new EndpointStatusException(e.id(), 400, "bad request");
            })).isInstanceOf(EndpointStatusException.class).hasMessageContaining("400");
        }
        assertThat(attempts).hasValue(20);
        assertThat(state("a")).isEqualTo(EndpointState.HEALTHY);
        assertThat(router.endpoint("a").orElseThrow().failures()).isZero();
    }

    @Test
    void aCustomClassifierDecidesWhatCounts() {
        router = builder(ep("a", 0)).failureClassifier(f -> FailureClassifier.Verdict.CALLER_ERROR).build();
        for (int i = 0; i < 20; i++) {
            assertThatThrownBy(() -> router.call(e -> {
                throw new IOException("not our problem");
            })).isInstanceOf(EndpointCallException.class);
        }
        assertThat(state("a")).isEqualTo(EndpointState.HEALTHY);
    }

    @Test
    void theCircuitBreakerEjectsOnFailureRateEvenWithoutFiveInARow() {
        router = builder(ep("a", 0), ep("b", 1)).build();
        // A long run of successes first: the breaker must still see the failures that follow.
        for (int i = 0; i < 500; i++) {
            router.call(this::work);
        }
        AtomicInteger n = new AtomicInteger();
        // Every other call on "a" fails: never five in a row, but a 50 % failure rate over 20 calls.
        for (int i = 0; i < 200 && state("a") == EndpointState.HEALTHY; i++) {
            try {
                router.call(e -> {
                    if (e.id().equals("a") && n.incrementAndGet() % 2 == 0) {
                        throw new IOException("flaky");
                    }
                    return e.id();
                });
            } catch (EndpointCallException expected) {
                // flaky by design
            }
        }
        assertThat(ejections()).singleElement().extracting(FailoverEvent.Ejected::reason).isEqualTo(EjectionReason.FAILURE_RATE);
    }

    // ------------------------------------------------------------------ priorities and panic

    @Test
    void trafficSpillsOverByHealthyShareAndFailsOverWhenTheLevelIsDown() {
        router = builder(ep("a1", 0), ep("a2", 0), ep("b1", 1), ep("b2", 1)).consecutiveFailures(1).build();
        down.add("a1");
        callIgnoringFailures(100);
        // Half of level 0 healthy: 50 % × 1.4 = 70 % stays, 30 % spills to level 1.
        assertThat(router.priorityLoad()).containsExactly(Map.entry(0, 70), Map.entry(1, 30));
        down.add("a2");
        callIgnoringFailures(100);
        assertThat(router.priorityLoad()).containsExactly(Map.entry(0, 0), Map.entry(1, 100));
        served.clear();
        for (int i = 0; i < 100; i++) {
            router.call(this::work);
        }
        assertThat(served("b1") + served("b2")).isEqualTo(100);
        assertThat(events).filteredOn(FailoverEvent.Failover.class::isInstance).map(FailoverEvent.Failover.class::cast)
                .extracting(FailoverEvent.Failover::load)
                .containsExactly(List.of(70, 30), List.of(0, 100));
    }

    @Test
    void tooFewHealthyEndpointsTriggerPanicRoutingOverAllOfThem() {
        router = builder(ep("a", 0), ep("b", 0), ep("c", 0), ep("d", 0)).consecutiveFailures(1).build();
        down.addAll(List.of("a", "b", "c"));
        callIgnoringFailures(300);
        // One of four healthy: 25 % × 1.4 = 35 % < 50 %: panic, and calls reach the ejected ones too.
        assertThat(router.inPanic()).isTrue();
        assertThat(events).filteredOn(FailoverEvent.Panic.class::isInstance).first()
                .isEqualTo(new FailoverEvent.Panic(true, 35));
        attempted.clear();
        callIgnoringFailures(300);
        assertThat(attempted.keySet()).containsExactlyInAnyOrder("a", "b", "c", "d");
        assertThat(state("a")).isEqualTo(EndpointState.EJECTED);
    }

    @Test
    void withPanicDisabledAllEndpointsDownIsAClearError() {
        router = builder(ep("a", 0), ep("b", 1)).panicThreshold(0).consecutiveFailures(1).build();
        down.addAll(List.of("a", "b"));
        callIgnoringFailures(2);
        assertThatThrownBy(() -> router.call(this::work))
                .isInstanceOf(NoHealthyEndpointException.class)
                .hasMessageContaining("no healthy endpoint").hasMessageContaining("a=EJECTED").hasMessageContaining("b=EJECTED");
    }

    // ------------------------------------------------------------------ retries and budget

    @Test
    void anIdempotentCallIsRetriedOnAnotherEndpoint() {
        router = builder(ep("a", 0), ep("b", 1)).build();
        down.add("a");
        assertThat(router.callIdempotent(this::work)).isEqualTo("b");
    }

    @Test
    void aNonIdempotentCallIsNotRetried() {
        router = builder(ep("a", 0), ep("b", 1)).build();
        down.add("a");
        assertThatThrownBy(() -> router.call(this::work))
                .isInstanceOfSatisfying(EndpointCallException.class, e -> assertThat(e.endpointsTried()).containsExactly("a"))
                .hasCauseInstanceOf(EndpointStatusException.class);
        assertThat(served("b")).isZero();
    }

    @Test
    void whenEveryAttemptFailsTheErrorListsTheEndpointsTried() {
        router = builder(ep("a", 0), ep("b", 0), ep("c", 1)).build();
        down.addAll(List.of("a", "b", "c"));
        assertThatThrownBy(() -> router.callIdempotent(this::work))
                .isInstanceOfSatisfying(EndpointCallException.class, e -> {
                    assertThat(e.endpointsTried()).hasSize(3).doesNotHaveDuplicates();
                    assertThat(e.getSuppressed()).hasSize(2);
                })
                .hasMessageContaining("call failed after 3 attempts");
    }

    @Test
    void theRetryBudgetCapsRetriesAtItsShareOfCalls() {
        router = builder(ep("a", 0), ep("b", 0), ep("c", 0)).retryBudget(0.1, 0, Duration.ofSeconds(10))
                .consecutiveFailures(1000).build();
        AtomicInteger attempts = new AtomicInteger();
        int calls = 200;
        int budgetErrors = 0;
        for (int i = 0; i < calls; i++) {
            try {
                router.callIdempotent(e -> {
                    attempts.incrementAndGet();
                    throw new IOException("all down");
                });
            } catch (EndpointCallException e) {
                if (e.retryBudgetExhausted()) {
                    budgetErrors++;
                }
            }
        }
        int retries = attempts.get() - calls;
        assertThat(retries).isBetween(18, 20);
        assertThat(budgetErrors).isGreaterThan(150);
        assertThat(router.retriesRefused()).isEqualTo(budgetErrors);
    }

    // ------------------------------------------------------------------ elastic endpoint sets

    @Test
    void aDrainedEndpointFinishesItsCallsAndGetsNoNewOnes() {
        router = builder(ep("a", 0), ep("b", 0)).build();
        CompletableFuture<String> held = new CompletableFuture<>();
        CompletableFuture<String> call = router.callAsync(e -> e.id().equals("a") ? held : CompletableFuture.completedFuture("b"));
        while (!(router.endpoint("a").orElseThrow().outstanding() == 1)) {
            call = router.callAsync(e -> e.id().equals("a") ? held : CompletableFuture.completedFuture("b"));
        }
        CompletableFuture<Void> drained = router.drainEndpoint("a");
        assertThat(state("a")).isEqualTo(EndpointState.DRAINING);
        for (int i = 0; i < 100; i++) {
            router.call(this::work);
        }
        assertThat(served("a")).isZero();
        assertThat(drained).isNotDone();
        held.complete("a");
        assertThat(call).isCompletedWithValue("a");
        assertThat(drained).isDone();
        assertThat(router.endpoint("a")).isEmpty();
    }

    @Test
    void endpointsCanBeAddedAndRemovedWhileCallsAreInFlight() {
        router = builder(ep("a", 0)).build();
        CompletableFuture<String> held = new CompletableFuture<>();
        CompletableFuture<String> inFlight = router.callAsync(e -> held);
        router.addEndpoint(ep("b", 0));
        assertThatThrownBy(() -> router.addEndpoint(ep("b", 1))).hasMessageContaining("already has an endpoint with id b");
        assertThat(router.removeEndpoint("a")).isTrue();
        for (int i = 0; i < 50; i++) {
            router.call(this::work);
        }
        assertThat(served("b")).isEqualTo(50);
        held.complete("finished");
        assertThat(inFlight).isCompletedWithValue("finished");
        assertThat(router.removeEndpoint("a")).isFalse();
        router.removeEndpoint("b");
        assertThatThrownBy(() -> router.call(this::work)).isInstanceOf(NoHealthyEndpointException.class)
                .hasMessageContaining("has no endpoints");
    }

    // ------------------------------------------------------------------ observability

    @Test
    void metricsCountRequestsFailuresAndShowTheState() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        router = builder(ep("a", 0), ep("b", 1)).meterRegistry(registry).build();
        down.add("a");
        callIgnoringFailures(100);
        assertThat(registry.get("dr4j.failover.requests").tag("endpoint", "b").counter().count()).isGreaterThan(80);
        assertThat(registry.get("dr4j.failover.failures").tag("endpoint", "a").counter().count()).isEqualTo(5);
        assertThat(registry.get("dr4j.failover.failures").tag("endpoint", "b").counter().count()).isZero();
        assertThat(registry.get("dr4j.failover.latency").tag("endpoint", "b").timer().count()).isGreaterThan(80);
        assertThat(registry.get("dr4j.failover.state").tag("endpoint", "a").gauge().value()).isEqualTo(EndpointState.EJECTED.ordinal());
        router.removeEndpoint("a");
        assertThat(registry.find("dr4j.failover.requests").tag("endpoint", "a").counter()).isNull();
    }

    @Test
    void aFailingListenerDoesNotBreakRouting() {
        router = builder(ep("a", 0), ep("b", 1)).listener(e -> {
            throw new IllegalStateException("listener bug");
        }).build();
        down.add("a");
        callIgnoringFailures(50);
        assertThat(state("a")).isEqualTo(EndpointState.EJECTED);
    }

    // ------------------------------------------------------------------ probes and hedging (real scheduler)

    @Test
    void healthProbesTakeAnEndpointOutAndBringItBackWithThresholds() throws Exception {
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        try {
            Set<String> probeDown = ConcurrentHashMap.newKeySet();
            Map<String, AtomicInteger> probes = new ConcurrentHashMap<>();
            router = FailoverRouter.<String>builder().endpoint(ep("a", 0)).endpoint(ep("b", 0)).listener(events::add)
                    .scheduler(scheduler)
                    .healthCheck(e -> {
                        probes.computeIfAbsent(e.id(), k -> new AtomicInteger()).incrementAndGet();
                        if (probeDown.contains(e.id())) {
                            throw new IOException("probe failed");
                        }
                    }, Duration.ofMillis(10), 2, 3)
                    .build();
            probeDown.add("a");
            Await.until("a is unhealthy", Duration.ofSeconds(10), () -> state("a") == EndpointState.UNHEALTHY);
            int probesWhenOut = probes.get("a").get();
            assertThat(probesWhenOut).isGreaterThanOrEqualTo(3);
            assertThat(events).filteredOn(FailoverEvent.Ejected.class::isInstance).map(FailoverEvent.Ejected.class::cast)
                    .singleElement().extracting(FailoverEvent.Ejected::reason).isEqualTo(EjectionReason.HEALTH_CHECK);
            probeDown.clear();
            Await.until("a is restored", Duration.ofSeconds(10), () -> state("a") == EndpointState.HEALTHY);
            assertThat(probes.get("a").get()).isGreaterThanOrEqualTo(probesWhenOut + 2);
        } finally {
            router.close();
            scheduler.shutdownNow();
            assertThat(scheduler.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void aHedgedCallWinsOnTheFasterEndpointAndCancelsTheLoser() {
        router = builder(ep("a", 0), ep("b", 0)).hedging(new HedgePolicy(0.9, Duration.ofMillis(5), 1)).build();
        // Teach the histogram that calls take about 1 ms, then let it refresh.
        for (int i = 0; i < 200; i++) {
            router.callIdempotentAsync(e -> {
                clock.advance(Duration.ofMillis(1));
                return CompletableFuture.completedFuture(e.id());
            }).join();
        }
        clock.advance(Duration.ofSeconds(2));
        router.callIdempotentAsync(e -> CompletableFuture.completedFuture(e.id())).join();
        List<CompletableFuture<String>> stuck = new CopyOnWriteArrayList<>();
        AtomicInteger attempt = new AtomicInteger();
        String winner = router.callIdempotentAsync(e -> {
            if (attempt.getAndIncrement() == 0) {
                CompletableFuture<String> never = new CompletableFuture<>();
                stuck.add(never);
                return never;
            }
            return CompletableFuture.completedFuture(e.id());
        }).orTimeout(10, TimeUnit.SECONDS).join();
        assertThat(attempt).hasValue(2);
        assertThat(stuck).hasSize(1);
        // the loser is cancelled just after the winner completes the caller's future, maybe on another thread
        Await.until("the loser is cancelled", Duration.ofSeconds(10), () -> stuck.get(0).isCancelled());
        assertThat(winner).isIn("a", "b");
        Await.until("no call outstanding", Duration.ofSeconds(10),
                () -> router.endpoints().stream().allMatch(s -> s.outstanding() == 0));
        assertThat(router.endpoints()).allSatisfy(s -> assertThat(s.failures()).isZero());
    }

    @Test
    void anAsyncIdempotentCallFailsOverToAnotherEndpoint() {
        router = builder(ep("a", 0), ep("b", 1)).build();
        String result = router.callIdempotentAsync(e -> e.id().equals("a")
                ? CompletableFuture.<String>failedFuture(new IOException("connection refused"))
                : CompletableFuture.completedFuture("from " + e.id())).orTimeout(10, TimeUnit.SECONDS).join();
        assertThat(result).isEqualTo("from b");
    }

    @Test
    void anAsyncCallWithAllEndpointsFailingCompletesWithTheEndpointsTried() {
        router = builder(ep("a", 0), ep("b", 1)).maxAttempts(2).build();
        CompletableFuture<String> f = router.callIdempotentAsync(e -> CompletableFuture.failedFuture(new IOException("down " + e.id())));
        assertThatThrownBy(() -> f.orTimeout(10, TimeUnit.SECONDS).join())
                .cause().isInstanceOf(EndpointCallException.class)
                .hasMessageContaining("call failed after 2 attempts on [a, b]");
    }

    @SuppressWarnings("unchecked")
    private List<FailoverEvent.Ejected> ejections() {
        return (List<FailoverEvent.Ejected>) (List<?>) events.stream().filter(FailoverEvent.Ejected.class::isInstance).toList();
    }
}
