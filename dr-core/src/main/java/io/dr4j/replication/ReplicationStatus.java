package io.dr4j.replication;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A point-in-time view of a {@link ReplicatedBlobStore}: each member's health and lag, and the
 * age of the oldest write not yet on every member. That age is the achieved recovery point of the
 * most lagging site: were the up-to-date members lost now, writes since then would be lost too. Immutable and
 * thread-safe.
 *
 * @param at when the view was taken (from the store's clock)
 * @param members one status per member, in priority order
 * @param owedWrites owed writes summed over members
 * @param owedBytes owed bytes summed over members
 * @param oldestUnreplicatedWrite when the oldest write still missing from some member was accepted
 */
public record ReplicationStatus(Instant at, List<MemberStatus> members, long owedWrites, long owedBytes,
        Optional<Instant> oldestUnreplicatedWrite) {

    public ReplicationStatus {
        Objects.requireNonNull(at, "at");
        members = List.copyOf(members);
        Objects.requireNonNull(oldestUnreplicatedWrite, "oldestUnreplicatedWrite");
    }

    /** The replication lag: age of the oldest unreplicated write at {@link #at()}, zero when fully replicated. */
    public Duration lag() {
        return oldestUnreplicatedWrite.map(t -> Duration.between(t, at)).filter(d -> !d.isNegative()).orElse(Duration.ZERO);
    }

    /** Whether every member holds every acknowledged write. */
    public boolean fullyReplicated() {
        return owedWrites == 0;
    }

    /** The status of the member named {@code name}. */
    public Optional<MemberStatus> member(String name) {
        return members.stream().filter(m -> m.name().equals(name)).findFirst();
    }
}
