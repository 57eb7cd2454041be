package io.dr4j.failover;

import com.sun.net.httpserver.HttpExchange;
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
 *   <li>{@code POST /v1/bad}: 400</li>
 *   <li>{@code GET /health}: 200</li>
 * </ul>
 */
final class LoopbackInferenceServer implements AutoCloseable {

    enum StreamFault { NONE, CLOSE_BEFORE_HEADERS, HANG_BEFORE_FIRST_EVENT, DIE_AFTER_THREE_EVENTS }

    final String name;
    final AtomicInteger served = new AtomicInteger();
    volatile Duration delay = Duration.ZERO;
    volatile int events = 5;
    volatile StreamFault streamFault = StreamFault.NONE;
    volatile int status = 200;
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
                    Thread.sleep(50);
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
        s.createContext("/v1/chat/completions", this::complete);
        s.createContext("/v1/stream", this::stream);
        s.createContext("/v1/bad", ex -> respond(ex, 400, "{\"error\":\"bad request\"}"));
        s.createContext("/health", ex -> respond(ex, 200, "ok"));
        s.start();
        port = s.getAddress().getPort();
        server = s;
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
        Duration d = delay;
        if (!d.isZero()) {
            try {
                Thread.sleep(d.toMillis());
            } catch (InterruptedException e) {
                ex.close();
                return;
            }
        }
        int code = status;
        if (code == 200) {
            served.incrementAndGet();
        }
        respond(ex, code, "{\"server\":\"" + name + "\"}");
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

    private static void respond(HttpExchange ex, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
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
