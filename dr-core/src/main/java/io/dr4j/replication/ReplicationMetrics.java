package io.dr4j.replication;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Health and lag of a {@link ReplicatedBlobStore}: the {@link ReplicationStatus} snapshot (per
 * member health, owed writes and bytes, the age of the oldest unreplicated write: the achieved
 * RPO of the standby) and the Micrometer gauges over it, removed again by {@link #close()}.
 * Thread-safe.
 */
final class ReplicationMetrics implements AutoCloseable {

    private final Replicas r;
    private final String name;
    private final List<Member> members;
    private final java.time.Clock clock;
    private final MeterRegistry registry;
    private final List<Meter> meters = new ArrayList<>();

    /** {@code registry} may be null: no gauges. */
    ReplicationMetrics(Replicas r, MeterRegistry registry) {
        this.r = r;
        this.name = r.name;
        this.members = r.members;
        this.clock = r.clock;
        this.registry = registry;
        if (registry != null) {
            register();
        }
    }

    /** Health, owed writes and lag of every member, now. */
    ReplicationStatus status() {
        Instant now = clock.instant();
        Map<String, long[]> owed = new HashMap<>(); // count, bytes, oldest epoch ms
        long total = 0;
        long totalBytes = 0;
        Instant oldest = null;
        for (RepairEntry e : r.pending.values()) {
            for (String t : e.targets()) {
                long[] o = owed.computeIfAbsent(t, x -> new long[] {0, 0, Long.MAX_VALUE});
                o[0]++;
                o[1] += e.size();
                o[2] = Math.min(o[2], e.recordedAt().toEpochMilli());
                total++;
                totalBytes += e.size();
            }
            if (oldest == null || e.recordedAt().isBefore(oldest)) {
                oldest = e.recordedAt();
            }
        }
        List<MemberStatus> out = new ArrayList<>();
        for (Member m : members) {
            long[] o = owed.getOrDefault(m.name(), new long[] {0, 0, Long.MAX_VALUE});
            out.add(new MemberStatus(m.name(), m.priority(), m.health(), o[0], o[1],
                    o[0] == 0 ? Optional.empty() : Optional.of(Instant.ofEpochMilli(o[2])), m.latency()));
        }
        return new ReplicationStatus(now, out, total, totalBytes, Optional.ofNullable(oldest));
    }

    void register() {
        for (Member m : members) {
            String member = m.name();
            meters.add(Gauge.builder("dr4j.replication.member.owed.writes", this, s -> s.memberStatus(member).owedWrites())
                    .tag("store", name).tag("member", member).description("writes this member has not yet applied").register(registry));
            meters.add(Gauge.builder("dr4j.replication.member.owed.bytes", this, s -> s.memberStatus(member).owedBytes())
                    .tag("store", name).tag("member", member).baseUnit("bytes").register(registry));
            meters.add(Gauge.builder("dr4j.replication.member.lag", this,
                            s -> s.memberStatus(member).lag(s.clock.instant()).toMillis() / 1000.0)
                    .tag("store", name).tag("member", member).baseUnit("seconds")
                    .description("age of the oldest write this member has not applied").register(registry));
            meters.add(Gauge.builder("dr4j.replication.member.health", this, s -> s.memberStatus(member).health().ordinal())
                    .tag("store", name).tag("member", member).description("0 healthy, 1 degraded, 2 down").register(registry));
        }
        meters.add(Gauge.builder("dr4j.replication.lag", this, s -> s.status().lag().toMillis() / 1000.0)
                .tag("store", name).baseUnit("seconds")
                .description("age of the oldest write not yet on every member (achieved RPO of the standby)").register(registry));
    }

    private MemberStatus memberStatus(String member) {
        return status().member(member).orElseThrow();
    }

    @Override
    public void close() {
        if (registry != null) {
            meters.forEach(registry::remove);
        }
    }
}
