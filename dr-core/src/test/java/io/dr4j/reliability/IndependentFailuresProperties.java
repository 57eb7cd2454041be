package io.dr4j.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

class IndependentFailuresProperties {

    @Provide
    Arbitrary<Double> probabilities() {
        return ProbabilityArbitraries.anyProbability();
    }

    @Provide
    Arbitrary<Double> belowOneHalf() {
        return ProbabilityArbitraries.logUniform(-6, Math.log10(0.5));
    }

    @Provide
    Arbitrary<Double> belowOne() {
        return ProbabilityArbitraries.logUniform(-6, Math.log10(0.999));
    }

    @Provide
    Arbitrary<Double> factors() {
        return ProbabilityArbitraries.logUniform(Math.log10(1.001), 2);
    }

    @Property(seed = "8")
    void everyFigureIsAProbability(@ForAll @IntRange(min = 1, max = 2000) int n,
            @ForAll("probabilities") double p, @ForAll @IntRange(min = 0, max = 2000) int k) {
        IndependentFailures failures = IndependentFailures.of(n, p);
        int kInRange = Math.min(k, n);

        assertThat(failures.allFail()).isBetween(0.0, 1.0);
        assertThat(failures.atLeastOneFails()).isBetween(0.0, 1.0);
        assertThat(failures.noneFail()).isBetween(0.0, 1.0);
        assertThat(failures.atLeastFail(kInRange)).isBetween(0.0, 1.0);
        assertThat(failures.exactlyFail(kInRange)).isBetween(0.0, 1.0);
    }

    @Property(seed = "8")
    void allFailingNeverExceedsAtLeastOneFailing(@ForAll @IntRange(min = 1, max = 50) int n,
            @ForAll("probabilities") double p) {
        IndependentFailures failures = IndependentFailures.of(n, p);

        assertThat(failures.allFail()).isLessThanOrEqualTo(failures.atLeastOneFails() * (1 + 1e-12));
    }

    @Property(seed = "8")
    void allFailingBecomesLessLikelyWithMoreReplicas(@ForAll @IntRange(min = 1, max = 40) int n,
            @ForAll("belowOne") double p) {
        assertThat(IndependentFailures.of(n + 1, p).allFail()).isLessThan(IndependentFailures.of(n, p).allFail());
    }

    @Property(seed = "8")
    void someFailureBecomesMoreLikelyWithMoreReplicas(@ForAll @IntRange(min = 1, max = 40) int n,
            @ForAll("belowOneHalf") double p) {
        // The opposite direction to allFail: the reason the two must not be confused.
        assertThat(IndependentFailures.of(n + 1, p).atLeastOneFails())
                .isGreaterThan(IndependentFailures.of(n, p).atLeastOneFails());
    }

    @Property(seed = "8")
    void allFailingBecomesMoreLikelyAsEachReplicaDoes(@ForAll @IntRange(min = 1, max = 40) int n,
            @ForAll("belowOne") double p, @ForAll("factors") double factor) {
        double higher = Math.min(1.0, p * factor);

        assertThat(IndependentFailures.of(n, higher).allFail()).isGreaterThan(IndependentFailures.of(n, p).allFail());
    }

    @Property(seed = "8")
    void exactCountsSumToOne(@ForAll @IntRange(min = 1, max = 300) int n,
            @ForAll("probabilities") double p) {
        IndependentFailures failures = IndependentFailures.of(n, p);
        double total = 0.0;
        for (int k = 0; k <= n; k++) {
            total += failures.exactlyFail(k);
        }

        assertThat(total).isCloseTo(1.0, within(1e-10));
    }
}
