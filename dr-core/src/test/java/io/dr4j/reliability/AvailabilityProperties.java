package io.dr4j.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

class AvailabilityProperties {

    @Provide
    Arbitrary<Double> probabilities() {
        return ProbabilityArbitraries.anyProbability();
    }

    @Provide
    Arbitrary<Double> unavailabilities() {
        return ProbabilityArbitraries.logUniform(-9, 0);
    }

    @Provide
    Arbitrary<Double> improvements() {
        return ProbabilityArbitraries.logUniform(-4, 0);
    }

    @Property(seed = "8")
    void kOfNAvailabilityIsAProbability(@ForAll @IntRange(min = 1, max = 1000) int n,
            @ForAll @IntRange(min = 1, max = 1000) int k, @ForAll("probabilities") double a) {
        Availability system = Availability.atLeastKOfN(Math.min(k, n), n, Availability.of(a));

        assertThat(system.value()).isBetween(0.0, 1.0);
        assertThat(system.unavailability()).isBetween(0.0, 1.0);
        assertThat(system.nines()).isGreaterThanOrEqualTo(0.0);
    }

    @Property(seed = "8", tries = 300) // each try is a 60-digit BigDecimal sum
    void kOfNIsExactForSmallN(@ForAll @IntRange(min = 1, max = 40) int n, @ForAll @IntRange(min = 1, max = 40) int k,
            @ForAll("unavailabilities") double unavailability) {
        int kInRange = Math.min(k, n);
        double exact = ExactBinomial.fewerThan(kInRange, n, unavailability);

        double computed = Availability.atLeastKOfN(kInRange, n, Availability.ofUnavailability(unavailability))
                .unavailability();

        assertThat(computed).isCloseTo(exact, within(Math.max(exact * 1e-12, Double.MIN_NORMAL)));
    }

    @Property(seed = "8")
    void needingAllNIsTheSeriesProductAndNeedingOneIsTheParallelOne(@ForAll @IntRange(min = 1, max = 200) int n,
            @ForAll("probabilities") double a) {
        Availability each = Availability.of(a);

        assertThat(Availability.atLeastKOfN(n, n, each).value()).isCloseTo(Math.pow(a, n), within(1e-12));
        assertThat(Availability.atLeastKOfN(1, n, each).value()).isCloseTo(1 - Math.pow(1 - a, n), within(1e-12));
        assertThat(Availability.atLeastKOfN(1, n, each).unavailability())
                .isCloseTo(Math.pow(each.unavailability(), n), within(1e-300 + 1e-11 * Math.pow(each.unavailability(), n)));
    }

    @Property(seed = "8")
    void needingMoreComponentsLowersAvailability(@ForAll @IntRange(min = 2, max = 300) int n,
            @ForAll @IntRange(min = 1, max = 299) int k, @ForAll("probabilities") double a) {
        int kInRange = Math.min(k, n - 1);
        Availability each = Availability.of(a);

        assertThat(Availability.atLeastKOfN(kInRange + 1, n, each).value())
                .isLessThanOrEqualTo(Availability.atLeastKOfN(kInRange, n, each).value());
        assertThat(Availability.atLeastKOfN(kInRange + 1, n, each).unavailability())
                .isGreaterThanOrEqualTo(Availability.atLeastKOfN(kInRange, n, each).unavailability());
    }

    @Property(seed = "8")
    void moreAvailableComponentsMakeAMoreAvailableSystem(@ForAll @IntRange(min = 1, max = 300) int n,
            @ForAll @IntRange(min = 1, max = 300) int k, @ForAll("probabilities") double unavailability,
            @ForAll("improvements") double improvement) {
        int kInRange = Math.min(k, n);
        Availability each = Availability.ofUnavailability(unavailability);
        Availability better = Availability.ofUnavailability(unavailability * (1 - improvement));

        assertThat(Availability.atLeastKOfN(kInRange, n, better).unavailability())
                .isLessThanOrEqualTo(Availability.atLeastKOfN(kInRange, n, each).unavailability());
    }

    @Property(seed = "8")
    void seriesIsNoBetterThanItsWeakestPartAndParallelNoWorseThanItsStrongest(
            @ForAll("probabilities") double a, @ForAll("probabilities") double b) {
        Availability first = Availability.of(a);
        Availability second = Availability.of(b);

        assertThat(Availability.series(first, second).value()).isBetween(0.0, Math.min(a, b) + 1e-15);
        assertThat(Availability.parallel(first, second).value()).isBetween(Math.max(a, b) - 1e-15, 1.0);
        assertThat(Availability.series(first, second).value()).isCloseTo(a * b, within(1e-15));
    }

    @Property(seed = "8")
    void ninesAndDowntimeAgreeWithTheValue(@ForAll @LongRange(min = 1, max = 10_000_000) long mttfHours,
            @ForAll @LongRange(min = 1, max = 10_000) long mttrMinutes) {
        Availability availability = Availability.fromMttfMttr(Duration.ofHours(mttfHours), Duration.ofMinutes(mttrMinutes));
        double expectedUnavailability = mttrMinutes / (mttfHours * 60.0 + mttrMinutes);

        assertThat(availability.unavailability()).isCloseTo(expectedUnavailability, within(1e-15));
        assertThat(Availability.ofNines(availability.nines()).unavailability())
                .isCloseTo(availability.unavailability(), within(availability.unavailability() * 1e-12));
        assertThat(availability.expectedDowntimePerYear().toNanos() / 1e9)
                .isCloseTo(expectedUnavailability * 365.25 * 86400, within(1e-6));
    }
}
