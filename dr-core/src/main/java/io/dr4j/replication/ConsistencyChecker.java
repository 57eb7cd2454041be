package io.dr4j.replication;

import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * The consistency check of a {@link ReplicatedBlobStore}: lists every member (with
 * {@link ConsistencyCheck#CONTENTS} also reads every object for a CRC-32C) into a
 * {@link Snapshot}, and decides per key which value is right by majority ({@link #verdict}).
 * {@link Repairer} uses the same snapshot and verdict to know what to copy. Changes nothing.
 * Thread-safe.
 */
final class ConsistencyChecker {

    private final List<Member> members;

    ConsistencyChecker(Replicas r) {
        this.members = r.members;
    }

    /**
     * Lists every member (and with {@link ConsistencyCheck#CONTENTS} reads every object) and
     * reports, per member, the objects it lacks, holds in excess or holds in a different version
     * than the majority. Changes nothing.
     */
    ConsistencyReport verifyConsistency(ConsistencyCheck check) throws IOException {
        Objects.requireNonNull(check, "check");
        Snapshot snapshot = snapshot(check, false);
        Map<Member, Set<BlobKey>> missing = new HashMap<>();
        Map<Member, Set<BlobKey>> extra = new HashMap<>();
        Map<Member, Set<BlobKey>> different = new HashMap<>();
        for (Member m : snapshot.reachable()) {
            missing.put(m, new HashSet<>());
            extra.put(m, new HashSet<>());
            different.put(m, new HashSet<>());
        }
        for (Map.Entry<BlobKey, Map<Member, Long>> k : snapshot.keys().entrySet()) {
            Verdict v = verdict(k.getValue(), snapshot.reachable(), false);
            for (Member m : v.wrong()) {
                Long mine = k.getValue().get(m);
                if (v.value() == null) {
                    extra.get(m).add(k.getKey());
                } else if (mine == null) {
                    missing.get(m).add(k.getKey());
                } else {
                    different.get(m).add(k.getKey());
                }
            }
        }
        Map<String, ConsistencyReport.Differences> per = new LinkedHashMap<>();
        for (Member m : snapshot.reachable()) {
            per.put(m.name(), ConsistencyReport.Differences.of(missing.get(m), extra.get(m), different.get(m)));
        }
        return new ConsistencyReport(check, snapshot.keys().size(), per, snapshot.unreachable());
    }

    /** Per key, per reachable member: the size, or with CONTENTS a CRC32C mixed with the size. */
    record Snapshot(Map<BlobKey, Map<Member, Long>> keys, List<Member> reachable, Map<String, String> unreachable) {
        List<String> unreachableLines() {
            List<String> out = new ArrayList<>();
            unreachable.forEach((m, why) -> out.add(m + ": could not be listed: " + why));
            return out;
        }
    }

    Snapshot snapshot(ConsistencyCheck check, boolean probe) {
        Map<BlobKey, Map<Member, Long>> keys = new HashMap<>();
        List<Member> reachable = new ArrayList<>();
        Map<String, String> unreachable = new LinkedHashMap<>();
        for (Member m : members) {
            Map<BlobKey, Long> mine = new HashMap<>();
            try (Stream<BlobInfo> listing = Replicas.call(m, probe, () -> m.store().list(""))) {
                Iterator<BlobInfo> it = listing.iterator();
                while (it.hasNext()) {
                    BlobInfo i = it.next();
                    if (!Replicas.reserved(i.key())) {
                        mine.put(i.key(), i.size());
                    }
                }
                if (check == ConsistencyCheck.CONTENTS) {
                    for (Map.Entry<BlobKey, Long> e : mine.entrySet()) {
                        e.setValue(contentFingerprint(m, e.getKey(), probe));
                    }
                }
            } catch (IOException | UncheckedIOException e) {
                unreachable.put(m.name(), Replicas.describe(e));
                continue;
            }
            reachable.add(m);
            mine.forEach((k, v) -> keys.computeIfAbsent(k, x -> new HashMap<>()).put(m, v));
        }
        return new Snapshot(keys, reachable, unreachable);
    }

    private long contentFingerprint(Member m, BlobKey key, boolean probe) throws IOException {
        CRC32C crc = new CRC32C();
        long size = 0;
        try (InputStream in = Replicas.call(m, probe, () -> m.store().get(key))) {
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) >= 0) {
                crc.update(buf, 0, n);
                size += n;
            }
        } catch (NoSuchFileException e) {
            return -1; // deleted since listed
        }
        return (crc.getValue() << 20) ^ size;
    }

    /** Which value of a key is right and which reachable members differ from it. */
    record Verdict(Long value, List<Member> holders, List<Member> wrong) {
    }

    /**
     * The majority value of a key among reachable members (ties: the best-priority member's).
     * With {@code presenceWins} (repair), a key present anywhere is kept, since missed deletes are
     * tombstoned in the log rather than inferred from a minority.
     */
    static Verdict verdict(Map<Member, Long> values, List<Member> reachable, boolean presenceWins) {
        Map<Long, Integer> counts = new HashMap<>();
        int present = 0;
        for (Member m : reachable) {
            Long v = values.get(m);
            if (v != null && v >= 0) {
                counts.merge(v, 1, Integer::sum);
                present++;
            }
        }
        int absent = reachable.size() - present;
        Long value;
        if (present == 0 || (!presenceWins && absent > present)) {
            value = null;
        } else if (!presenceWins && absent == present && values.get(reachable.get(0)) == null) {
            value = null;
        } else {
            value = null;
            int best = -1;
            for (Member m : reachable) { // reachable is in priority order: ties go to the earlier member
                Long v = values.get(m);
                if (v != null && v >= 0 && counts.get(v) > best) {
                    best = counts.get(v);
                    value = v;
                }
            }
        }
        List<Member> holders = new ArrayList<>();
        List<Member> wrong = new ArrayList<>();
        for (Member m : reachable) {
            Long v = values.get(m);
            boolean has = v != null && v >= 0;
            if (value == null ? !has : has && v.equals(value)) {
                holders.add(m);
            } else {
                wrong.add(m);
            }
        }
        return new Verdict(value, holders, wrong);
    }
}
