package io.dr4j.failover;

import io.dr4j.failover.CallAttempts.RetryRefused;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A ready client for OpenAI-style JSON inference endpoints ({@code POST /v1/chat/completions}
 * and the like) on {@link java.net.http.HttpClient}, routed through a
 * {@link FailoverRouter FailoverRouter&lt;URI&gt;} whose endpoint payloads are base URIs.
 *
 * <p>Requests are treated as idempotent (an inference is a function of its input), so they are
 * retried on another endpoint, within the router's attempts and retry budget, and hedged if the
 * router hedges. Each attempt has a {@linkplain Builder#tryTimeout per-try timeout}; the whole
 * call has a {@linkplain Builder#deadline deadline}. A status of 5xx or 408 counts against
 * the endpoint and is retried; 429, and 503 with {@code Retry-After}, are backpressure
 * ({@link EndpointSaturatedException}, carrying the advice of {@code retry-after-ms} or
 * {@code Retry-After} in seconds or as an HTTP-date): the endpoint is left alone for that long and
 * the call goes elsewhere, but nothing is counted against it. Another non-2xx status is the
 * caller's problem and comes back as an {@link EndpointStatusException} at once.
 *
 * <p>Streams ({@link #stream}) fail over transparently until the first event has been handed to
 * the caller; after that a broken stream raises {@link StreamInterruptedException}, saying how
 * many events and bytes arrived, unless the caller supplied a {@link StreamResumer}: then the
 * stream is continued on another endpoint, from what the caller already received.
 *
 * <p>{@link Builder#build()} warms the failure path up ({@link Builder#warmUp}): one request through
 * this client's HTTP client to a loopback port where nothing listens, so that the first real
 * refused connection does not also pay for loading the code that handles it.
 *
 * <p>Thread-safe. {@link #close()} closes the router (this client is meant to be its only
 * user), the client's timer and, if this client created it, its HTTP executor; an
 * {@code HttpClient} passed in is left alone.
 */
public final class FailoverHttpClient implements AutoCloseable {

    /** The longest the build-time warm-up waits for its refused connection. */
    private static final Duration WARM_UP_LIMIT = Duration.ofSeconds(1);

    private final FailoverRouter<URI> router;
    private final HttpClient http;
    private final ExecutorService ownedExecutor;
    private final ScheduledExecutorService timer;
    private final Duration tryTimeout;
    private final Duration deadline;
    private final List<String> headers;
    private final Clock clock;
    private final CompletableFuture<WarmUp.Result> warmedUp;

    private FailoverHttpClient(Builder b) {
        this.router = b.router;
        this.tryTimeout = b.tryTimeout;
        this.deadline = b.deadline;
        this.headers = List.copyOf(b.headers);
        this.clock = b.router.config().clock();
        AtomicInteger threads = new AtomicInteger();
        if (b.http != null) {
            this.http = b.http;
            this.ownedExecutor = null;
            if (b.http.proxy().isPresent()) {
                b.router.suspendDefaultRegionCheck("the HTTP client goes through a proxy, so a direct TCP connect to an "
                        + "endpoint says nothing about whether the client reaches it (configure a regionCheck of your own)");
            }
        } else {
            this.ownedExecutor = Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, "dr4j-http-" + threads.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
            this.http = HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(tryTimeout)
                    .executor(ownedExecutor)
                    .build();
        }
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "dr4j-http-timer");
            t.setDaemon(true);
            return t;
        });
        WarmUpTarget target = b.warmUpTarget;
        // Last: the warm-up thread may use every field above (Thread.start publishes them).
        this.warmedUp = b.warmUp ? WarmUp.start("FailoverHttpClient over router '" + router.config().name() + "'",
                () -> warmUp(target.get())) : CompletableFuture.completedFuture(WarmUp.Result.SKIPPED);
    }

    /**
     * Sends one request through this client's own HTTP client and attempt code to {@code closed}
     * (a loopback port where nothing listens), on a throwaway router of three endpoints all at that
     * address: the refused connection, the verdict, the ejection, the region check of a third
     * endpoint in the first one's region, the retry on the second endpoint, the final failure and
     * the deadline timer all run once, before any real failure does. No configured endpoint is called and no configured header is sent.
     */
    private int warmUp(URI closed) throws Exception {
        // warm-up-c shares warm-up-a's region: the refusal on warm-up-a gets it region-checked
        // (a TCP connect, on the check threads) while the call is retried on warm-up-b.
        try (FailoverRouter<URI> throwaway = FailoverRouter.<URI>builder().name("dr4j-warm-up").warmUp(false)
                .endpoint(Endpoint.of("warm-up-a", "warm-up-a", 0, closed))
                .endpoint(Endpoint.of("warm-up-b", "warm-up-b", 1, closed))
                .endpoint(Endpoint.of("warm-up-c", "warm-up-a", 2, closed))
                .maxAttempts(2)
                .whenAllSaturated(Duration.ZERO)
                .build()) {
            CompletableFuture<InferenceResponse> refused = postAsync(throwaway, "v1/chat/completions", "{}", false);
            try {
                InferenceResponse answer = refused.get(WARM_UP_LIMIT.toNanos(), TimeUnit.NANOSECONDS);
                throw new IllegalStateException("warm-up: something answered at " + closed + " (status " + answer.statusCode() + ")");
            } catch (ExecutionException expected) {
                // Refused, as intended.
            }
            long until = System.nanoTime() + WARM_UP_LIMIT.toNanos();
            while (throwaway.regionCheckRunning("warm-up-c") && System.nanoTime() - until < 0) {
                Thread.sleep(1); // the region check runs on its own thread; nothing to wait on but its flag
            }
            return WarmUp.failedAttempts(throwaway);
        }
    }

    /** What the warm-up at build time did; package-private, for tests. */
    WarmUp.Result warmedUp() {
        return warmedUp.join();
    }

    /** A builder over {@code router}, whose endpoint payloads are base URIs such as {@code http://10.0.0.1:8000/}. */
    public static Builder builder(FailoverRouter<URI> router) {
        return new Builder(router);
    }

    /**
     * A health probe for {@link FailoverRouterBuilder#healthCheck}: a GET of {@code path} under
     * the endpoint's base URI that must answer 2xx within {@code timeout}.
     */
    public static HealthCheck<URI> healthCheck(HttpClient client, String path, Duration timeout) {
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(timeout, "timeout");
        return endpoint -> {
            HttpRequest request = HttpRequest.newBuilder(resolve(endpoint.payload(), path)).timeout(timeout).GET().build();
            HttpResponse<Void> response = client.send(request, HttpResponse.BodyHandlers.discarding());
            if (response.statusCode() / 100 != 2) {
                throw new EndpointStatusException(endpoint.id(), response.statusCode(), "health check " + path);
            }
        };
    }

    /** The router (for its endpoint set, status and load). */
    public FailoverRouter<URI> router() {
        return router;
    }

    /**
     * POSTs {@code json} to {@code path} under an endpoint's base URI and waits for the answer.
     *
     * @throws EndpointStatusException for a non-2xx status that is the caller's fault (4xx)
     * @throws EndpointCallException if every allowed attempt failed
     * @throws DeadlineExceededException if the deadline passed
     * @throws NoHealthyEndpointException if no endpoint may take the call
     */
    public InferenceResponse post(String path, String json) {
        try {
            return postAsync(path, json).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new io.dr4j.Dr4jException("interrupted while waiting for POST " + path, e);
        } catch (ExecutionException e) {
            throw rethrow(e.getCause());
        }
    }

    /** The asynchronous {@link #post}: the future fails with the exceptions {@code post} throws. */
    public CompletableFuture<InferenceResponse> postAsync(String path, String json) {
        return postAsync(router, path, json, true);
    }

    /** {@link #postAsync(String, String)} through {@code via}; {@code withHeaders} false leaves the configured headers out. */
    private CompletableFuture<InferenceResponse> postAsync(FailoverRouter<URI> via, String path, String json, boolean withHeaders) {
        Objects.requireNonNull(json, "json");
        CompletableFuture<InferenceResponse> result = via.callIdempotentAsync(endpoint -> attempt(endpoint, path, json, withHeaders));
        CompletableFuture<InferenceResponse> bounded = new CompletableFuture<>();
        ScheduledFuture<?> expiry = timer.schedule(() -> {
            if (bounded.completeExceptionally(new DeadlineExceededException("POST " + path, deadline))) {
                result.cancel(true);
            }
        }, deadline.toNanos(), TimeUnit.NANOSECONDS);
        result.whenComplete((r, t) -> {
            expiry.cancel(false);
            if (t == null) {
                bounded.complete(r);
            } else {
                bounded.completeExceptionally(unwrap(t));
            }
        });
        return bounded;
    }

    private CompletableFuture<InferenceResponse> attempt(Endpoint<URI> endpoint, String path, String json, boolean withHeaders) {
        HttpRequest request = request(endpoint, path, json, "application/json", withHeaders);
        CompletableFuture<HttpResponse<String>> send = http.sendAsync(request, HttpResponse.BodyHandlers.ofString());
        CompletableFuture<InferenceResponse> answer = send.thenApply(response -> {
            int status = response.statusCode();
            if (status / 100 != 2) {
                throw statusFailure(endpoint, status, response.headers(), response.body());
            }
            return new InferenceResponse(endpoint.id(), status, response.body());
        });
        // HttpRequest.timeout covers the headers only; this bounds the body too.
        answer.orTimeout(tryTimeout.toNanos(), TimeUnit.NANOSECONDS);
        // A hedge loser, a timeout or the deadline completes 'answer': abort the exchange too.
        answer.whenComplete((r, t) -> {
            if (t != null) {
                send.cancel(true);
            }
        });
        return answer;
    }

    /**
     * POSTs {@code json} to {@code path} asking for a stream and hands each event to
     * {@code onEvent} as it arrives, on the calling thread. Fails over transparently (within the
     * router's attempts and budget) until the first event was delivered; after that a break is a
     * {@link StreamInterruptedException}. The per-try timeout bounds the wait for the first
     * event; once events flow, the stream may run as long as the server sends.
     *
     * @return what was delivered
     * @throws StreamInterruptedException if the stream broke after delivering events
     * @throws EndpointCallException if no endpoint produced a first event
     * @throws RuntimeException whatever {@code onEvent} threw (the stream is closed first)
     */
    public StreamSummary stream(String path, String json, Consumer<ServerSentEvent> onEvent) {
        Objects.requireNonNull(json, "json");
        Objects.requireNonNull(onEvent, "onEvent");
        RuntimeException[] consumerFailure = new RuntimeException[1];
        StreamSummary summary = router.callIdempotent(endpoint -> streamOnce(endpoint, path, json, onEvent, consumerFailure));
        if (consumerFailure[0] != null) {
            throw consumerFailure[0];
        }
        return summary;
    }

    /**
     * Like {@link #stream(String, String, Consumer)}, but a stream that breaks after its first
     * event is resumed: {@code resumer} turns the original body and the events received so far
     * into a continuation request, which goes to another endpoint (one retry token of the
     * router's budget per resume, at most {@code maxAttempts} resumes per call), and the caller
     * receives only what the continuation adds. If the resumer declines, the budget refuses, or
     * the resumes run out, the break surfaces as {@link StreamInterruptedException} counting every
     * event delivered.
     *
     * @return what was delivered, with the number of resumes
     */
    public StreamSummary stream(String path, String json, StreamResumer resumer, Consumer<ServerSentEvent> onEvent) {
        Objects.requireNonNull(json, "json");
        Objects.requireNonNull(resumer, "resumer");
        Objects.requireNonNull(onEvent, "onEvent");
        List<ServerSentEvent> received = new ArrayList<>();
        Consumer<ServerSentEvent> tap = event -> {
            received.add(event);
            onEvent.accept(event);
        };
        RuntimeException[] consumerFailure = new RuntimeException[1];
        String body = json;
        String brokenOn = null;
        long bytes = 0;
        int resumes = 0;
        while (true) {
            String request = body;
            try {
                EndpointCall<URI, StreamSummary> once = endpoint -> streamOnce(endpoint, path, request, tap, consumerFailure);
                StreamSummary last = brokenOn == null ? router.callIdempotent(once) : router.callIdempotentElsewhere(brokenOn, once);
                if (consumerFailure[0] != null) {
                    throw consumerFailure[0];
                }
                return new StreamSummary(last.endpointId(), received.size(), bytes + last.bytes(), resumes);
            } catch (StreamInterruptedException broke) {
                if (consumerFailure[0] != null) {
                    throw consumerFailure[0];
                }
                bytes += broke.bytesReceived();
                Optional<String> next = resumes < router.config().maxAttempts()
                        ? resumer.resume(json, List.copyOf(received)) : Optional.empty();
                if (next.isEmpty()) {
                    throw new StreamInterruptedException(broke.endpointId(), bytes, received.size(), broke.getCause());
                }
                body = next.get();
                brokenOn = broke.endpointId();
                resumes++;
            } catch (RetryRefused refused) {
                throw new StreamInterruptedException(brokenOn, bytes, received.size(),
                        new EndpointCallException(List.of(brokenOn), true, refused));
            }
        }
    }

    private StreamSummary streamOnce(Endpoint<URI> endpoint, String path, String json, Consumer<ServerSentEvent> onEvent,
                                     RuntimeException[] consumerFailure) throws IOException, InterruptedException {
        HttpRequest request = request(endpoint, path, json, "text/event-stream", true);
        HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        InputStream body = response.body();
        if (response.statusCode() / 100 != 2) {
            String detail;
            try (body) {
                detail = excerpt(new String(body.readNBytes(512), StandardCharsets.UTF_8));
            }
            throw statusFailure(endpoint, response.statusCode(), response.headers(), detail);
        }
        boolean sse = response.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream");
        // Nothing bounds a read from the body: a timer closes it if no first event comes in time.
        ScheduledFuture<?> firstEventTimer = timer.schedule(() -> closeQuietly(body), tryTimeout.toNanos(), TimeUnit.NANOSECONDS);
        SseParser parser = new SseParser(sse);
        long bytes = 0;
        long events = 0;
        try (body) {
            byte[] buffer = new byte[8192];
            while (true) {
                int n;
                try {
                    n = body.read(buffer);
                } catch (IOException e) {
                    if (events == 0) {
                        throw e;
                    }
                    throw new StreamInterruptedException(endpoint.id(), bytes, events, e);
                }
                if (n < 0) {
                    break;
                }
                bytes += n;
                List<ServerSentEvent> ready = parser.feed(buffer, n);
                for (ServerSentEvent event : ready) {
                    if (events == 0) {
                        firstEventTimer.cancel(false);
                    }
                    events++;
                    try {
                        onEvent.accept(event);
                    } catch (RuntimeException e) {
                        consumerFailure[0] = e;
                        return new StreamSummary(endpoint.id(), events, bytes, 0);
                    }
                }
            }
            for (ServerSentEvent event : parser.finish()) {
                events++;
                try {
                    onEvent.accept(event);
                } catch (RuntimeException e) {
                    consumerFailure[0] = e;
                    break;
                }
            }
            if (events == 0 && firstEventTimer.isDone() && !firstEventTimer.isCancelled()) {
                throw new TimeoutException("no first event from endpoint " + endpoint.id() + " within " + tryTimeout);
            }
            return new StreamSummary(endpoint.id(), events, bytes, 0);
        } catch (TimeoutException e) {
            throw new java.net.http.HttpTimeoutException(e.getMessage());
        } finally {
            firstEventTimer.cancel(false);
        }
    }

    /** A non-2xx answer as an exception: saturation (429, 503 with retry-after advice) or a plain status. */
    private EndpointStatusException statusFailure(Endpoint<URI> endpoint, int status, HttpHeaders headers, String body) {
        String detail = excerpt(body);
        if (status == 429 || (status == 503 && RetryAfterHeader.present(headers))) {
            return new EndpointSaturatedException(endpoint.id(), status, detail, RetryAfterHeader.parse(headers, clock));
        }
        return new EndpointStatusException(endpoint.id(), status, detail);
    }

    private HttpRequest request(Endpoint<URI> endpoint, String path, String json, String accept, boolean withHeaders) {
        HttpRequest.Builder b = HttpRequest.newBuilder(resolve(endpoint.payload(), path))
                .timeout(tryTimeout)
                .header("Content-Type", "application/json")
                .header("Accept", accept)
                .POST(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8));
        for (int i = 0; withHeaders && i < headers.size(); i += 2) {
            b.header(headers.get(i), headers.get(i + 1));
        }
        return b.build();
    }

    static URI resolve(URI base, String path) {
        Objects.requireNonNull(path, "path");
        String b = base.toString();
        String p = path.startsWith("/") ? path.substring(1) : path;
        return URI.create(b.endsWith("/") ? b + p : b + "/" + p);
    }

    private static String excerpt(String body) {
        String oneLine = body.replaceAll("\\s+", " ").trim();
        return oneLine.length() <= 200 ? oneLine : oneLine.substring(0, 200) + "...";
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // Closing is how the first-event timeout aborts the read; a failure to close changes nothing.
        }
    }

    private static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }

    private static RuntimeException rethrow(Throwable t) {
        Throwable c = unwrap(t);
        if (c instanceof RuntimeException r) {
            return r;
        }
        if (c instanceof Error e) {
            throw e;
        }
        return new io.dr4j.Dr4jException("inference call failed: " + c, c);
    }

    /** Closes the router, the timer and, if this client created it, the HTTP executor. */
    @Override
    public void close() {
        router.close();
        timer.shutdownNow();
        if (ownedExecutor != null) {
            ownedExecutor.shutdownNow();
        }
    }

    /** Where a warm-up request goes: a base URI at which nothing listens. */
    @FunctionalInterface
    interface WarmUpTarget {
        URI get() throws IOException;
    }

    /**
     * Builds a {@link FailoverHttpClient}. Not thread-safe.
     */
    public static final class Builder {
        private final FailoverRouter<URI> router;
        private HttpClient http;
        private Duration tryTimeout = Duration.ofSeconds(30);
        private Duration deadline = Duration.ofMinutes(2);
        private final List<String> headers = new ArrayList<>();
        private boolean warmUp = true;
        private WarmUpTarget warmUpTarget = WarmUp::closedLoopbackPort;

        private Builder(FailoverRouter<URI> router) {
            this.router = Objects.requireNonNull(router, "router");
        }

        /**
         * The HTTP client to use (default: an HTTP/1.1 client on a daemon executor owned by this
         * client). If it has a {@link HttpClient#proxy() proxy}, the router's default region check
         * (a direct TCP connect) is switched off, because a direct connect cannot tell what the proxy
         * reaches; a region check the router was given explicitly stays.
         */
        public Builder httpClient(HttpClient client) {
            this.http = Objects.requireNonNull(client, "client");
            return this;
        }

        /** Time allowed per attempt, until the whole body (or a stream's first event) arrived (default 30 s). */
        public Builder tryTimeout(Duration timeout) {
            this.tryTimeout = positive("tryTimeout", timeout);
            return this;
        }

        /** Time allowed for the whole call across attempts (default 2 min; not applied to a stream once it flows). */
        public Builder deadline(Duration deadline) {
            this.deadline = positive("deadline", deadline);
            return this;
        }

        /** Adds a header sent with every request, such as {@code Authorization} (never logged). */
        public Builder header(String name, String value) {
            headers.add(Objects.requireNonNull(name, "name"));
            headers.add(Objects.requireNonNull(value, "value of header " + name));
            return this;
        }

        /**
         * Whether {@link #build()} starts a warm-up that sends one request through this client's
         * HTTP client to a port on the loopback interface where nothing listens (default on), so
         * that the refused connection, the ejection, the region check, the retry and the final
         * failure have all run once before the first real failure, which otherwise pays for loading
         * them while a region goes down. No configured endpoint is called and none of the configured
         * headers is sent. It runs on a daemon thread of its own: {@code build()} does not wait
         * for it (measured on 2 shared vCPUs: 10–25 ms per client, 100–150 ms in the first client of
         * a fresh JVM, most of it the JDK client's first request, which a first real request would
         * otherwise pay). A warm-up that fails is logged at debug level and never fails the build.
         */
        public Builder warmUp(boolean enabled) {
            this.warmUp = enabled;
            return this;
        }

        /** Package-private for tests: where the warm-up sends its request (default: a closed loopback port). */
        Builder warmUpTarget(WarmUpTarget target) {
            this.warmUpTarget = Objects.requireNonNull(target, "target");
            return this;
        }

        /**
         * Builds the client.
         *
         * @throws IllegalArgumentException if the deadline is shorter than the per-try timeout
         */
        public FailoverHttpClient build() {
            if (deadline.compareTo(tryTimeout) < 0) {
                throw new IllegalArgumentException("deadline " + deadline + " must not be shorter than the per-try timeout " + tryTimeout);
            }
            return new FailoverHttpClient(this);
        }

        private static Duration positive(String what, Duration d) {
            Objects.requireNonNull(d, what);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " must be positive, was " + d);
            }
            return d;
        }
    }
}
