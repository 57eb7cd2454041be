package io.dr4j.bench.failover;

import io.dr4j.failover.Endpoint;
import io.dr4j.failover.EndpointCall;
import io.dr4j.failover.FailoverRouter;
import io.dr4j.failover.FailoverRouterBuilder;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The router's overhead per call, without I/O: picking an endpoint (P2C within a level, the
 * spill-over plan across two levels of three endpoints), the outstanding/latency/breaker
 * bookkeeping and the budget deposit, against calling the same function directly. The call
 * itself does nothing but return the endpoint id, so the difference is the router.
 * {@code resilience4jBreaker} is the anchor: a single resilience4j breaker around the same call.
 *
 * <p>Run (with allocation per call as {@code gc.alloc.rate.norm}, bytes/op):
 * <pre>
 * mvn -B -q -pl dr-bench -am package -DskipTests
 * java -jar dr-bench/target/benchmarks.jar RouterBenchmark -prof gc
 * </pre>
 * The {@code *Contended} variants run on two threads sharing one router.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class RouterBenchmark {

    /** A non-capturing call: no allocation of its own. */
    private static final EndpointCall<String, String> CALL = Endpoint::id;

    private FailoverRouter<String> router;
    private Endpoint<String> endpoint;
    private CircuitBreaker breaker;

    @Setup
    public void setUp() {
        FailoverRouterBuilder<String> builder = FailoverRouter.<String>builder().name("bench");
        for (int i = 0; i < 3; i++) {
            builder.endpoint(Endpoint.of("primary-" + i, "region-a", 0, "payload-a" + i));
            builder.endpoint(Endpoint.of("secondary-" + i, "region-b", 1, "payload-b" + i));
        }
        router = builder.build();
        endpoint = Endpoint.of("direct", "region-a", 0, "payload");
        breaker = CircuitBreaker.ofDefaults("baseline");
    }

    @TearDown
    public void tearDown() {
        router.close();
    }

    @Benchmark
    public String direct() throws Exception {
        return CALL.call(endpoint);
    }

    /** The anchor the issue quotes: one resilience4j breaker around the same call (permission, call, record). */
    @Benchmark
    public String resilience4jBreaker() throws Exception {
        breaker.acquirePermission();
        long start = System.nanoTime();
        String result = CALL.call(endpoint);
        breaker.onSuccess(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        return result;
    }

    @Benchmark
    public String routed() {
        return router.call(CALL);
    }

    @Benchmark
    public String routedIdempotent() {
        return router.callIdempotent(CALL);
    }

    @Benchmark
    @Threads(2)
    public String directContended() throws Exception {
        return CALL.call(endpoint);
    }

    @Benchmark
    @Threads(2)
    public String routedContended() {
        return router.call(CALL);
    }
}
