package io.dr4j.failover;

import java.util.Objects;

/**
 * One event of a streamed response (Server-Sent Events; for a plain chunked body, one line).
 * Immutable.
 *
 * @param event the {@code event:} field, {@code "message"} when absent
 * @param data the {@code data:} lines joined by {@code '\n'} (for OpenAI streams, one JSON chunk or {@code [DONE]})
 * @param id the {@code id:} field, empty when absent
 */
public record ServerSentEvent(String event, String data, String id) {

    /** Validates the components. */
    public ServerSentEvent {
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(id, "id");
    }
}
