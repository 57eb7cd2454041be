package io.dr4j.replication;

import io.dr4j.storage.BlobKey;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The result of {@link ReplicatedBlobStore#verifyConsistency}: for each member, the objects it
 * lacks, holds in excess, or holds in a different version, compared with the majority of the
 * members that answered (ties go to the member with the best priority). Keys under the reserved
 * prefix {@value ReplicatedBlobStore#RESERVED_PREFIX} are not compared. Immutable and
 * thread-safe.
 *
 * @param check how deeply members were compared
 * @param keysExamined distinct keys seen across all members
 * @param members differences per member name, for every member that could be listed
 * @param unreachable members that could not be listed, with the reason
 */
public record ConsistencyReport(ConsistencyCheck check, long keysExamined, Map<String, Differences> members,
        Map<String, String> unreachable) {

    public ConsistencyReport {
        Objects.requireNonNull(check, "check");
        members = Map.copyOf(members);
        unreachable = Map.copyOf(unreachable);
    }

    /** Whether every member answered and none differs from the majority. */
    public boolean consistent() {
        return unreachable.isEmpty() && members.values().stream().allMatch(Differences::none);
    }

    /**
     * How one member differs from the majority.
     *
     * @param missing keys the majority holds and this member does not
     * @param extra keys this member holds and the majority does not
     * @param different keys whose size (or checksum, with {@link ConsistencyCheck#CONTENTS}) differs from the majority's
     */
    public record Differences(SortedSet<BlobKey> missing, SortedSet<BlobKey> extra, SortedSet<BlobKey> different) {
        public Differences {
            missing = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(missing));
            extra = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(extra));
            different = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(different));
        }

        /** Whether the member matches the majority. */
        public boolean none() {
            return missing.isEmpty() && extra.isEmpty() && different.isEmpty();
        }

        static Differences of(Set<BlobKey> missing, Set<BlobKey> extra, Set<BlobKey> different) {
            return new Differences(new TreeSet<>(missing), new TreeSet<>(extra), new TreeSet<>(different));
        }
    }
}
