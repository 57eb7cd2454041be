package io.dr4j.bench.failover;

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
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A stand-in inference server on 127.0.0.1 (JDK {@code HttpServer}, TCP_NODELAY) that can be
 * killed and restarted on the same port: {@code POST /v1/chat/completions} answers
 * {@code {"server":"<name>"}} after a fixed service time; {@code GET /health} answers 200. With
 * a capacity it serves that many requests at a time, lets {@code queue} more wait, and answers
 * 429 with {@code Retry-After: 1} and {@code retry-after-ms} beyond that. Thread-safe.
 */
final class BenchInferenceServer implements AutoCloseable {

    static {
        // The JDK server writes headers and body separately: without TCP_NODELAY each answer waits ~40 ms for an ACK.
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    final String name;
    private final Duration service;
    private final int capacity;
    private final int queue;
    private final Semaphore places;
    private final AtomicInteger inSystem = new AtomicInteger();
    final AtomicLong served = new AtomicLong();
    final AtomicLong rejected = new AtomicLong();
    final AtomicLong busyNanos = new AtomicLong();
    private int port;
    private HttpServer server;
    /** {@link System#nanoTime()} when the last {@link #stop()} began: when this server started to die. */
    volatile long stoppedAt;
    private ExecutorService executor;

    /** @param capacity requests served at a time, 0 for no limit */
    BenchInferenceServer(String name, Duration service, int capacity, int queue) throws IOException {
        this.name = name;
        this.service = service;
        this.capacity = capacity;
        this.queue = queue;
        this.places = capacity > 0 ? new Semaphore(capacity, true) : null;
        start();
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + port + "/");
    }

    int port() {
        return port;
    }

    synchronized void start() throws IOException {
        if (server != null) {
            return;
        }
        HttpServer s = null;
        for (int attempt = 0; s == null; attempt++) {
            try {
                s = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), 256);
            } catch (BindException e) {
                if (attempt >= 100) {
                    throw e;
                }
                sleep(Duration.ofMillis(50));
            }
        }
        executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "bench-server-" + name);
            t.setDaemon(true);
            return t;
        });
        s.setExecutor(executor);
        s.createContext("/v1/chat/completions", this::complete);
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
        stoppedAt = System.nanoTime();
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
        if (places != null) {
            if (inSystem.incrementAndGet() > capacity + queue) {
                inSystem.decrementAndGet();
                rejected.incrementAndGet();
                ex.getResponseHeaders().set("Retry-After", "1");
                ex.getResponseHeaders().set("retry-after-ms", "10");
                respond(ex, 429, "{\"error\":\"overloaded\"}");
                return;
            }
            try {
                places.acquire();
            } catch (InterruptedException e) {
                inSystem.decrementAndGet();
                ex.close();
                return;
            }
        }
        long t0 = System.nanoTime();
        try {
            if (!sleep(service)) {
                ex.close();
                return;
            }
        } finally {
            busyNanos.addAndGet(System.nanoTime() - t0);
            if (places != null) {
                places.release();
                inSystem.decrementAndGet();
            }
        }
        served.incrementAndGet();
        respond(ex, 200, "{\"server\":\"" + name + "\"}");
    }

    private static boolean sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
            return true;
        } catch (InterruptedException e) {
            return false;
        }
    }

    private static void respond(HttpExchange ex, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }
}
