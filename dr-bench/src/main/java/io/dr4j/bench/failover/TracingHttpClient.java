package io.dr4j.bench.failover;

import java.io.IOException;
import java.net.Authenticator;
import java.net.CookieHandler;
import java.net.ProxySelector;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/**
 * An {@link HttpClient} that records when each exchange started and ended, on which host:port,
 * and how it failed: the runner's {@code -Dtimeline=true} view of dr4j's attempts around a kill.
 * Delegates everything to the client it wraps. Thread-safe.
 */
final class TracingHttpClient extends HttpClient {

    /** One exchange: when it started and ended ({@link System#nanoTime}), the port it went to, and its outcome. */
    record Exchange(long start, long end, int port, String outcome) {
        /** The exchange with times in ms relative to {@code origin}. */
        String describe(long origin) {
            return String.format(Locale.ROOT, "%+8.1f ms .. %+8.1f ms (%5.1f ms) :%d %s", (start - origin) / 1e6, (end - origin) / 1e6,
                    (end - start) / 1e6, port, outcome);
        }
    }

    private final HttpClient delegate;
    private final List<Exchange> exchanges = new ArrayList<>();

    TracingHttpClient(HttpClient delegate) {
        this.delegate = delegate;
    }

    /** The exchanges that overlap [from, to) ({@link System#nanoTime}), in order of start. */
    synchronized List<Exchange> between(long from, long to) {
        List<Exchange> out = new ArrayList<>();
        for (Exchange e : exchanges) {
            if (e.end >= from && e.start < to) {
                out.add(e);
            }
        }
        out.sort(java.util.Comparator.comparingLong(Exchange::start));
        return out;
    }

    private synchronized void record(long start, HttpRequest request, Object response, Throwable failure) {
        String outcome = failure != null ? failure.toString()
                : "status " + ((HttpResponse<?>) response).statusCode();
        exchanges.add(new Exchange(start, System.nanoTime(), request.uri().getPort(), outcome));
    }

    @Override
    public <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler) throws IOException, InterruptedException {
        long start = System.nanoTime();
        try {
            HttpResponse<T> r = delegate.send(request, handler);
            record(start, request, r, null);
            return r;
        } catch (IOException | RuntimeException e) {
            record(start, request, null, e);
            throw e;
        }
    }

    @Override
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
        long start = System.nanoTime();
        CompletableFuture<HttpResponse<T>> f = delegate.sendAsync(request, handler);
        f.whenComplete((r, t) -> record(start, request, r, t));
        return f;
    }

    @Override
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request, HttpResponse.BodyHandler<T> handler,
                                                            HttpResponse.PushPromiseHandler<T> push) {
        long start = System.nanoTime();
        CompletableFuture<HttpResponse<T>> f = delegate.sendAsync(request, handler, push);
        f.whenComplete((r, t) -> record(start, request, r, t));
        return f;
    }

    @Override
    public Optional<CookieHandler> cookieHandler() {
        return delegate.cookieHandler();
    }

    @Override
    public Optional<Duration> connectTimeout() {
        return delegate.connectTimeout();
    }

    @Override
    public Redirect followRedirects() {
        return delegate.followRedirects();
    }

    @Override
    public Optional<ProxySelector> proxy() {
        return delegate.proxy();
    }

    @Override
    public SSLContext sslContext() {
        return delegate.sslContext();
    }

    @Override
    public SSLParameters sslParameters() {
        return delegate.sslParameters();
    }

    @Override
    public Optional<Authenticator> authenticator() {
        return delegate.authenticator();
    }

    @Override
    public Version version() {
        return delegate.version();
    }

    @Override
    public Optional<Executor> executor() {
        return delegate.executor();
    }
}
