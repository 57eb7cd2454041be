package io.dr4j.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class IndependentFailuresTest {

    @Test
    void allReplicasFailingIsFarRarerThanAnyReplicaFailing() {
        IndependentFailures threeReplicas = IndependentFailures.of(3, 0.01);

        // p^N = 0.01^3 and 1 - 0.99^3 = 1 - 0.970299.
        assertThat(threeReplicas.allFail()).isCloseTo(1e-6, within(1e-18));
        assertThat(threeReplicas.atLeastOneFails()).isCloseTo(0.029701, within(1e-15));
        assertThat(threeReplicas.atLeastOneFails() / threeReplicas.allFail()).isGreaterThan(29_000);
    }

    @Test
    void binomialTailsMatchHandComputedValues() {
        IndependentFailures threeReplicas = IndependentFailures.of(3, 0.01);

        // P(X>=2) = 3 * 0.01^2 * 0.99 + 0.01^3 = 0.000297 + 0.000001.
        assertThat(threeReplicas.atLeastFail(2)).isCloseTo(2.98e-4, within(1e-16));
        assertThat(threeReplicas.exactlyFail(1)).isCloseTo(3 * 0.01 * 0.99 * 0.99, within(1e-16));
        assertThat(threeReplicas.atLeastFail(0)).isEqualTo(1.0);
        assertThat(threeReplicas.atLeastFail(1)).isCloseTo(threeReplicas.atLeastOneFails(), within(1e-16));
        assertThat(threeReplicas.atLeastFail(3)).isCloseTo(threeReplicas.allFail(), within(1e-20));
        assertThat(threeReplicas.noneFail()).isCloseTo(0.970299, within(1e-15));
    }

    @Test
    void atLeastOneFailsKeepsPrecisionForTinyProbabilities() {
        // 1 - (1 - p)^3 = 3p - 3p² + p³; computed naively it loses four digits to cancellation.
        assertThat(IndependentFailures.of(3, 1e-12).atLeastOneFails()).isCloseTo(3e-12 - 3e-24, within(1e-27));
    }

    @Test
    void certainAndImpossibleFailuresAreExact() {
        assertThat(IndependentFailures.of(5, 1.0).allFail()).isEqualTo(1.0);
        assertThat(IndependentFailures.of(5, 1.0).atLeastOneFails()).isEqualTo(1.0);
        assertThat(IndependentFailures.of(5, 1.0).atLeastFail(5)).isEqualTo(1.0);
        assertThat(IndependentFailures.of(5, 0.0).atLeastOneFails()).isEqualTo(0.0);
        assertThat(IndependentFailures.of(5, 0.0).atLeastFail(1)).isEqualTo(0.0);
        assertThat(IndependentFailures.of(5, 0.0).noneFail()).isEqualTo(1.0);
    }

    @Test
    void rejectsInvalidArgumentsNamingThem() {
        assertThatThrownBy(() -> IndependentFailures.of(0, 0.1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("count must be at least 1, got 0");
        assertThatThrownBy(() -> IndependentFailures.of(3, 1.5))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("failureProbability must be a probability in [0, 1], got 1.5");
        assertThatThrownBy(() -> IndependentFailures.of(3, Double.NaN))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("got NaN");
        assertThatThrownBy(() -> IndependentFailures.of(3, 0.1).atLeastFail(4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("k must be in [0, 3]");
        assertThatThrownBy(() -> IndependentFailures.of(3, 0.1).exactlyFail(-1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("got -1");
    }
}
