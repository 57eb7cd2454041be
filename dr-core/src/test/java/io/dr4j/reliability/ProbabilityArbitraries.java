package io.dr4j.reliability;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;

/**
 * Probabilities spread over many orders of magnitude: failure rates of interest are 1e-2 to
 * 1e-12, which a uniform draw from [0, 1] would almost never produce.
 */
final class ProbabilityArbitraries {

    private ProbabilityArbitraries() {
    }

    /** Log-uniform in [10^minExponent, 10^maxExponent]. */
    static Arbitrary<Double> logUniform(double minExponent, double maxExponent) {
        // jqwik draws decimals of a fixed scale, so the bounds are rounded inwards to it.
        double scale = 1e9;
        return Arbitraries.doubles().between(Math.ceil(minExponent * scale) / scale, Math.floor(maxExponent * scale) / scale)
                .ofScale(9).map(e -> Math.pow(10.0, e));
    }

    /** Any probability: tiny, near one, uniform, and exactly 0 or 1. */
    static Arbitrary<Double> anyProbability() {
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(4, logUniform(-15, 0)),
                net.jqwik.api.Tuple.of(2, logUniform(-15, 0).map(u -> 1.0 - u)),
                net.jqwik.api.Tuple.of(3, Arbitraries.doubles().between(0.0, 1.0).ofScale(12)),
                net.jqwik.api.Tuple.of(1, Arbitraries.of(0.0, 1.0)));
    }
}
