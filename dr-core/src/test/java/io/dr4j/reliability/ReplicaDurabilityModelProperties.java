package io.dr4j.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

class ReplicaDurabilityModelProperties {

    private static final double HOURS_PER_YEAR = 365.25 * 24;

    /** 100 hours (a flaky VM) to 1,000,000 hours (a premium disk). */
    @Provide
    Arbitrary<Double> mttfHours() {
        return ProbabilityArbitraries.logUniform(2, 6);
    }

    /** Six minutes to a hundred days. */
    @Provide
    Arbitrary<Double> mttrHours() {
        return ProbabilityArbitraries.logUniform(-1, Math.log10(2400));
    }

    /** An hour to ten years. */
    @Provide
    Arbitrary<Double> periodHours() {
        return ProbabilityArbitraries.logUniform(0, Math.log10(10 * HOURS_PER_YEAR));
    }

    /** A hundred hours to ten years. */
    @Provide
    Arbitrary<Double> longPeriodHours() {
        return ProbabilityArbitraries.logUniform(2, Math.log10(10 * HOURS_PER_YEAR));
    }

    /** Keeps the exact solution's cost (about period / MTTR steps) small. */
    @Provide
    Arbitrary<Double> repairsPerPeriod() {
        return ProbabilityArbitraries.logUniform(-4, Math.log10(0.05));
    }

    @Provide
    Arbitrary<Double> fractions() {
        return ProbabilityArbitraries.logUniform(-6, -2);
    }

    @Property(seed = "8")
    void figuresAreProbabilitiesAndNinesAreNonNegative(@ForAll @IntRange(min = 1, max = 12) int replicas,
            @ForAll("mttfHours") double mttf, @ForAll("mttrHours") double mttr, @ForAll("periodHours") double period,
            @ForAll RepairPolicy policy) {
        Durability durability = model(replicas, mttf, mttr, policy).durabilityOver(hours(period));

        assertThat(durability.lossProbability()).isBetween(0.0, 1.0);
        assertThat(durability.durability()).isBetween(0.0, 1.0);
        assertThat(durability.nines()).isGreaterThanOrEqualTo(0.0);
        assertThat(durability.mttdlYears()).isPositive();
    }

    @Property(seed = "8")
    void anotherReplicaAlwaysAddsDurability(@ForAll @IntRange(min = 1, max = 12) int replicas,
            @ForAll("mttfHours") double mttf, @ForAll("mttrHours") double mttr, @ForAll RepairPolicy policy) {
        ReplicaDurabilityModel fewer = model(replicas, mttf, mttr, policy);
        ReplicaDurabilityModel more = fewer.withReplicas(replicas + 1);

        assertThat(more.mttdlYears()).isGreaterThan(fewer.mttdlYears());
        assertThat(more.annualDurability().lossProbability()).isLessThanOrEqualTo(fewer.annualDurability().lossProbability());
        // Once a year's loss is certain to double precision, both have zero nines.
        if (fewer.annualDurability().lossProbability() < 0.999) {
            assertThat(more.annualDurability().nines()).isGreaterThan(fewer.annualDurability().nines());
        }
    }

    @Property(seed = "8")
    void slowerRepairsLoseDurability(@ForAll @IntRange(min = 2, max = 12) int replicas,
            @ForAll("mttfHours") double mttf, @ForAll("mttrHours") double mttr, @ForAll RepairPolicy policy) {
        ReplicaDurabilityModel fast = model(replicas, mttf, mttr, policy);
        ReplicaDurabilityModel slow = model(replicas, mttf, mttr * 1.5, policy);

        assertThat(slow.mttdlYears()).isLessThan(fast.mttdlYears());
        assertThat(slow.annualDurability().lossProbability()).isGreaterThanOrEqualTo(fast.annualDurability().lossProbability());
        if (slow.annualDurability().lossProbability() < 0.999) {
            assertThat(slow.annualDurability().nines()).isLessThan(fast.annualDurability().nines());
        }
    }

    @Property(seed = "8")
    void exactMttdlNeverFallsBelowTheClosedForm(@ForAll @IntRange(min = 1, max = 12) int replicas,
            @ForAll("mttfHours") double mttf, @ForAll("mttrHours") double mttr, @ForAll RepairPolicy policy) {
        ReplicaDurabilityModel model = model(replicas, mttf, mttr, policy);

        // Every term the closed form drops from the hitting-time recurrence is positive.
        assertThat(model.mttdlYears()).isGreaterThanOrEqualTo(model.closedFormMttdlYears() * (1 - 1e-12));
    }

    @Property(seed = "8")
    void exactMttdlApproachesTheClosedFormWhenRepairIsFast(@ForAll @IntRange(min = 1, max = 12) int replicas,
            @ForAll("mttfHours") double mttf, @ForAll("fractions") double mttrOverMttf, @ForAll RepairPolicy policy) {
        ReplicaDurabilityModel model = model(replicas, mttf, mttf * mttrOverMttf, policy);
        double ratio = exactHours(mttf * mttrOverMttf) / exactHours(mttf); // after rounding to seconds
        double relativeGap = model.mttdlYears() / model.closedFormMttdlYears() - 1;

        // The first dropped term is of relative order R² · MTTR / MTTF (3 · MTTR/MTTF for R = 2).
        assertThat(relativeGap).isBetween(-1e-12, (double) replicas * replicas * ratio);
    }

    @Property(seed = "8")
    void exactMttdlMatchesTheHittingTimeLinearSystem(@ForAll @IntRange(min = 1, max = 6) int replicas,
            @ForAll("mttfHours") double mttf, @ForAll("mttrHours") double mttr, @ForAll RepairPolicy policy) {
        ReplicaDurabilityModel model = model(replicas, mttf, mttr, policy);
        double solvedHours = HittingTimes.fromAllLive(replicas, 1 / exactHours(mttf), 1 / exactHours(mttr), policy);

        assertThat(model.mttdlYears() * HOURS_PER_YEAR).isCloseTo(solvedHours, within(solvedHours * 1e-11));
    }

    @Property(seed = "8", tries = 200)
    void exponentialApproximationNeverUnderstatesTheLoss(@ForAll @IntRange(min = 1, max = 6) int replicas,
            @ForAll("mttfHours") double mttf, @ForAll("mttrHours") double mttr, @ForAll("periodHours") double period,
            @ForAll RepairPolicy policy) {
        ReplicaDurabilityModel model = model(replicas, mttf, mttr, policy);
        Durability approximate = model.durabilityOver(hours(period));
        Assume.that(period < approximate.mttdlYears() * HOURS_PER_YEAR && period / mttr < 1e4);

        double exact = model.exactLossProbability(hours(period));

        // The time to loss from the all-live state is IFR (Keilson: a birth-death passage from the
        // reflecting end is a sum of exponentials), so for t < MTTDL the exponential with the
        // same mean overstates the loss: the approximation errs on the safe side.
        assertThat(approximate.lossProbability()).isGreaterThanOrEqualTo(exact * (1 - 1e-9));
    }

    @Property(seed = "8", tries = 200)
    void exponentialApproximationIsCloseWhenRepairIsFast(@ForAll @IntRange(min = 1, max = 6) int replicas,
            @ForAll("longPeriodHours") double period, @ForAll("repairsPerPeriod") double repairsPerPeriod,
            @ForAll("fractions") double repairsPerLifetime, @ForAll RepairPolicy policy) {
        double mttr = period * repairsPerPeriod;
        double mttf = mttr / repairsPerLifetime;
        ReplicaDurabilityModel model = model(replicas, mttf, mttr, policy);
        double exact = model.exactLossProbability(hours(period));
        Assume.that(exact > 0);

        double relativeGap = model.durabilityOver(hours(period)).lossProbability() / exact - 1;

        // About (R − 1) · MTTR / t: the chain starts with every copy live, so the first R − 1
        // failures' worth of repair windows pass before loss is possible at its long-run rate.
        double startDelay = (replicas - 1) * exactHours(mttr) / exactHours(period);
        double slowRepair = exactHours(mttr) / exactHours(mttf);
        // (Its sign is checked for t < MTTDL above; past the MTTDL both tend to 1 and it may flip.)
        assertThat(Math.abs(relativeGap)).isLessThanOrEqualTo(2 * startDelay + replicas * replicas * slowRepair);
    }

    @Property(seed = "8", tries = 200)
    void exactLossGrowsWithThePeriod(@ForAll @IntRange(min = 1, max = 6) int replicas,
            @ForAll("mttfHours") double mttf, @ForAll("mttrHours") double mttr, @ForAll("periodHours") double period,
            @ForAll RepairPolicy policy) {
        Assume.that(period / mttr < 1e4);
        ReplicaDurabilityModel model = model(replicas, mttf, mttr, policy);

        double shorter = model.exactLossProbability(hours(period));
        double longer = model.exactLossProbability(hours(period * 2));

        assertThat(shorter).isBetween(0.0, 1.0);
        assertThat(longer).isBetween(0.0, 1.0).isGreaterThanOrEqualTo(shorter * (1 - 1e-9));
    }

    private static ReplicaDurabilityModel model(int replicas, double mttfHours, double mttrHours, RepairPolicy policy) {
        return new ReplicaDurabilityModel(replicas, hours(mttfHours), hours(mttrHours), policy);
    }

    /** Whole seconds, so that the oracle and the model see the same numbers. */
    private static Duration hours(double hours) {
        return Duration.ofSeconds(Math.max(1, Math.round(hours * 3600)));
    }

    private static double exactHours(double hours) {
        return hours(hours).getSeconds() / 3600.0;
    }
}
