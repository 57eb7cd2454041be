package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class RetentionPolicyProperties {

    static List<Snapshot> history(long seed, int count) {
        Random random = new Random(seed);
        List<Snapshot> result = new ArrayList<>();
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        for (int i = 0; i < count; i++) {
            t = t.plus(Duration.ofMinutes(1 + random.nextInt(3 * 24 * 60)));
            byte[] id = new byte[16];
            random.nextBytes(id);
            Set<String> tags = random.nextInt(10) == 0 ? Set.of("release") : Set.of();
            result.add(new Snapshot(SnapshotId.of(HexFormat.of().formatHex(id)), t, "h", "/ckpt", tags, Map.of(),
                    Optional.empty(), List.of(), new SnapshotStats(0, 0, 0, 0, 0, 0, 0, 0, Duration.ZERO)));
        }
        return result;
    }

    @Property(tries = 200)
    void keepLastKeepsExactlyTheNewest(@ForAll @LongRange(min = 0, max = 10_000) long seed,
            @ForAll @IntRange(min = 0, max = 60) int count, @ForAll @IntRange(min = 1, max = 20) int n) {
        List<Snapshot> all = history(seed, count);
        Set<SnapshotId> kept = RetentionPolicy.builder().keepLast(n).build().decide(all).keySet();
        List<SnapshotId> newest = all.stream().sorted(Comparator.comparing(Snapshot::time).reversed()).limit(n)
                .map(Snapshot::id).toList();
        assertThat(kept).containsExactlyInAnyOrderElementsOf(newest);
    }

    @Property(tries = 200)
    void dailyKeepsOnePerDayForTheNewestDays(@ForAll @LongRange(min = 0, max = 10_000) long seed,
            @ForAll @IntRange(min = 1, max = 60) int count, @ForAll @IntRange(min = 1, max = 10) int days) {
        List<Snapshot> all = history(seed, count);
        Set<SnapshotId> kept = RetentionPolicy.builder().keepDaily(days).build().decide(all).keySet();
        long distinctDays = all.stream().map(s -> s.time().toString().substring(0, 10)).distinct().count();
        assertThat(kept).hasSize((int) Math.min(days, distinctDays));
        Snapshot newest = all.stream().max(Comparator.comparing(Snapshot::time)).orElseThrow();
        assertThat(kept).contains(newest.id());
        assertThat(all.stream().filter(s -> kept.contains(s.id())).map(s -> s.time().toString().substring(0, 10)).distinct()
                .count()).isEqualTo(kept.size());
    }

    @Property(tries = 100)
    void addingRulesNeverKeepsLess(@ForAll @LongRange(min = 0, max = 10_000) long seed,
            @ForAll @IntRange(min = 1, max = 50) int count) {
        List<Snapshot> all = history(seed, count);
        Set<SnapshotId> base = RetentionPolicy.builder().keepLast(2).build().decide(all).keySet();
        Set<SnapshotId> more = RetentionPolicy.builder().keepLast(2).keepWeekly(3).keepMonthly(2).keepYearly(1)
                .keepTags("release").keepWithin(Duration.ofDays(2)).build().decide(all).keySet();
        assertThat(more).containsAll(base);
        all.stream().filter(s -> s.tags().contains("release")).forEach(s -> assertThat(more).contains(s.id()));
    }

    @Test
    void emptyPolicyIsRefused() {
        assertThatThrownBy(() -> RetentionPolicy.builder().build()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must keep something");
        assertThatThrownBy(() -> RetentionPolicy.builder().keepDaily(-1)).isInstanceOf(IllegalArgumentException.class);
    }
}
