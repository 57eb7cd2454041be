package io.dr4j.replication;

import io.dr4j.storage.BlobKey;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;

/**
 * One owed write: the members in {@code targets} must be brought to the state of {@code key}
 * that the members in {@code sources} hold (an object, or its absence). Puts, deletes, rolled
 * back writes and read repairs are all this one instruction, which makes replaying an old entry
 * harmless: it copies the sources' current state, never a remembered one.
 *
 * @param seq journal sequence number; of two entries for a key the higher wins
 * @param kind why the entry was written, for reports
 * @param key the object
 * @param sources members holding the state to copy, in preference order; never empty
 * @param targets members that owe that state; never empty
 * @param size the object's size when known (puts), else 0
 * @param recordedAt when the write was accepted
 */
record RepairEntry(long seq, Kind kind, BlobKey key, Set<String> sources, Set<String> targets, long size,
        Instant recordedAt) {

    /** Why an entry exists. */
    public enum Kind { PUT, DELETE, ROLLBACK, READ_REPAIR }

    public RepairEntry {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(recordedAt, "recordedAt");
        sources = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(sources));
        targets = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(targets));
        if (sources.isEmpty() || targets.isEmpty()) {
            throw new IllegalArgumentException("repair entry for " + key + " needs sources and targets, had "
                    + sources + " and " + targets);
        }
        if (size < 0) {
            throw new IllegalArgumentException("negative size for " + key);
        }
    }

    /** This entry with {@code member} no longer owing, or null if nothing is owed any more. */
    public RepairEntry without(String member) {
        if (!targets.contains(member)) {
            return this;
        }
        Set<String> rest = new LinkedHashSet<>(targets);
        rest.remove(member);
        return rest.isEmpty() ? null : new RepairEntry(seq, kind, key, sources, rest, size, recordedAt);
    }
}
