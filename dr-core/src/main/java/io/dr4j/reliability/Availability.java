package io.dr4j.reliability;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The long-run fraction of time a component or system is up, with the arithmetic to combine
 * components: in series (all needed), in parallel (any one suffices) and k-of-n (a quorum).
 *
 * <p>The value is stored as its <em>unavailability</em> {@code 1 − A}, because that is where
 * the information is: 0.99999 and 0.999999 differ in the sixth digit of A but by a factor of
 * ten in {@code 1 − A}, and composing high availabilities through {@code 1 − A} keeps full
 * precision where {@code 1 − product} would cancel. {@link #nines()} and
 * {@link #expectedDowntimePerYear()} are computed from it.
 *
 * <p>Assumptions behind the compositions: components fail and recover independently of each
 * other; in parallel and k-of-n compositions failover is instant and perfect, and the
 * components are interchangeable. A shared cause (one region, one control plane, one bad
 * deploy) is not independent: model it as its own component in series with the redundant
 * group, otherwise the result is optimistic.
 *
 * <pre>{@code
 * Availability storage = Availability.parallel(s3, azure);              // either copy will do
 * Availability serving = Availability.atLeastKOfN(2, 3, oneGpuNode);    // 2 of 3 nodes needed
 * Availability system  = Availability.series(storage, router, serving); // all three needed
 * system.nines(); system.expectedDowntimePerYear();
 * }</pre>
 *
 * <p>Instances are immutable and thread-safe. Two instances are equal when their
 * unavailabilities are equal; they order from least to most available.
 */
public final class Availability implements Comparable<Availability> {

    /** A component that is always up (unavailability 0): the identity of {@link #series}. */
    public static final Availability ALWAYS_UP = new Availability(0.0);

    /** A component that is never up (availability 0): the identity of {@link #parallel}. */
    public static final Availability NEVER_UP = new Availability(1.0);

    private final double unavailability;

    private Availability(double unavailability) {
        this.unavailability = unavailability;
    }

    /**
     * Returns the availability {@code availability}, e.g. {@code of(0.999)} for "three nines".
     * For values very close to 1 prefer {@link #ofUnavailability(double)} or
     * {@link #ofNines(double)}, which do not round.
     *
     * @throws IllegalArgumentException if {@code availability} is not in [0, 1]
     */
    public static Availability of(double availability) {
        Arguments.probability(availability, "availability");
        return new Availability(1.0 - availability);
    }

    /**
     * Returns the availability whose unavailability (fraction of time down) is {@code unavailability}.
     *
     * @throws IllegalArgumentException if {@code unavailability} is not in [0, 1]
     */
    public static Availability ofUnavailability(double unavailability) {
        return new Availability(Arguments.probability(unavailability, "unavailability"));
    }

    /**
     * Returns the availability with {@code nines} nines, i.e. unavailability 10<sup>−nines</sup>;
     * fractional nines are allowed ({@code ofNines(3.5)} is about 99.968%).
     *
     * @throws IllegalArgumentException if {@code nines} is negative or NaN
     */
    public static Availability ofNines(double nines) {
        if (!(nines >= 0.0)) {
            throw new IllegalArgumentException("nines must be non-negative, got " + nines);
        }
        return new Availability(Math.pow(10.0, -nines));
    }

    /**
     * Returns the steady-state availability of a component that runs for a mean time
     * {@code mttf} between failures and takes a mean time {@code mttr} to repair:
     * A = MTTF / (MTTF + MTTR). This is the long-run fraction of time up of an alternating
     * up/down process, whatever the distributions of the up and down times (renewal–reward
     * theorem); it says nothing about how long a single outage lasts.
     *
     * @throws IllegalArgumentException if either duration is not positive
     * @throws NullPointerException if either duration is null
     */
    public static Availability fromMttfMttr(Duration mttf, Duration mttr) {
        double up = Arguments.positiveSeconds(mttf, "mttf");
        double down = Arguments.positiveSeconds(mttr, "mttr");
        return new Availability(down / (up + down));
    }

    /**
     * Returns the availability of a system that is up only when every one of {@code parts} is
     * up (storage and router and compute): A = Π A<sub>i</sub>. Independence is assumed. An
     * empty list gives {@link #ALWAYS_UP}.
     */
    public static Availability series(List<Availability> parts) {
        // 1 - Π(1 - U_i) computed as -expm1(Σ log1p(-U_i)): exact for tiny U_i.
        double logUp = 0.0;
        for (Availability part : Objects.requireNonNull(parts, "parts")) {
            logUp += Math.log1p(-Objects.requireNonNull(part, "part").unavailability);
        }
        return new Availability(clamp(-Math.expm1(logUp)));
    }

    /** Varargs form of {@link #series(List)}. */
    public static Availability series(Availability... parts) {
        return series(List.of(parts));
    }

    /**
     * Returns the availability of a system that is up when at least one of {@code replicas}
     * is up: A = 1 − Π (1 − A<sub>i</sub>). Independence and instant, perfect failover are
     * assumed. An empty list gives {@link #NEVER_UP}.
     */
    public static Availability parallel(List<Availability> replicas) {
        double down = 1.0;
        for (Availability replica : Objects.requireNonNull(replicas, "replicas")) {
            down *= Objects.requireNonNull(replica, "replica").unavailability;
        }
        return new Availability(down);
    }

    /** Varargs form of {@link #parallel(List)}. */
    public static Availability parallel(Availability... replicas) {
        return parallel(List.of(replicas));
    }

    /**
     * Returns the availability of a system of {@code n} interchangeable components, each up
     * with availability {@code each} independently, that is up while at least {@code k} of
     * them are up: Σ<sub>i=k..n</sub> C(n,i) A<sup>i</sup> (1−A)<sup>n−i</sup>. {@code k = n} is
     * the series case A<sup>n</sup>; {@code k = 1} is the parallel case 1 − (1−A)<sup>n</sup>.
     * Computed in log space: accurate for {@code n} in the thousands, in O(n) time.
     *
     * @throws IllegalArgumentException if {@code n < 1} or {@code k} is not in [1, n]
     */
    public static Availability atLeastKOfN(int k, int n, Availability each) {
        Arguments.atLeast(n, 1, "n");
        if (k < 1 || k > n) {
            throw new IllegalArgumentException("k must be in [1, n] = [1, " + n + "], got " + k);
        }
        Objects.requireNonNull(each, "each");
        // The system is down when fewer than k are up; that tail is summed directly rather
        // than as 1 - (up tail), which would cancel for highly available systems.
        double u = each.unavailability;
        return new Availability(Binomial.fewerThan(k, n, 1.0 - u, u));
    }

    /** Returns {@code series(this, other)}. */
    public Availability inSeriesWith(Availability other) {
        return series(this, other);
    }

    /** Returns {@code parallel(this, other)}. */
    public Availability inParallelWith(Availability other) {
        return parallel(this, other);
    }

    /** Returns the availability A, in [0, 1]. Rounds to 1.0 when the unavailability is below about 1e-16. */
    public double value() {
        return 1.0 - unavailability;
    }

    /** Returns the unavailability 1 − A, in [0, 1], the long-run fraction of time down. */
    public double unavailability() {
        return unavailability;
    }

    /**
     * Returns the number of nines, −log<sub>10</sub>(1 − A): 3.0 for 99.9%, about 3.52 for
     * 99.97%; {@link Double#POSITIVE_INFINITY} for {@link #ALWAYS_UP}.
     */
    public double nines() {
        return -Math.log10(unavailability);
    }

    /** Returns the expected time down per (Julian, 365.25-day) year: (1 − A) × 1 year. */
    public Duration expectedDowntimePerYear() {
        return Duration.ofNanos(Math.round(unavailability * Arguments.SECONDS_PER_YEAR * 1e9));
    }

    /**
     * Returns the expected time down in {@code period}: (1 − A) × period.
     *
     * @throws IllegalArgumentException if {@code period} is not positive
     */
    public Duration expectedDowntime(Duration period) {
        double seconds = Arguments.positiveSeconds(period, "period") * unavailability;
        long whole = (long) seconds;
        return Duration.ofSeconds(whole, Math.round((seconds - whole) * 1e9));
    }

    @Override
    public int compareTo(Availability other) {
        return Double.compare(other.unavailability, unavailability);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Availability other && Double.compare(other.unavailability, unavailability) == 0;
    }

    @Override
    public int hashCode() {
        return Double.hashCode(unavailability);
    }

    /** Returns e.g. {@code Availability[99.9500%, 3.30 nines, PT4H22M58.32S down/year]} (downtime to the millisecond). */
    @Override
    public String toString() {
        return String.format(Locale.ROOT, "Availability[%.4f%%, %.2f nines, %s down/year]",
                value() * 100.0, nines(), expectedDowntimePerYear().truncatedTo(ChronoUnit.MILLIS));
    }

    private static double clamp(double probability) {
        return Math.max(0.0, Math.min(1.0, probability));
    }
}
