package io.dr4j.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class AvailabilityTest {

    @Test
    void mttfAndMttrGiveTheSteadyStateFractionUp() {
        Availability threeNines = Availability.fromMttfMttr(Duration.ofDays(999), Duration.ofDays(1));

        assertThat(threeNines.value()).isCloseTo(0.999, within(1e-15));
        assertThat(threeNines.unavailability()).isCloseTo(0.001, within(1e-18));
        assertThat(threeNines.nines()).isCloseTo(3.0, within(1e-12));
        // 0.001 of 365.25 days = 8.766 hours.
        assertThat(threeNines.expectedDowntimePerYear()).isEqualTo(Duration.ofMillis(31_557_600));
        assertThat(threeNines.expectedDowntime(Duration.ofDays(30))).isEqualTo(Duration.ofSeconds(2592, 0));
    }

    @Test
    void seriesMultipliesAvailabilities() {
        Availability storage = Availability.of(0.999);
        Availability routing = Availability.of(0.9999);
        Availability compute = Availability.of(0.99);

        Availability system = Availability.series(storage, routing, compute);

        assertThat(system.value()).isCloseTo(0.999 * 0.9999 * 0.99, within(1e-15));
        assertThat(system).isEqualTo(storage.inSeriesWith(routing).inSeriesWith(compute));
        assertThat(system).isLessThan(compute);
    }

    @Test
    void parallelMultipliesUnavailabilities() {
        Availability system = Availability.parallel(Availability.of(0.99), Availability.of(0.9));

        assertThat(system.value()).isCloseTo(0.999, within(1e-15));
        assertThat(system.unavailability()).isCloseTo(0.001, within(1e-17));
        assertThat(Availability.of(0.99).inParallelWith(Availability.of(0.9))).isEqualTo(system);
    }

    @Test
    void compositionKeepsPrecisionNearOne() {
        Availability fiveNines = Availability.ofNines(5);

        // Two 1e-5 outages in series: 1 - (1 - 1e-5)^2 = 2e-5 - 1e-10, which 1 - product rounds.
        assertThat(Availability.series(fiveNines, fiveNines).unavailability()).isCloseTo(2e-5 - 1e-10, within(1e-22));
        assertThat(Availability.parallel(fiveNines, fiveNines).nines()).isCloseTo(10.0, within(1e-12));
    }

    @Test
    void twoOfThreeQuorumMatchesHandComputation() {
        // 3 * 0.9^2 * 0.1 + 0.9^3 = 0.243 + 0.729.
        assertThat(Availability.atLeastKOfN(2, 3, Availability.of(0.9)).value()).isCloseTo(0.972, within(1e-15));
        // Down when 2 or 3 are down: 3 * 1e-12 * (1 - 1e-6) + 1e-18, far below double precision of A.
        Availability sixNines = Availability.ofUnavailability(1e-6);
        assertThat(Availability.atLeastKOfN(2, 3, sixNines).unavailability())
                .isCloseTo(3e-12 * (1 - 1e-6) + 1e-18, within(1e-25));
        // Symmetric: a majority of five coins.
        assertThat(Availability.atLeastKOfN(3, 5, Availability.of(0.5)).value()).isCloseTo(0.5, within(1e-15));
    }

    @Test
    void kOfNStaysFiniteForAThousandComponents() {
        Availability majority = Availability.atLeastKOfN(501, 1000, Availability.of(0.6));

        // Mean 600, standard deviation ~15.5: falling below 501 is a 6.4-sigma event, and the
        // 1000-term BigDecimal sum agrees to twelve digits.
        double exact = ExactBinomial.fewerThan(501, 1000, Availability.of(0.6).unavailability());
        assertThat(majority.unavailability()).isBetween(1e-11, 1e-8).isCloseTo(exact, within(exact * 1e-11));
        // Kept as an unavailability, a tiny availability has absolute (not relative) precision.
        assertThat(Availability.atLeastKOfN(1000, 1000, Availability.of(0.6)).value()).isCloseTo(0.0, within(1e-15));
    }

    @Test
    void emptyCompositionsAreTheirIdentities() {
        assertThat(Availability.series(List.of())).isEqualTo(Availability.ALWAYS_UP);
        assertThat(Availability.parallel(List.of())).isEqualTo(Availability.NEVER_UP);
        assertThat(Availability.ALWAYS_UP.nines()).isInfinite();
        assertThat(Availability.ALWAYS_UP.expectedDowntimePerYear()).isZero();
    }

    @Test
    void rendersPercentNinesAndDowntime() {
        assertThat(Availability.of(0.999)).hasToString("Availability[99.9000%, 3.00 nines, PT8H45M57.6S down/year]");
    }

    @Test
    void rejectsInvalidArgumentsNamingThem() {
        assertThatThrownBy(() -> Availability.of(1.01)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("availability must be a probability in [0, 1], got 1.01");
        assertThatThrownBy(() -> Availability.ofUnavailability(-0.1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unavailability");
        assertThatThrownBy(() -> Availability.ofNines(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("nines must be non-negative");
        assertThatThrownBy(() -> Availability.fromMttfMttr(Duration.ZERO, Duration.ofHours(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("mttf must be a positive duration, got PT0S");
        assertThatThrownBy(() -> Availability.fromMttfMttr(Duration.ofDays(1), Duration.ofHours(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("mttr must be a positive duration");
        assertThatThrownBy(() -> Availability.atLeastKOfN(4, 3, Availability.of(0.9)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("k must be in [1, n] = [1, 3], got 4");
        assertThatThrownBy(() -> Availability.atLeastKOfN(0, 3, Availability.of(0.9)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("got 0");
        assertThatThrownBy(() -> Availability.atLeastKOfN(1, 0, Availability.of(0.9)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("n must be at least 1, got 0");
    }
}
