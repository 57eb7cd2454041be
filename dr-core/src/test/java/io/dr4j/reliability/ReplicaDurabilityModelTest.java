package io.dr4j.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ReplicaDurabilityModelTest {

    private static final double HOURS_PER_YEAR = 365.25 * 24;

    @Test
    void oneReplicaIsLostAfterItsOwnMttf() {
        ReplicaDurabilityModel single = ReplicaDurabilityModel.of(1, Duration.ofDays(4 * 365), Duration.ofDays(1));

        assertThat(single.mttdlYears()).isCloseTo(4 * 365 / 365.25, within(1e-12));
        // With nothing to repair from, the lifetime is exactly exponential.
        double expectedLoss = -Math.expm1(-365.25 / (4 * 365));
        assertThat(single.annualDurability().lossProbability()).isCloseTo(expectedLoss, within(1e-15));
        assertThat(single.exactLossProbability(ReplicaDurabilityModel.YEAR)).isCloseTo(expectedLoss, within(1e-12));
    }

    @Test
    void twoReplicasHaveTheTextbookMttdl() {
        // λ = 1/1000 h, μ = 1/10 h: MTTDL = (3λ + μ) / (2λ²) = 0.103 / 2e-6 = 51,500 h.
        ReplicaDurabilityModel mirror = ReplicaDurabilityModel.of(2, Duration.ofHours(1000), Duration.ofHours(10));

        assertThat(mirror.mttdlYears() * HOURS_PER_YEAR).isCloseTo(51_500, within(1e-8));
        // MTTF² / (2 MTTR) = 50,000 h: the closed form drops the 3λ term.
        assertThat(mirror.closedFormMttdlYears() * HOURS_PER_YEAR).isCloseTo(50_000, within(1e-8));
        // With two replicas only one can be under repair, so the policies agree.
        assertThat(mirror.withRepairPolicy(RepairPolicy.PARALLEL).mttdlYears()).isEqualTo(mirror.mttdlYears());
    }

    @Test
    void threeReplicasMatchTheHittingTimeRecurrenceByHand() {
        ReplicaDurabilityModel triple = ReplicaDurabilityModel.of(3, Duration.ofHours(1000), Duration.ofHours(10));

        // T3 = 1/(3λ) = 333.33; T2 = (1 + μ T3)/(2λ) = 17,166.67; T1 = (1 + μ T2)/λ = 1,717,666.67.
        assertThat(triple.mttdlYears() * HOURS_PER_YEAR).isCloseTo(1_735_166.6667, within(1e-3));
        // Parallel repair: from one live copy both missing ones are rebuilt, T1 = (1 + 2μ T2)/λ.
        assertThat(triple.withRepairPolicy(RepairPolicy.PARALLEL).mttdlYears() * HOURS_PER_YEAR)
                .isCloseTo(3_451_833.3333, within(1e-3));
    }

    @Test
    void exactMttdlSolvesTheHittingTimeLinearSystem() {
        for (RepairPolicy policy : RepairPolicy.values()) {
            for (int replicas = 1; replicas <= 6; replicas++) {
                ReplicaDurabilityModel model = new ReplicaDurabilityModel(replicas, Duration.ofDays(1500),
                        Duration.ofHours(30), policy);

                double solved = HittingTimes.fromAllLive(replicas, 1.0 / 1500, 24.0 / 30, policy) / 365.25;

                assertThat(model.mttdlYears()).as("%s, R=%d", policy, replicas).isCloseTo(solved, within(solved * 1e-12));
            }
        }
    }

    @Test
    void annualDurabilityOfThreeReplicasOnCommodityDisks() {
        // 4-year MTTF, one day to re-replicate, three copies: the exact MTTDL is T3 + T2 + T1 in
        // units of MTTF with ρ = MTTF/MTTR = 1460: 1/3 + (1 + ρ/3)/2 + (1 + ρ(1 + ρ/3)/2).
        double rho = 1460;
        double t3 = 1.0 / 3;
        double t2 = (1 + rho * t3) / 2;
        double t1 = 1 + rho * t2;
        double mttdlYears = (t1 + t2 + t3) * 1460 / 365.25;
        ReplicaDurabilityModel model = ReplicaDurabilityModel.of(3, Duration.ofDays(1460), Duration.ofDays(1));

        Durability annual = model.annualDurability();

        assertThat(annual.mttdlYears()).isCloseTo(mttdlYears, within(mttdlYears * 1e-12));
        assertThat(annual.lossProbability()).isCloseTo(-Math.expm1(-1 / mttdlYears), within(1e-18));
        assertThat(annual.nines()).isCloseTo(-Math.log10(-Math.expm1(-1 / mttdlYears)), within(1e-9));
        assertThat(annual.nines()).isBetween(6.0, 6.3);
        assertThat(annual.period()).isEqualTo(Duration.ofHours(8766));
    }

    @Test
    void exponentialApproximationOverstatesLossSlightlyWhenRepairIsFast() {
        ReplicaDurabilityModel model = ReplicaDurabilityModel.of(3, Duration.ofDays(1460), Duration.ofDays(1));

        double exact = model.exactLossProbability(ReplicaDurabilityModel.YEAR);
        double approximate = model.annualDurability().lossProbability();

        // Relative gap ≈ (R − 1) · MTTR / t = 2/365: the chain starts with every copy live.
        assertThat(approximate / exact - 1).isBetween(0.0, 3.0 / 365);
    }

    @Test
    void exactLossMatchesTheTwoReplicaTransientSolutionWhenRepairIsSlow() {
        // MTTR a quarter of the period: the exponential approximation is off by about 11% here.
        double lambda = 1.0 / 365;
        double mu = 1.0 / 90;
        double t = 365.25;
        // Survival from the all-live state is (s1 e^{s2 t} − s2 e^{s1 t}) / (s1 − s2), where s1, s2
        // are the roots of s² + (3λ + μ) s + 2λ² = 0 (the eigenvalues of the transient generator).
        double b = 3 * lambda + mu;
        double root = Math.sqrt(b * b - 8 * lambda * lambda);
        double s1 = (-b + root) / 2;
        double s2 = (-b - root) / 2;
        double survival = (s1 * Math.exp(s2 * t) - s2 * Math.exp(s1 * t)) / (s1 - s2);
        ReplicaDurabilityModel model = ReplicaDurabilityModel.of(2, Duration.ofDays(365), Duration.ofDays(90));

        double exact = model.exactLossProbability(ReplicaDurabilityModel.YEAR);

        assertThat(exact).isCloseTo(1 - survival, within(1e-12));
        assertThat(model.annualDurability().lossProbability() / exact - 1).isGreaterThan(0.05);
    }

    @Test
    void ninesStayFiniteWhenTheLossProbabilityUnderflows() {
        ReplicaDurabilityModel extreme = ReplicaDurabilityModel.of(100, Duration.ofDays(3650), Duration.ofMinutes(1));

        Durability annual = extreme.annualDurability();

        assertThat(annual.lossProbability()).isZero();
        assertThat(annual.nines()).isFinite().isGreaterThan(300);
        assertThat(annual.durability()).isEqualTo(1.0);
    }

    @Test
    void exactLossRefusesPeriodsOfTooManyRepairTimes() {
        ReplicaDurabilityModel model = ReplicaDurabilityModel.of(3, Duration.ofDays(1460), Duration.ofMillis(100));

        assertThatThrownBy(() -> model.exactLossProbability(ReplicaDurabilityModel.YEAR))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("use durabilityOver(period)");
    }

    @Test
    void rendersTheFiguresAPersonReads() {
        ReplicaDurabilityModel mirror = ReplicaDurabilityModel.of(2, Duration.ofHours(1000), Duration.ofHours(10));

        assertThat(mirror.durabilityOver(Duration.ofDays(1)).toString())
                .isEqualTo("Durability[PT24H: loss 0.000466 (3.33 nines), MTTDL 5.87 years]");
    }

    @Test
    void rejectsInvalidArgumentsNamingThem() {
        assertThatThrownBy(() -> ReplicaDurabilityModel.of(0, Duration.ofDays(1), Duration.ofHours(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("replicas must be at least 1, got 0");
        assertThatThrownBy(() -> ReplicaDurabilityModel.of(3, Duration.ofDays(-1), Duration.ofHours(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("replicaMttf must be a positive duration, got PT-24H");
        assertThatThrownBy(() -> ReplicaDurabilityModel.of(3, Duration.ofDays(1), Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("repairTime must be a positive duration, got PT0S");
        assertThatThrownBy(() -> ReplicaDurabilityModel.of(3, Duration.ofDays(1), Duration.ofHours(1)).withRepairPolicy(null))
                .isInstanceOf(NullPointerException.class).hasMessage("repairPolicy");
        assertThatThrownBy(() -> ReplicaDurabilityModel.of(3, Duration.ofDays(1), Duration.ofHours(1)).durabilityOver(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("period must be a positive duration, got PT0S");
        assertThatThrownBy(() -> new Durability(Duration.ofDays(1), 2.0, 0.0, 1.0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lossProbability");
    }
}
