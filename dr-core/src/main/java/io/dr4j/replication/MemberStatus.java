package io.dr4j.replication;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A point-in-time view of one member of a {@link ReplicatedBlobStore}. Immutable and thread-safe.
 *
 * @param name the member's name, as given to the builder
 * @param priority the member's read priority; lower is preferred
 * @param health the member's health
 * @param owedWrites puts and deletes this member has not yet applied (in flight in the
 *     background or recorded in the repair log)
 * @param owedBytes the bytes of the owed puts
 * @param oldestOwedWrite when the oldest owed write was accepted, if any
 * @param latency exponentially weighted moving average of the member's successful call latency
 */
public record MemberStatus(String name, int priority, MemberHealth health, long owedWrites, long owedBytes,
        Optional<Instant> oldestOwedWrite, Duration latency) {

    public MemberStatus {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(health, "health");
        Objects.requireNonNull(oldestOwedWrite, "oldestOwedWrite");
        Objects.requireNonNull(latency, "latency");
        if (owedWrites < 0 || owedBytes < 0) {
            throw new IllegalArgumentException("negative owed counts for " + name);
        }
    }

    /** How far this member lags at {@code now}: the age of its oldest owed write, zero if it owes none. */
    public Duration lag(Instant now) {
        return oldestOwedWrite.map(t -> Duration.between(t, now)).filter(d -> !d.isNegative()).orElse(Duration.ZERO);
    }
}
