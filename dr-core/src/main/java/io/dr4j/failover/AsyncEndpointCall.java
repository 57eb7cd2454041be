package io.dr4j.failover;

import java.util.concurrent.CompletableFuture;

/**
 * An asynchronous {@link EndpointCall}. The router may cancel the returned future (the loser of a
 * hedged pair, or on the overall deadline); implementations should abort the underlying exchange
 * when that happens, as {@code java.net.http.HttpClient.sendAsync} does.
 *
 * <p>A shared call object must be thread-safe: hedges and retries may run it concurrently.
 *
 * @param <E> the endpoint payload type
 * @param <T> the result type
 */
@FunctionalInterface
public interface AsyncEndpointCall<E, T> {

    /** Starts the call on {@code endpoint}; must not block. */
    CompletableFuture<T> call(Endpoint<E> endpoint);
}
