package io.dr4j.failover;

import java.util.List;
import java.util.Optional;

/**
 * Continues a streamed request whose stream broke after the caller had received part of it
 * (opt-in, see {@link FailoverHttpClient#stream(String, String, StreamResumer,
 * java.util.function.Consumer)}). Given the original request body and every event handed to the
 * caller so far (across earlier breaks), it returns the body of a request that asks another
 * endpoint for only the rest, or empty to decline (the break then surfaces as a
 * {@link StreamInterruptedException}).
 *
 * <p>For OpenAI-style chat completions on servers that accept continuation (vLLM's
 * {@code continue_final_message}, for example), the continuation request ends with the partial
 * assistant message built from the deltas received; the server streams only the new part, so
 * the caller sees no duplicated and no lost text. Only events the caller received are passed
 * here: a half-received event at the break is dropped, and its text asked for again.
 *
 * <p>Called on the streaming thread, once per break; must be thread-safe if shared.
 */
@FunctionalInterface
public interface StreamResumer {

    /**
     * @param originalJson the body of the first request
     * @param received the events handed to the caller so far, oldest first (never empty)
     * @return the body of the continuation request, or empty to give up
     */
    Optional<String> resume(String originalJson, List<ServerSentEvent> received);
}
