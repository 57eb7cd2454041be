package io.dr4j.backup;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * One key slot of a repository, as {@link Repository#keySlots()} lists it: the master key wrapped
 * once more under another key. Holds no secret.
 *
 * @param id the slot's id (8 hex digits), stable while the slot exists ({@link Repository#changeKey} keeps it)
 * @param kind {@code password}, {@code raw} or an application's {@link KeyProvider#kind()}
 * @param label a free-form label given when the slot was added ({@code ""} for none)
 * @param created when the slot's key was set, where recorded (slots written before dr4j recorded it have none)
 * @param current whether this slot unlocked the open {@link Repository}
 */
public record KeySlot(String id, String kind, String label, Optional<Instant> created, boolean current) {
    public KeySlot {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(label, "label");
        Objects.requireNonNull(created, "created");
    }
}
