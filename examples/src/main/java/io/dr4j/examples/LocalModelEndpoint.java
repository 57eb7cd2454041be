package io.dr4j.examples;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A stand-in for a model server in one region: a JDK {@link HttpServer} on 127.0.0.1 (ephemeral
 * port) answering {@code POST /v1/chat/completions} with an OpenAI-shaped JSON completion that
 * names the region. Enough to show failover without a GPU. Thread-safe; {@link #close()} kills it
 * (connections are refused afterwards, as when a region goes dark).
 */
public final class LocalModelEndpoint implements AutoCloseable {

    private final String region;
    private final HttpServer server;
    private final ExecutorService executor;
    private final AtomicLong served = new AtomicLong();

    private LocalModelEndpoint(String region) throws IOException {
        this.region = region;
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        this.executor = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "model-" + region);
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/v1/chat/completions", this::complete);
        server.start();
    }

    /** Starts an endpoint for {@code region}. */
    public static LocalModelEndpoint start(String region) throws IOException {
        return new LocalModelEndpoint(region);
    }

    /** The base URI, e.g. {@code http://127.0.0.1:41234/}. */
    public URI uri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/");
    }

    /** The region it plays. */
    public String region() {
        return region;
    }

    /** Completions served so far. */
    public long served() {
        return served.get();
    }

    private void complete(HttpExchange exchange) throws IOException {
        try (exchange; InputStream in = exchange.getRequestBody()) {
            in.readAllBytes();
            if (!exchange.getRequestMethod().equals("POST")) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            long n = served.incrementAndGet();
            byte[] body = ("{\"id\":\"cmpl-" + region + "-" + n + "\",\"object\":\"chat.completion\",\"model\":\"demo\","
                    + "\"region\":\"" + region + "\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                    + "\"content\":\"hello from " + region + "\"},\"finish_reason\":\"stop\"}]}")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /** Kills the server at once, dropping open connections, as when its region goes dark. Idempotent. */
    public void kill() {
        server.stop(0);
        executor.shutdownNow();
    }

    /** Same as {@link #kill()}. */
    @Override
    public void close() {
        kill();
    }
}
