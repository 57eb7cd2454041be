package io.dr4j.bench.failover;

import io.dr4j.failover.ConcurrencyLimit;
import io.dr4j.failover.Endpoint;
import io.dr4j.failover.EndpointStatus;
import io.dr4j.failover.FailoverEvent;
import io.dr4j.failover.FailoverHttpClient;
import io.dr4j.failover.FailoverRouter;
import io.dr4j.failover.FailoverRouterBuilder;
import io.dr4j.failover.HedgePolicy;
import io.dr4j.failover.InferenceResponse;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Side by side, in one run on loopback: two "regions" of stand-in inference servers behind
 * HAProxy 2.6 configured at its best (active health checks every 100 ms, {@code observe
 * layer7}, {@code retry-on all-retryable-errors}, {@code option redispatch}, region B as
 * {@code backup}), and the same servers behind dr4j's {@link FailoverHttpClient} (region A
 * priority 0, region B priority 1, probes every 100 ms). Under a steady open-loop load it kills
 * region A, waits, and brings it back; it reports failed requests, p50/p99 latency during the
 * failover, the detection time (until both servers of region A are out of rotation: HAProxy
 * printed "is DOWN" for them, dr4j ejected them; and the slowest server's time from the start of
 * its own stop, since the kill stops them one after the other), the time until region B serves
 * everything and the time to fail back. Then the
 * overload scenario: two servers of fixed capacity (4 at a time, 2 waiting, 50 ms each, 429
 * beyond) offered twice their capacity by closed-loop callers, reporting goodput against
 * capacity, over the whole run and in the steady state (answers from 1 s after the start to the
 * end, without the ramp-up and the drain of the calls left in flight). Everything runs on 127.0.0.1 and stops by itself; HAProxy is a child process.
 *
 * <pre>
 * apt-get install -y haproxy          # Debian 12: HAProxy 2.6
 * mvn -B -q -pl dr-bench -am package -DskipTests
 * java -cp dr-bench/target/benchmarks.jar io.dr4j.bench.failover.FailoverSideBySide [--rate 200] [--service-ms 5] [--dr4j-rows default,watch,hedged] [--overload false] [--overload-seconds 6]
 * </pre>
 */
public final class FailoverSideBySide {

    private static final Duration BEFORE_KILL = Duration.ofSeconds(3);
    private static final Duration KILLED = Duration.ofSeconds(4);
    private static final Duration AFTER_RESTORE = Duration.ofSeconds(4);
    private static final Duration FAILOVER_WINDOW = Duration.ofSeconds(2);
    /** How long each overload row runs ({@code --overload-seconds}). */
    private static Duration overloadRun = Duration.ofSeconds(6);
    private static final int OVERLOAD_CALLERS = 16;
    private static final Duration STEADY_AFTER = Duration.ofSeconds(1);

    private static final boolean TIMELINE = Boolean.getBoolean("timeline");
    /** With {@code -Dtimeline=true}: dr4j's HTTP exchanges (requests and probes) and router events, for the view around the kill. */
    private static final List<TracingHttpClient> TRACES = Collections.synchronizedList(new ArrayList<>());
    private static final List<Map.Entry<Long, FailoverEvent>> EVENTS = Collections.synchronizedList(new ArrayList<>());

    private FailoverSideBySide() {
    }

    /** One request: when it started (ns since the run began), how long it took, who answered (null: failed). */
    private record Sample(long start, long latency, String server) {
    }

    /** A server taken out of rotation ({@link System#nanoTime}): HAProxy's "is DOWN", dr4j's ejection. */
    private record Down(long at, String server) {
    }

    /** Sends one request and returns the answering server's name; throws on failure. */
    @FunctionalInterface
    private interface Sender {
        String send() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        int rate = 200;
        int serviceMs = 5;
        // Which dr4j failover rows, in which order: the first in the JVM meets the failure paths cold (class loading, JIT).
        List<String> dr4jRows = List.of("default", "watch", "hedged");
        boolean overloadRows = true;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--rate" -> rate = Integer.parseInt(args[i + 1]);
                case "--service-ms" -> serviceMs = Integer.parseInt(args[i + 1]);
                case "--dr4j-rows" -> dr4jRows = List.of(args[i + 1].split(","));
                case "--overload" -> overloadRows = Boolean.parseBoolean(args[i + 1]);
                case "--overload-seconds" -> overloadRun = Duration.ofSeconds(Integer.parseInt(args[i + 1]));
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (overloadRun.compareTo(STEADY_AFTER.multipliedBy(2)) < 0) {
            throw new IllegalArgumentException("--overload-seconds must be at least 2 (the steady state starts after 1 s), was "
                    + overloadRun.toSeconds());
        }
        Path work = Files.createTempDirectory("dr4j-haproxy");
        List<String> table = new ArrayList<>();
        table.add("| scenario | client | requests | failed | p50 ms | p99 ms | A out after ms | slowest server out ms | B serves all after ms | fail back after ms |");
        table.add("|---|---|---|---|---|---|---|---|---|");
        Duration service = Duration.ofMillis(serviceMs);
        List<BenchInferenceServer> a = List.of(new BenchInferenceServer("a1", service, 0, 0), new BenchInferenceServer("a2", service, 0, 0));
        List<BenchInferenceServer> b = List.of(new BenchInferenceServer("b1", service, 0, 0), new BenchInferenceServer("b2", service, 0, 0));
        // Java 17's HttpClient has no close(): its executor is ours, and shut down at the end.
        ExecutorService plainExecutor = Executors.newCachedThreadPool(daemon("haproxy-client"));
        HttpClient plain = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2))
                .executor(plainExecutor).build();
        try {
            int port = freePort();
            Path cfg = work.resolve("failover.cfg");
            Files.writeString(cfg, haproxyFailoverConfig(port, a, b));
            List<Down> proxyDowns = Collections.synchronizedList(new ArrayList<>());
            Process haproxy = startHaproxy(cfg, work.resolve("failover.log"), proxyDowns);
            try {
                awaitUp(plain, URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"));
                Sender viaProxy = () -> post(plain, URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"));
                table.add(row("region A killed", "HAProxy 2.6", failover(viaProxy, a, rate, proxyDowns)));
            } finally {
                haproxy.destroy();
                haproxy.waitFor(10, TimeUnit.SECONDS);
            }
            for (BenchInferenceServer s : a) {
                s.start();
            }
            for (String kind : dr4jRows) {
                // Hedging and the connection watch are opt-in: rows of their own, so that the default stands alone.
                if (!List.of("default", "watch", "hedged").contains(kind)) {
                    throw new IllegalArgumentException("--dr4j-rows takes default, watch and hedged, not " + kind);
                }
                boolean hedged = kind.equals("hedged");
                boolean watch = kind.equals("watch");
                List<Down> ejections = Collections.synchronizedList(new ArrayList<>());
                try (FailoverHttpClient dr4j = dr4jClient(a, b, ConcurrencyLimit.none(), TIMELINE && !hedged,
                        hedged ? HedgePolicy.p95() : null, watch, ejections)) {
                    Sender viaDr4j = () -> serverOf(dr4j.post("v1/chat/completions", "{\"prompt\":\"hi\"}"));
                    // Enough calls for the hedge's latency percentile (the 3 s before the kill would give it 600 more).
                    for (int i = 0; i < 2 * HedgePolicy.MIN_SAMPLES; i++) {
                        viaDr4j.send();
                    }
                    table.add(row("region A killed", hedged ? "dr4j, hedged at p95 (opt-in)" : watch ? "dr4j, connection watch (opt-in)" : "dr4j",
                            failover(viaDr4j, a, rate, ejections)));
                }
            }
        } finally {
            a.forEach(BenchInferenceServer::close);
            b.forEach(BenchInferenceServer::close);
        }

        if (!overloadRows) {
            plainExecutor.shutdownNow();
            System.out.println(String.join("\n", table));
            return;
        }
        table.add("");
        table.add("| scenario | client | calls | goodput/s | capacity/s | goodput % | steady goodput/s | steady % | failed | 429 answered | p99 ms |");
        table.add("|---|---|---|---|---|---|---|---|---|");
        List<BenchInferenceServer> o = List.of(new BenchInferenceServer("o1", Duration.ofMillis(50), 4, 2),
                new BenchInferenceServer("o2", Duration.ofMillis(50), 4, 2));
        try {
            int port = freePort();
            Path cfg = work.resolve("overload.cfg");
            Files.writeString(cfg, haproxyOverloadConfig(port, o, 0));
            Process haproxy = startHaproxy(cfg, work.resolve("overload.log"), new ArrayList<>());
            try {
                URI uri = URI.create("http://127.0.0.1:" + port + "/v1/chat/completions");
                awaitUp(plain, uri);
                table.add(overload("2x overload", "HAProxy 2.6", () -> post(plain, uri), o));
            } finally {
                haproxy.destroy();
                haproxy.waitFor(10, TimeUnit.SECONDS);
            }
            port = freePort();
            cfg = work.resolve("overload-maxconn.cfg");
            Files.writeString(cfg, haproxyOverloadConfig(port, o, 6));
            haproxy = startHaproxy(cfg, work.resolve("overload-maxconn.log"), new ArrayList<>());
            try {
                URI uri = URI.create("http://127.0.0.1:" + port + "/v1/chat/completions");
                awaitUp(plain, uri);
                table.add(overload("2x overload", "HAProxy 2.6, maxconn 6 per server", () -> post(plain, uri), o));
            } finally {
                haproxy.destroy();
                haproxy.waitFor(10, TimeUnit.SECONDS);
            }
            for (ConcurrencyLimit limit : List.of(ConcurrencyLimit.vegas(4, 64), ConcurrencyLimit.fixed(6), ConcurrencyLimit.none())) {
                try (FailoverHttpClient dr4j = dr4jClient(o, List.of(), limit)) {
                    table.add(overload("2x overload", "dr4j, " + describe(limit),
                            () -> serverOf(dr4j.post("v1/chat/completions", "{}")), o));
                    for (EndpointStatus<URI> s : dr4j.router().endpoints()) {
                        if (s.ejections() != 0 || s.failures() != 0) {
                            System.out.println("note: " + s.endpoint().id() + " ejections " + s.ejections() + " failures " + s.failures());
                        }
                    }
                }
            }
        } finally {
            o.forEach(BenchInferenceServer::close);
            plainExecutor.shutdownNow();
        }
        String out = String.join("\n", table);
        System.out.println(out);
        Files.writeString(work.resolve("side-by-side.md"), out + "\n");
        System.out.println("(written to " + work.resolve("side-by-side.md") + ")");
    }

    // ---------------------------------------------------------------- scenarios

    /**
     * Steady open-loop load; region A killed after BEFORE_KILL, back after KILLED more.
     *
     * @param downs where the client under test records servers it takes out of rotation
     */
    private static List<Object> failover(Sender sender, List<BenchInferenceServer> regionA, int rate, List<Down> downs)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(256, daemon("load"));
        List<Sample> samples = Collections.synchronizedList(new ArrayList<>());
        long t0 = System.nanoTime();
        long periodNanos = 1_000_000_000L / rate;
        long kill = BEFORE_KILL.toNanos();
        long restore = kill + KILLED.toNanos();
        long end = restore + AFTER_RESTORE.toNanos();
        List<Future<?>> futures = new ArrayList<>();
        boolean killed = false;
        long killedAt = 0;
        long killUptime = 0;
        boolean restored = false;
        try {
            for (long next = 0; next < end; next += periodNanos) {
                long wait = next - (System.nanoTime() - t0);
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                long now = System.nanoTime() - t0;
                if (!killed && now >= kill) {
                    killUptime = ManagementFactory.getRuntimeMXBean().getUptime();
                    killedAt = System.nanoTime();
                    regionA.forEach(BenchInferenceServer::stop);
                    killed = true;
                }
                if (!restored && now >= restore) {
                    for (BenchInferenceServer s : regionA) {
                        s.start();
                    }
                    restored = true;
                }
                futures.add(pool.submit(() -> {
                    long start = System.nanoTime() - t0;
                    String server;
                    try {
                        server = sender.send();
                    } catch (Exception e) {
                        server = null;
                    }
                    samples.add(new Sample(start, System.nanoTime() - t0 - start, server));
                }));
            }
            for (Future<?> f : futures) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(10, TimeUnit.SECONDS);
        }
        List<Sample> all = new ArrayList<>(samples);
        // To line up with -Xlog:class+load (uptime decorations) or -XX:+PrintCompilation when diagnosing.
        System.out.printf(Locale.ROOT, "  (region A killed at JVM uptime %d ms)%n", killUptime);
        if (TIMELINE) {
            long slowNanos = Duration.ofMillis(20).toNanos();
            for (Sample x : all) {
                if (x.start >= kill - 100_000_000L && x.start < kill + 500_000_000L && (x.latency > slowNanos || x.server == null)) {
                    System.out.printf(Locale.ROOT, "  slow: started %+.1f ms, took %.1f ms, answered by %s%n", (x.start - kill) / 1e6,
                            x.latency / 1e6, x.server);
                }
            }
            synchronized (TRACES) {
                for (TracingHttpClient trace : TRACES) {
                    System.out.println("  exchanges from 20 ms before the kill to 300 ms after:");
                    for (TracingHttpClient.Exchange e : trace.between(t0 + kill - 20_000_000L, t0 + kill + 300_000_000L)) {
                        System.out.println("    " + e.describe(t0 + kill));
                    }
                }
            }
            synchronized (EVENTS) {
                for (Map.Entry<Long, FailoverEvent> e : EVENTS) {
                    System.out.printf(Locale.ROOT, "  event %+.1f ms: %s%n", (e.getKey() - t0 - kill) / 1e6, e.getValue());
                }
            }

            for (long from = kill - 200_000_000L; from < kill + 2_000_000_000L; from += 100_000_000L) {
                long f = from;
                List<Sample> bucket = all.stream().filter(x -> x.start >= f && x.start < f + 100_000_000L).toList();
                System.out.printf(Locale.ROOT, "  t=%+5d ms: %3d requests, %d failed, A %3d, B %3d, max %.1f ms%n", (from - kill) / 1_000_000,
                        bucket.size(), bucket.stream().filter(x -> x.server == null).count(),
                        bucket.stream().filter(x -> x.server != null && x.server.startsWith("a")).count(),
                        bucket.stream().filter(x -> x.server != null && x.server.startsWith("b")).count(),
                        bucket.stream().mapToLong(Sample::latency).max().orElse(0) / 1e6);
            }
        }
        long failed = all.stream().filter(s -> s.server == null).count();
        List<Long> window = all.stream().filter(s -> s.server != null && s.start >= kill && s.start < kill + FAILOVER_WINDOW.toNanos())
                .map(Sample::latency).sorted().toList();
        long normal = percentile(all.stream().filter(s -> s.server != null && s.start < kill).map(Sample::latency).sorted().toList(), 0.5);
        long slow = Math.max(Duration.ofMillis(50).toNanos(), 5 * normal);
        // Region B serves everything from the end of the last request (started after the kill) that failed or was slow.
        long lastBad = all.stream().filter(s -> s.start >= kill && s.start < restore && (s.server == null || s.latency > slow))
                .mapToLong(s -> s.start + s.latency).max().orElse(kill);
        // Failed back once no request started after the restore is served by region B any more.
        long lastB = all.stream().filter(s -> s.start >= restore && s.server != null && s.server.startsWith("b"))
                .mapToLong(Sample::start).max().orElse(restore);
        boolean stillB = all.stream().filter(s -> s.start >= end - Duration.ofMillis(500).toNanos())
                .anyMatch(s -> s.server != null && s.server.startsWith("b"));
        // Detected once every server of region A was taken out of rotation (its first removal after the kill).
        // Per server too, from the moment that server began to die: the kill stops the servers one after the other
        // (~4-10 ms each), which the first figure includes and no client can beat.
        long detected = 0;
        long perServer = 0;
        synchronized (downs) {
            for (BenchInferenceServer s : regionA) {
                long at = Long.MAX_VALUE;
                for (Down d : downs) {
                    if (d.server.equals(s.name) && d.at - killedAt >= 0 && d.at - t0 < restore) {
                        at = Math.min(at, d.at - killedAt);
                    }
                }
                detected = Math.max(detected, at);
                perServer = at == Long.MAX_VALUE ? Long.MAX_VALUE : Math.max(perServer, at - (s.stoppedAt - killedAt));
            }
        }
        return List.of(all.size(), failed, ms(percentile(window, 0.5)), ms(percentile(window, 0.99)),
                detected == Long.MAX_VALUE ? "never" : ms(detected), perServer == Long.MAX_VALUE ? "never" : ms(perServer),
                ms(lastBad - kill),
                stillB ? "not within " + AFTER_RESTORE.toSeconds() + " s" : ms(lastB - restore));
    }

    private static String overload(String scenario, String client, Sender sender, List<BenchInferenceServer> servers)
            throws Exception {
        long served0 = servers.stream().mapToLong(s -> s.served.get()).sum();
        long busy0 = servers.stream().mapToLong(s -> s.busyNanos.get()).sum();
        long rejected0 = servers.stream().mapToLong(s -> s.rejected.get()).sum();
        ExecutorService callers = Executors.newFixedThreadPool(OVERLOAD_CALLERS, daemon("overload"));
        List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger ok = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        // Steady state: answers that arrive from 1 s after the start to the end of the run, before the callers stop
        // (the whole-run figure also counts the ramp-up and the drain of the calls in flight at the end).
        AtomicInteger steady = new AtomicInteger();
        long t0 = System.nanoTime();
        long end = t0 + overloadRun.toNanos();
        long steadyFrom = t0 + STEADY_AFTER.toNanos();
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int i = 0; i < OVERLOAD_CALLERS; i++) {
                running.add(callers.submit(() -> {
                    while (System.nanoTime() - end < 0) {
                        long s = System.nanoTime();
                        try {
                            sender.send();
                            ok.incrementAndGet();
                            long done = System.nanoTime();
                            latencies.add(done - s);
                            if (done - steadyFrom >= 0 && done - end < 0) {
                                steady.incrementAndGet();
                            }
                        } catch (Exception e) {
                            failed.incrementAndGet();
                        }
                    }
                }));
            }
            for (Future<?> f : running) {
                f.get(overloadRun.toSeconds() + 30, TimeUnit.SECONDS);
            }
        } finally {
            callers.shutdownNow();
            callers.awaitTermination(10, TimeUnit.SECONDS);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        long served = servers.stream().mapToLong(s -> s.served.get()).sum() - served0;
        long busy = servers.stream().mapToLong(s -> s.busyNanos.get()).sum() - busy0;
        long rejected = servers.stream().mapToLong(s -> s.rejected.get()).sum() - rejected0;
        double capacity = servers.size() * 4 / ((double) busy / Math.max(1, served) / 1e9);
        double goodput = ok.get() / seconds;
        double steadyGoodput = steady.get() / ((end - steadyFrom) / 1e9);
        List<Long> sorted = new ArrayList<>(latencies);
        Collections.sort(sorted);
        return String.format(Locale.ROOT, "| %s | %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %d | %d | %s |", scenario, client,
                ok.get() + failed.get(), goodput, capacity, 100 * goodput / capacity, steadyGoodput, 100 * steadyGoodput / capacity,
                failed.get(), rejected, ms(percentile(sorted, 0.99)));
    }

    // ---------------------------------------------------------------- clients

    private static FailoverHttpClient dr4jClient(List<BenchInferenceServer> a, List<BenchInferenceServer> b, ConcurrencyLimit limit) {
        return dr4jClient(a, b, limit, false, null, false, new ArrayList<>());
    }

    /**
     * @param hedge null for no hedging
     * @param watch whether the router holds a connection to each endpoint to learn of its death (opt-in)
     * @param ejections where the client records each ejection (a listener, as an operator's monitoring would have)
     */
    private static FailoverHttpClient dr4jClient(List<BenchInferenceServer> a, List<BenchInferenceServer> b, ConcurrencyLimit limit,
                                                 boolean traced, HedgePolicy hedge, boolean watch, List<Down> ejections) {
        HttpClient probes = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofMillis(200)).build();
        if (traced) {
            TracingHttpClient t = new TracingHttpClient(probes);
            TRACES.add(t);
            probes = t;
        }
        FailoverRouterBuilder<URI> router = FailoverRouter.<URI>builder().name("side-by-side")
                .healthCheck(FailoverHttpClient.healthCheck(probes, "/health", Duration.ofMillis(200)), Duration.ofMillis(100), 2, 2)
                .ejectionTime(Duration.ofMillis(500), Duration.ofSeconds(30))
                .failback(2, Duration.ofMillis(100))
                .concurrencyLimit(limit)
                .connectionWatch(watch);
        for (BenchInferenceServer s : a) {
            router.endpoint(Endpoint.of(s.name, "region-a", 0, s.uri()));
        }
        for (BenchInferenceServer s : b) {
            router.endpoint(Endpoint.of(s.name, "region-b", 1, s.uri()));
        }
        if (hedge != null) {
            router.hedging(hedge);
        }
        router.listener(event -> {
            if (event instanceof FailoverEvent.Ejected e) {
                ejections.add(new Down(System.nanoTime(), e.endpoint().id()));
            }
        });
        if (traced) {
            // Formatted when printed: a record's first toString() links its ObjectMethods bootstrap (~100 ms cold), on the ejecting thread.
            router.listener(event -> EVENTS.add(Map.entry(System.nanoTime(), event)));
        }
        FailoverHttpClient.Builder client = FailoverHttpClient.builder(router.build()).tryTimeout(Duration.ofSeconds(2))
                .deadline(Duration.ofSeconds(5));
        if (traced) {
            // The client dr4j would build itself (HTTP/1.1, connect timeout = per-try timeout, a cached pool), traced.
            HttpClient own = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2))
                    .executor(Executors.newCachedThreadPool(daemon("dr4j-http"))).build();
            TracingHttpClient t = new TracingHttpClient(own);
            TRACES.add(t);
            client.httpClient(t);
        }
        return client.build();
    }

    private static String post(HttpClient client, URI uri) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"hi\"}", StandardCharsets.UTF_8)).build();
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException("status " + response.statusCode());
        }
        return serverOf(response.body());
    }

    private static String serverOf(InferenceResponse response) {
        return response.endpointId();
    }

    private static String serverOf(String body) {
        int i = body.indexOf("\"server\":\"");
        return i < 0 ? "?" : body.substring(i + 10, body.indexOf('"', i + 10));
    }

    // ---------------------------------------------------------------- HAProxy

    private static String haproxyFailoverConfig(int port, List<BenchInferenceServer> a, List<BenchInferenceServer> b) {
        StringBuilder c = new StringBuilder(common(port));
        c.append("backend inference\n")
                .append("    balance leastconn\n")
                .append("    option allbackups\n")
                .append("    option httpchk GET /health\n")
                .append("    default-server inter 100ms fastinter 100ms downinter 100ms fall 2 rise 2 observe layer7 error-limit 2 on-error mark-down\n");
        for (BenchInferenceServer s : a) {
            c.append("    server ").append(s.name).append(" 127.0.0.1:").append(s.port()).append(" check\n");
        }
        for (BenchInferenceServer s : b) {
            c.append("    server ").append(s.name).append(" 127.0.0.1:").append(s.port()).append(" check backup\n");
        }
        return c.toString();
    }

    private static String haproxyOverloadConfig(int port, List<BenchInferenceServer> servers, int maxconn) {
        StringBuilder c = new StringBuilder(common(port));
        c.append("backend inference\n")
                .append("    balance leastconn\n")
                .append("    timeout queue 5s\n")
                .append("    option httpchk GET /health\n")
                .append("    default-server inter 100ms fastinter 100ms downinter 100ms fall 2 rise 2 observe layer7 error-limit 2 on-error mark-down")
                .append(maxconn > 0 ? " maxconn " + maxconn : "").append('\n');
        for (BenchInferenceServer s : servers) {
            c.append("    server ").append(s.name).append(" 127.0.0.1:").append(s.port()).append(" check\n");
        }
        return c.toString();
    }

    private static String common(int port) {
        return "global\n"
                + "    maxconn 4096\n"
                + "defaults\n"
                + "    mode http\n"
                + "    timeout connect 1s\n"
                + "    timeout client 10s\n"
                + "    timeout server 5s\n"
                + "    retries 3\n"
                + "    option redispatch 1\n"
                + "    retry-on all-retryable-errors\n"
                + "    option http-buffer-request\n"
                + "frontend in\n"
                + "    bind 127.0.0.1:" + port + "\n"
                + "    default_backend inference\n";
    }

    /**
     * Starts HAProxy in the foreground; its output goes to {@code log}, and each "Server
     * inference/x is DOWN" it prints is added to {@code downs} with the time it was read (HAProxy
     * writes these warnings unbuffered, as it changes the server's state).
     */
    private static Process startHaproxy(Path cfg, Path log, List<Down> downs) throws IOException, InterruptedException {
        Process check = new ProcessBuilder("haproxy", "-c", "-f", cfg.toString()).redirectErrorStream(true)
                .redirectOutput(log.resolveSibling(log.getFileName() + ".check").toFile()).start();
        if (check.waitFor() != 0) {
            throw new IllegalStateException("haproxy rejected " + cfg + ": " + Files.readString(log.resolveSibling(log.getFileName() + ".check")));
        }
        Process p = new ProcessBuilder("haproxy", "-db", "-f", cfg.toString()).redirectErrorStream(true).start();
        Pattern down = Pattern.compile("Server inference/(\\S+) is DOWN");
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
                 BufferedWriter out = Files.newBufferedWriter(log)) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    long at = System.nanoTime();
                    Matcher m = down.matcher(line);
                    if (m.find()) {
                        downs.add(new Down(at, m.group(1)));
                    }
                    out.write(line);
                    out.newLine();
                }
            } catch (IOException e) {
                System.err.println("reading haproxy's output: " + e);
            }
        }, "haproxy-output");
        reader.setDaemon(true);
        reader.start();
        return p;
    }

    private static void awaitUp(HttpClient client, URI uri) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            try {
                post(client, uri);
                // Let the health checks settle (rise 2 at 100 ms).
                Thread.sleep(500);
                return;
            } catch (IOException e) {
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("haproxy did not come up at " + uri, e);
                }
                Thread.sleep(50);
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    private static String row(String scenario, String client, List<Object> r) {
        return "| " + scenario + " | " + client + " | " + r.get(0) + " | " + r.get(1) + " | " + r.get(2) + " | " + r.get(3) + " | "
                + r.get(4) + " | " + r.get(5) + " | " + r.get(6) + " |";
    }

    private static String describe(ConcurrencyLimit limit) {
        if (limit instanceof ConcurrencyLimit.Adaptive adaptive) {
            return "adaptive " + adaptive.algorithm().name().toLowerCase(Locale.ROOT) + " limit";
        }
        if (limit instanceof ConcurrencyLimit.Fixed fixed) {
            return "fixed limit " + fixed.max();
        }
        return "no limit (429 alone)";
    }

    private static long percentile(List<Long> sorted, double q) {
        if (sorted.isEmpty()) {
            return 0;
        }
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(q * sorted.size()) - 1));
    }

    private static String ms(long nanos) {
        return String.format(Locale.ROOT, "%.1f", nanos / 1e6);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
