package io.dr4j.backup;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.temporal.IsoFields;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * Which snapshots {@link Repository#forget} keeps, with restic's semantics: a snapshot is kept if
 * any rule keeps it.
 * <ul>
 *   <li>{@code keepLast(n)}: the n newest;</li>
 *   <li>{@code keepHourly/Daily/Weekly/Monthly/Yearly(n)}: the newest snapshot in each of the n
 *       newest hours/days/ISO weeks/months/years that have a snapshot (in {@link #zone()}, UTC by default);</li>
 *   <li>{@code keepWithin(d)}: all made within {@code d} before the newest snapshot (relative to
 *       the newest, not to now, so a host that stopped backing up does not lose everything);</li>
 *   <li>{@code keepTags(t…)}: every snapshot carrying any of these tags.</li>
 * </ul>
 * The policy applies separately to each group of snapshots with the same host and source path.
 * An empty policy is refused: it would forget everything. Immutable.
 */
public final class RetentionPolicy {

    private final int last;
    private final int hourly;
    private final int daily;
    private final int weekly;
    private final int monthly;
    private final int yearly;
    private final Duration within;
    private final Set<String> tags;
    private final ZoneId zone;

    private RetentionPolicy(Builder b) {
        this.last = b.last;
        this.hourly = b.hourly;
        this.daily = b.daily;
        this.weekly = b.weekly;
        this.monthly = b.monthly;
        this.yearly = b.yearly;
        this.within = b.within;
        this.tags = Set.copyOf(b.tags);
        this.zone = b.zone;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The time zone that defines hour, day, week, month and year boundaries. */
    public ZoneId zone() {
        return zone;
    }

    /**
     * Applies the policy to one group; returns, for each kept snapshot, the reasons it is kept.
     * Snapshots absent from the map are to be forgotten.
     */
    Map<SnapshotId, List<String>> decide(List<Snapshot> group) {
        List<Snapshot> newestFirst = new ArrayList<>(group);
        newestFirst.sort(Comparator.comparing(Snapshot::time).reversed().thenComparing(Snapshot::id));
        Map<SnapshotId, List<String>> keep = new LinkedHashMap<>();
        for (int i = 0; i < Math.min(last, newestFirst.size()); i++) {
            add(keep, newestFirst.get(i), "last " + last);
        }
        bucket(keep, newestFirst, hourly, "hourly", t -> t.truncatedTo(ChronoUnit.HOURS).toString());
        bucket(keep, newestFirst, daily, "daily", t -> t.toLocalDate().toString());
        bucket(keep, newestFirst, weekly, "weekly",
                t -> t.get(IsoFields.WEEK_BASED_YEAR) + "-W" + t.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR));
        bucket(keep, newestFirst, monthly, "monthly", t -> t.getYear() + "-" + t.getMonthValue());
        bucket(keep, newestFirst, yearly, "yearly", t -> Integer.toString(t.getYear()));
        if (within != null && !newestFirst.isEmpty()) {
            Instant newest = newestFirst.get(0).time();
            for (Snapshot s : newestFirst) {
                if (!s.time().isBefore(newest.minus(within))) {
                    add(keep, s, "within " + within);
                }
            }
        }
        if (!tags.isEmpty()) {
            for (Snapshot s : newestFirst) {
                for (String tag : s.tags()) {
                    if (tags.contains(tag)) {
                        add(keep, s, "tag " + tag);
                    }
                }
            }
        }
        return keep;
    }

    private void bucket(Map<SnapshotId, List<String>> keep, List<Snapshot> newestFirst, int n, String name,
            Function<ZonedDateTime, String> bucketOf) {
        if (n <= 0) {
            return;
        }
        Set<String> seen = new HashSet<>();
        for (Snapshot s : newestFirst) {
            if (seen.size() >= n) {
                break;
            }
            if (seen.add(bucketOf.apply(s.time().atZone(zone)))) {
                add(keep, s, name + " " + n);
            }
        }
    }

    private static void add(Map<SnapshotId, List<String>> keep, Snapshot s, String reason) {
        keep.computeIfAbsent(s.id(), k -> new ArrayList<>()).add(reason);
    }

    @Override
    public String toString() {
        return "RetentionPolicy[last=" + last + ", hourly=" + hourly + ", daily=" + daily + ", weekly=" + weekly
                + ", monthly=" + monthly + ", yearly=" + yearly + ", within=" + within + ", tags=" + tags + ", zone=" + zone + "]";
    }

    /** Builds a {@link RetentionPolicy}. Not thread-safe. Every count must be at least 0. */
    public static final class Builder {
        private int last;
        private int hourly;
        private int daily;
        private int weekly;
        private int monthly;
        private int yearly;
        private Duration within;
        private final Set<String> tags = new HashSet<>();
        private ZoneId zone = ZoneOffset.UTC;

        private Builder() {
        }

        public Builder keepLast(int n) {
            this.last = count("keepLast", n);
            return this;
        }

        public Builder keepHourly(int n) {
            this.hourly = count("keepHourly", n);
            return this;
        }

        public Builder keepDaily(int n) {
            this.daily = count("keepDaily", n);
            return this;
        }

        public Builder keepWeekly(int n) {
            this.weekly = count("keepWeekly", n);
            return this;
        }

        public Builder keepMonthly(int n) {
            this.monthly = count("keepMonthly", n);
            return this;
        }

        public Builder keepYearly(int n) {
            this.yearly = count("keepYearly", n);
            return this;
        }

        public Builder keepWithin(Duration within) {
            if (within.isNegative() || within.isZero()) {
                throw new IllegalArgumentException("keepWithin must be positive, was " + within);
            }
            this.within = within;
            return this;
        }

        public Builder keepTags(String... tags) {
            this.tags.addAll(List.of(tags));
            return this;
        }

        public Builder zone(ZoneId zone) {
            this.zone = Objects.requireNonNull(zone);
            return this;
        }

        /** @throws IllegalArgumentException if no rule would keep anything */
        public RetentionPolicy build() {
            if (last + hourly + daily + weekly + monthly + yearly == 0 && within == null && tags.isEmpty()) {
                throw new IllegalArgumentException("a retention policy must keep something: set keepLast, keepDaily, "
                        + "keepWithin, keepTags or another rule");
            }
            return new RetentionPolicy(this);
        }

        private static int count(String name, int n) {
            if (n < 0) {
                throw new IllegalArgumentException(name + " must be at least 0, was " + n);
            }
            return n;
        }
    }
}
