package io.dr4j.drill;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * The current recovery point of one store, as {@link RecoveryPointMonitor} sees it: were
 * everything else lost now, the newest state recoverable from this store is this old. Immutable.
 *
 * @param store the store's name
 * @param at when this was computed
 * @param newestVerifiedSnapshot when the newest snapshot proven recoverable from this store (a
 *     passed drill or a recorded verification) was taken; empty if none yet
 * @param replicationLag how far the store lags its primary (zero for the primary itself)
 * @param current age of that snapshot plus the replication lag; empty if nothing was verified
 * @param objective the RPO it is judged against
 */
public record RecoveryPoint(String store, Instant at, Optional<Instant> newestVerifiedSnapshot, Duration replicationLag,
        Optional<Duration> current, Duration objective) {

    public RecoveryPoint {
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(newestVerifiedSnapshot, "newestVerifiedSnapshot");
        Objects.requireNonNull(replicationLag, "replicationLag");
        Objects.requireNonNull(current, "current");
        Objects.requireNonNull(objective, "objective");
    }

    /** Whether the objective is missed: the recovery point is older than the RPO, or nothing was ever verified. */
    public boolean exceeded() {
        return current.map(c -> c.compareTo(objective) > 0).orElse(true);
    }
}
