package io.dr4j.failover;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fake OpenAI-style inference server on 127.0.0.1 (JDK {@code HttpServer}) that a test can
 * stop and restart on the same port, slow down, or make break its streams.
 *
 * <ul>
 *   <li>{@code POST /v1/chat/completions}: {@code {"server":"<name>"}} after {@link #delay}</li>
 *   <li>{@code POST /v1/stream}: {@link #events} SSE events, then {@code [DONE]}; misbehaves per {@link #streamFault}</li>
 *   <li>{@code POST /v1/generate}: an OpenAI-style chat completion stream of {@link #events} tokens
 *       ({@code t0 t1 ...}); a request whose last message is from the assistant with
 *       {@code "continue_final_message":true} gets only the rest of the text after that prefix
 *       (vLLM's continuation); a number taken from {@link #breaks} makes it crash after that many events</li>
 *   <li>{@code POST /v1/bad}: 400</li>
 *   <li>{@code GET /health}: 200</li>
 * </ul>
 * With {@link #capacity} set, {@code /v1/chat/completions} serves that many requests at a time,
 * lets up to {@link #queue} more wait for a place (an inference server's waiting queue), and
 * answers 429 beyond that, with {@link #retryAfter} and {@link #retryAfterMs} as headers when set
 * (also sent with a non-200 {@link #status}).
 */
final class LoopbackInferenceServer implements AutoCloseable {

    static {
        // The JDK server writes headers and body separately; without TCP_NODELAY, Nagle and the
        // client's delayed ACK add ~40 ms to every answer. Read once, when the server class loads.
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    enum StreamFault { NONE, CLOSE_BEFORE_HEADERS, HANG_BEFORE_FIRST_EVENT, DIE_AFTER_THREE_EVENTS }

    final String name;
    final AtomicInteger served = new AtomicInteger();
    /** Every exchange the server received, on any path (health checks and unknown paths included). */
    final AtomicInteger exchanges = new AtomicInteger();
    volatile Duration delay = Duration.ZERO;
    volatile int events = 5;
    volatile StreamFault streamFault = StreamFault.NONE;
    volatile int status = 200;
    /** Requests admitted at once by {@code /v1/chat/completions}; 0 for no limit. */
    volatile int capacity;
    /** Requests that may wait for a place when all are busy (with {@link #capacity}). */
    volatile int queue;
    private java.util.concurrent.Semaphore places;
    volatile String retryAfter;
    volatile String retryAfterMs;
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger rejected = new AtomicInteger();
    final AtomicInteger maxInFlight = new AtomicInteger();
    /** Nanoseconds spent serving admitted requests (for the capacity actually offered). */
    final java.util.concurrent.atomic.AtomicLong busyNanos = new java.util.concurrent.atomic.AtomicLong();
    /** Break points for {@code /v1/generate}: each request takes one (if any) and crashes after that many events. */
    final java.util.concurrent.ConcurrentLinkedQueue<Integer> breaks = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private int port;
    private HttpServer server;
    private ExecutorService executor;

    LoopbackInferenceServer(String name) throws IOException {
        this.name = name;
        start();
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + port + "/");
    }

    synchronized boolean running() {
        return server != null;
    }

    /** Starts on the same port as before (or an ephemeral one the first time); retries a busy port for a while. */
    synchronized void start() throws IOException {
        if (server != null) {
            return;
        }
        InetSocketAddress address = new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port);
        HttpServer s = null;
        for (int attempt = 0; s == null; attempt++) {
            try {
                s = HttpServer.create(address, 64);
            } catch (BindException e) {
                if (attempt >= 100) {
                    throw e;
                }
                try {
                    Thread.sleep(50); // back-off between bind attempts while the old socket lets go of the port
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted restarting " + name, ie);
                }
            }
        }
        executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "server-" + name);
            t.setDaemon(true);
            return t;
        });
        s.setExecutor(executor);
        s.createContext("/v1/chat/completions", counted(this::complete));
        s.createContext("/v1/stream", counted(this::stream));
        s.createContext("/v1/generate", counted(this::generate));
        s.createContext("/v1/bad", counted(ex -> respond(ex, 400, "{\"error\":\"bad request\"}")));
        s.createContext("/health", counted(ex -> respond(ex, 200, "ok")));
        s.createContext("/", counted(ex -> respond(ex, 404, "{\"error\":\"not found\"}")));
        s.start();
        port = s.getAddress().getPort();
        server = s;
    }

    private HttpHandler counted(HttpHandler handler) {
        return ex -> {
            exchanges.incrementAndGet();
            handler.handle(ex);
        };
    }

    /** Kills the server: the listener and every open connection close at once. */
    synchronized void stop() {
        if (server == null) {
            return;
        }
        server.stop(0);
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        server = null;
    }

    @Override
    public void close() {
        stop();
    }

    private void complete(HttpExchange ex) throws IOException {
        ex.getRequestBody().readAllBytes();
        int cap = capacity;
        if (cap > 0) {
            java.util.concurrent.Semaphore p;
            synchronized (this) {
                if (places == null) {
                    places = new java.util.concurrent.Semaphore(cap, true);
                }
                p = places;
            }
            int now = inFlight.incrementAndGet();
            if (now > cap + queue) {
                inFlight.decrementAndGet();
                rejected.incrementAndGet();
                respond(ex, 429, "{\"error\":\"overloaded\"}");
                return;
            }
            maxInFlight.accumulateAndGet(now, Math::max);
            try {
                p.acquire();
            } catch (InterruptedException e) {
                inFlight.decrementAndGet();
                ex.close();
                return;
            }
            long t0 = System.nanoTime();
            try {
                Thread.sleep(delay.toMillis()); // simulated service time: the latency is the behaviour under test
            } catch (InterruptedException e) {
                ex.close();
                return;
            } finally {
                busyNanos.addAndGet(System.nanoTime() - t0);
                // Released before answering: a client that sends its next request on the answer finds the place free.
                p.release();
                inFlight.decrementAndGet();
            }
        } else {
            Duration d = delay;
            if (!d.isZero()) {
                try {
                    Thread.sleep(d.toMillis()); // simulated latency
                } catch (InterruptedException e) {
                    ex.close();
                    return;
                }
            }
        }
        int code = status;
        if (code == 200) {
            served.incrementAndGet();
        }
        respond(ex, code, "{\"server\":\"" + name + "\"}");
    }

    /** The full text {@code /v1/generate} produces: {@link #events} tokens. */
    String fullText() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < events; i++) {
            b.append('t').append(i).append(' ');
        }
        return b.toString();
    }

    private static final java.util.regex.Pattern ASSISTANT =
            java.util.regex.Pattern.compile("\\{\"role\":\"assistant\",\"content\":\"([^\"]*)\"}]");

    private void generate(HttpExchange ex) throws IOException {
        String request = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        String full = fullText();
        String prefix = "";
        java.util.regex.Matcher m = ASSISTANT.matcher(request);
        if (request.contains("\"continue_final_message\":true") && m.find()) {
            prefix = m.group(1);
        }
        if (!full.startsWith(prefix)) {
            respond(ex, 400, "{\"error\":\"prefix is not a prefix of the answer\"}");
            return;
        }
        // The rest, cut at token boundaries (the first piece may finish a token the prefix cut).
        java.util.List<String> pieces = new java.util.ArrayList<>();
        int at = prefix.length();
        while (at < full.length()) {
            int end = full.indexOf(' ', at) + 1;
            pieces.add(full.substring(at, end));
            at = end;
        }
        Integer breakAfter = breaks.poll();
        ex.getResponseHeaders().set("Content-Type", "text/event-stream");
        ex.sendResponseHeaders(200, 0);
        OutputStream out = ex.getResponseBody();
        for (int i = 0; i < pieces.size(); i++) {
            if (breakAfter != null && i == breakAfter) {
                // Half an event, then the connection drops: what a crashed server leaves behind.
                out.write("data: {\"choices\":[{\"delta\":{\"cont".getBytes(StandardCharsets.UTF_8));
                out.flush();
                throw new IOException("server " + name + " crashed mid-stream after " + i + " events");
            }
            out.write(("data: {\"choices\":[{\"delta\":{\"content\":\"" + pieces.get(i) + "\"}}]}\n\n")
                    .getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
        out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
        served.incrementAndGet();
        out.close();
    }

    private void stream(HttpExchange ex) throws IOException {
        ex.getRequestBody().readAllBytes();
        StreamFault fault = streamFault;
        if (fault == StreamFault.CLOSE_BEFORE_HEADERS) {
            ex.close();
            return;
        }
        ex.getResponseHeaders().set("Content-Type", "text/event-stream");
        ex.sendResponseHeaders(200, 0);
        OutputStream out = ex.getResponseBody();
        if (fault == StreamFault.HANG_BEFORE_FIRST_EVENT) {
            out.flush();
            try {
                Thread.sleep(30_000);
            } catch (InterruptedException e) {
                // the test stopped the server
            }
            ex.close();
            return;
        }
        int n = events;
        for (int i = 0; i < n; i++) {
            out.write(("data: {\"server\":\"" + name + "\",\"token\":" + i + "}\n\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            if (fault == StreamFault.DIE_AFTER_THREE_EVENTS && i == 2) {
                // Dropping the connection without the last chunk is what a crashed server looks like.
                throw new IOException("server " + name + " crashed mid-stream");
            }
        }
        out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
        served.incrementAndGet();
        out.close();
    }

    private void respond(HttpExchange ex, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        if (status != 200) {
            String ra = retryAfter;
            String ms = retryAfterMs;
            if (ra != null) {
                ex.getResponseHeaders().set("Retry-After", ra);
            }
            if (ms != null) {
                ex.getResponseHeaders().set("retry-after-ms", ms);
            }
        }
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public String toString() {
        return name + "@" + port;
    }
}
