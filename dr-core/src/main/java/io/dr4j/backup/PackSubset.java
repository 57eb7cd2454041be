package io.dr4j.backup;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which of a snapshot's packs a {@link VerifyLevel#DATA} verification reads, so that a large
 * repository can be checked a slice a day rather than all at once:
 * <ul>
 *   <li>{@link #slice(int, int) slice n/t}: the packs whose id, read as an unsigned big-endian
 *       number from its first 8 bytes, is {@code n - 1} modulo {@code t}. Pack ids are random,
 *       so slices are about equal, and slices {@code 1/t … t/t} together read every pack exactly
 *       once: {@code t} daily runs with {@code n} = day of the cycle read everything once.</li>
 *   <li>{@link #sample(double) sample p%}: {@code ceil(p% × packs)} packs drawn at random (at least
 *       one when there are any): a spot check.</li>
 *   <li>{@link #ALL}: every pack (the default).</li>
 * </ul>
 * Metadata (every chunk in the index, every pack present and long enough) is always checked in
 * full; the subset only limits which packs are read. Immutable and thread-safe ({@link #sample}
 * draws from its own generator per call of {@link #select}).
 */
public final class PackSubset {

    /** Every pack. */
    public static final PackSubset ALL = new PackSubset(0, 0, 100.0, 0, false);

    private static final Pattern SLICE = Pattern.compile("(\\d{1,9})/(\\d{1,9})");
    private static final Pattern PERCENT = Pattern.compile("(\\d{1,3}(?:\\.\\d{1,6})?)%");

    private final int n;
    private final int t;
    private final double percent;
    private final long seed;
    private final boolean seeded;

    private PackSubset(int n, int t, double percent, long seed, boolean seeded) {
        this.n = n;
        this.t = t;
        this.percent = percent;
        this.seed = seed;
        this.seeded = seeded;
    }

    /**
     * Slice {@code n} of {@code t}.
     *
     * @throws IllegalArgumentException unless {@code 1 ≤ n ≤ t}
     */
    public static PackSubset slice(int n, int t) {
        if (t < 1 || n < 1 || n > t) {
            throw new IllegalArgumentException("subset " + n + "/" + t + " is out of range: slice n of t needs 1 <= n <= t"
                    + " (for example 1/7 to 7/7 for a weekly cycle)");
        }
        return new PackSubset(n, t, 0, 0, false);
    }

    /**
     * A random sample of {@code percent} of the packs.
     *
     * @throws IllegalArgumentException unless {@code 0 < percent ≤ 100}
     */
    public static PackSubset sample(double percent) {
        checkPercent(percent);
        return new PackSubset(0, 0, percent, 0, false);
    }

    /** As {@link #sample(double)}, drawn with a fixed seed (the same packs for the same snapshot). */
    public static PackSubset sample(double percent, long seed) {
        checkPercent(percent);
        return new PackSubset(0, 0, percent, seed, true);
    }

    private static void checkPercent(double percent) {
        if (!(percent > 0 && percent <= 100)) {
            throw new IllegalArgumentException("subset " + percent + "% is out of range: a sample is more than 0% and at most 100%");
        }
    }

    /**
     * Parses {@code n/t} (a slice) or {@code p%} (a sample), as {@code verify --subset} takes them.
     *
     * @throws IllegalArgumentException naming the spec if it is neither or out of range
     */
    public static PackSubset parse(String spec) {
        Objects.requireNonNull(spec, "spec");
        String s = spec.strip();
        Matcher m = SLICE.matcher(s);
        if (m.matches()) {
            return slice(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
        }
        m = PERCENT.matcher(s);
        if (m.matches()) {
            return sample(Double.parseDouble(m.group(1)));
        }
        throw new IllegalArgumentException("subset '" + spec + "' is neither n/t (a slice, e.g. 1/7) nor p% (a sample, e.g. 5%)");
    }

    /** Whether this reads every pack. */
    public boolean isAll() {
        return t == 0 && percent >= 100.0;
    }

    /**
     * The positions in {@code packIds} (each at least 8 bytes) that this subset reads, ascending.
     */
    public List<Integer> select(List<byte[]> packIds) {
        List<Integer> chosen = new ArrayList<>();
        if (t > 0) {
            for (int i = 0; i < packIds.size(); i++) {
                if (Long.remainderUnsigned(prefix(packIds.get(i)), t) == n - 1) {
                    chosen.add(i);
                }
            }
            return chosen;
        }
        for (int i = 0; i < packIds.size(); i++) {
            chosen.add(i);
        }
        if (percent >= 100.0) {
            return chosen;
        }
        int k = packIds.isEmpty() ? 0 : (int) Math.max(1, Math.ceil(packIds.size() * percent / 100.0));
        Collections.shuffle(chosen, seeded ? new Random(seed) : new Random());
        List<Integer> sample = new ArrayList<>(chosen.subList(0, k));
        Collections.sort(sample);
        return sample;
    }

    private static long prefix(byte[] id) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (id[i] & 0xff);
        }
        return v;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PackSubset p && p.n == n && p.t == t && p.percent == percent && p.seed == seed && p.seeded == seeded;
    }

    @Override
    public int hashCode() {
        return Objects.hash(n, t, percent, seed, seeded);
    }

    /** {@code n/t}, {@code p%} or {@code all}. */
    @Override
    public String toString() {
        if (t > 0) {
            return n + "/" + t;
        }
        return isAll() ? "all" : (percent == Math.rint(percent) ? String.valueOf((long) percent) : String.valueOf(percent)) + "%";
    }
}
