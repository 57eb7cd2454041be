package io.dr4j.reliability;

import java.time.Duration;
import java.util.Objects;

/**
 * Durability of data kept as {@code replicas} full copies, each lost independently after an
 * exponentially distributed time with mean {@code replicaMttf}, and rebuilt from a surviving
 * copy in an exponentially distributed time with mean {@code repairTime}.
 *
 * <p><b>Model.</b> A continuous-time Markov chain (a birth–death process) whose state is the
 * number of live replicas, i = R, R−1, …, 0. From state i a replica is lost at rate i·λ
 * (λ = 1/MTTF) and one is rebuilt at rate μ<sub>i</sub>, where μ = 1/MTTR and
 * μ<sub>i</sub> = μ with {@link RepairPolicy#ONE_AT_A_TIME} (the default) or (R−i)·μ with
 * {@link RepairPolicy#PARALLEL}. State 0 is absorbing: with no copy left nothing can be
 * rebuilt. The chain starts with all R replicas live.
 *
 * <p><b>MTTDL</b> ({@link #mttdlYears()}) is the expected time to reach state 0, solved
 * exactly: with T<sub>i</sub> the expected time to go from i live replicas to i−1, the
 * hitting-time equations reduce to T<sub>R</sub> = 1/(Rλ) and
 * T<sub>i</sub> = (1 + μ<sub>i</sub> T<sub>i+1</sub>)/(iλ), and MTTDL = Σ T<sub>i</sub>. Every
 * term is positive (no cancellation) and the recurrence runs in log space, so MTTDLs far beyond
 * a double's range of years still give finite nines. The classic approximation
 * ({@link #closedFormMttdlYears()}) is its leading term when MTTR ≪ MTTF.
 *
 * <p><b>Loss within a period</b> ({@link #durabilityOver(Duration)}) is
 * P(loss by t) ≈ 1 − exp(−t / MTTDL): the time to loss is treated as exponential with the exact
 * MTTDL as its mean. It is valid when repairs are fast compared with both the period and the
 * replica lifetime (MTTR ≪ t and R·MTTR ≪ MTTF): the chain then settles within a few repair
 * times and loss arrives as a rare, memoryless event. Its only systematic error comes from the
 * start, where every copy is live and R − 1 failures must pile up before loss is possible; it
 * overstates the loss by a relative ≈ (R − 1)·MTTR / t (0.5% for three copies, one-day repairs and
 * a year), and for t below the MTTDL it never understates it (the time to loss from the all-live
 * state has an increasing failure rate). When repairs take a sizeable fraction of the period, use
 * {@link #exactLossProbability(Duration)}, which solves the chain's transient behaviour exactly.
 *
 * <p><b>Assumptions.</b> Independent replica failures (no shared region, account, key or
 * software bug), exponential lifetimes and repairs, repairs that always succeed from any
 * surviving copy, and no latent (undetected) corruption: a copy that is silently bad counts as
 * live until a scrub finds it, so the scrub interval belongs in the repair time. Correlated
 * failures dominate real data loss; treat these figures as an upper bound on durability.
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @param replicas the number of full copies, at least 1
 * @param replicaMttf the mean time until one copy is lost, positive
 * @param repairTime the mean time to rebuild one lost copy (detection plus copy), positive
 * @param repairPolicy whether lost copies are rebuilt one at a time or all at once
 */
public record ReplicaDurabilityModel(int replicas, Duration replicaMttf, Duration repairTime,
        RepairPolicy repairPolicy) {

    /** The period of {@link #annualDurability()}: one Julian year, 365.25 days. */
    public static final Duration YEAR = Duration.ofSeconds((long) Arguments.SECONDS_PER_YEAR);

    /**
     * Above this many uniformization steps (about period / MTTR) {@link #exactLossProbability}
     * refuses: the exponential approximation is then accurate anyway.
     */
    static final double MAX_EXACT_STEPS = 1e8;

    /**
     * @throws IllegalArgumentException if {@code replicas < 1} or a duration is not positive
     * @throws NullPointerException if an argument is null
     */
    public ReplicaDurabilityModel {
        Arguments.atLeast(replicas, 1, "replicas");
        Arguments.positiveSeconds(replicaMttf, "replicaMttf");
        Arguments.positiveSeconds(repairTime, "repairTime");
        Objects.requireNonNull(repairPolicy, "repairPolicy");
    }

    /** Returns the model with the default {@link RepairPolicy#ONE_AT_A_TIME} repair policy. */
    public static ReplicaDurabilityModel of(int replicas, Duration replicaMttf, Duration repairTime) {
        return new ReplicaDurabilityModel(replicas, replicaMttf, repairTime, RepairPolicy.ONE_AT_A_TIME);
    }

    /** Returns a copy of this model with {@code policy}. */
    public ReplicaDurabilityModel withRepairPolicy(RepairPolicy policy) {
        return new ReplicaDurabilityModel(replicas, replicaMttf, repairTime, policy);
    }

    /** Returns a copy of this model with {@code count} replicas. */
    public ReplicaDurabilityModel withReplicas(int count) {
        return new ReplicaDurabilityModel(count, replicaMttf, repairTime, repairPolicy);
    }

    /**
     * Returns the exact mean time to data loss of the chain, from the all-live state, in Julian
     * years; {@link Double#POSITIVE_INFINITY} if it exceeds a double's range.
     */
    public double mttdlYears() {
        return Math.exp(logMttdlSeconds()) / Arguments.SECONDS_PER_YEAR;
    }

    /**
     * Returns the classic approximation of the MTTDL, in Julian years, valid when MTTR ≪ MTTF:
     * MTTF<sup>R</sup> / (R! · MTTR<sup>R−1</sup>) for {@link RepairPolicy#ONE_AT_A_TIME} and
     * MTTF<sup>R</sup> / (R · MTTR<sup>R−1</sup>) for {@link RepairPolicy#PARALLEL}. It always
     * underestimates the exact {@link #mttdlYears()} a little; useful as a cross-check.
     */
    public double closedFormMttdlYears() {
        double logMttf = Math.log(mttfSeconds());
        double logMttr = Math.log(mttrSeconds());
        double logDivisor = 0.0;
        if (repairPolicy == RepairPolicy.ONE_AT_A_TIME) {
            for (int i = 2; i <= replicas; i++) {
                logDivisor += Math.log(i);
            }
        } else {
            logDivisor = Math.log(replicas);
        }
        return Math.exp(replicas * logMttf - logDivisor - (replicas - 1) * logMttr) / Arguments.SECONDS_PER_YEAR;
    }

    /** Returns {@code durabilityOver(YEAR)}: annual loss probability and nines. */
    public Durability annualDurability() {
        return durabilityOver(YEAR);
    }

    /**
     * Returns the probability of losing every replica within {@code period}, from the exact
     * MTTDL and the exponential approximation 1 − exp(−t / MTTDL) (see the class documentation
     * for when that approximation holds; it errs towards more loss). Costs O(R).
     *
     * @throws IllegalArgumentException if {@code period} is not positive
     */
    public Durability durabilityOver(Duration period) {
        double t = Arguments.positiveSeconds(period, "period");
        double logMttdl = logMttdlSeconds();
        double logRatio = Math.log(t) - logMttdl; // log(t / MTTDL)
        double loss = -Math.expm1(-Math.exp(logRatio));
        // Once t/MTTDL is deep in the subnormal range the loss is t/MTTDL to full precision in
        // logs but not as a double, so nines come from the logarithm.
        double nines = logRatio < -700.0 ? -logRatio / Math.log(10.0) : -Math.log10(loss);
        return new Durability(period, loss, Math.max(0.0, nines), Math.exp(logMttdl) / Arguments.SECONDS_PER_YEAR);
    }

    /**
     * Returns the probability that every replica is lost at some point within {@code period},
     * starting with all replicas live, from the chain's transient solution (uniformization:
     * a Poisson-weighted sum of the embedded discrete chain's absorption probabilities; every
     * term is non-negative, so even tiny probabilities keep their relative precision). Exact up to
     * rounding (which grows with the number of steps, about 1e-16 per step), with no assumption on
     * how MTTR compares with the period. Costs O(R · t / MTTR).
     *
     * @throws IllegalArgumentException if {@code period} is not positive, or if the computation
     *         would take more than 10<sup>8</sup> steps (period more than about 10<sup>8</sup> repair
     *         times: then {@link #durabilityOver(Duration)} is accurate)
     */
    public double exactLossProbability(Duration period) {
        // Time in units of MTTF, so that the failure rate from state i is simply i.
        double tau = Arguments.positiveSeconds(period, "period") / mttfSeconds();
        double rho = mttfSeconds() / mttrSeconds(); // repair rate in units of 1/MTTF
        int r = replicas;
        double[] down = new double[r + 1];
        double[] up = new double[r + 1];
        double uniformRate = 0.0;
        for (int i = 1; i <= r; i++) {
            down[i] = i;
            up[i] = repairPolicy.repairRateMultiple(r - i) * rho;
            uniformRate = Math.max(uniformRate, down[i] + up[i]);
        }
        double mean = uniformRate * tau;
        if (mean > MAX_EXACT_STEPS) {
            throw new IllegalArgumentException("period " + period + " spans about " + (long) mean
                    + " repair times, more than the " + (long) MAX_EXACT_STEPS
                    + " the exact solution allows; use durabilityOver(period), accurate in this regime");
        }
        double[] stay = new double[r + 1];
        for (int i = 1; i <= r; i++) {
            stay[i] = 1.0 - (down[i] + up[i]) / uniformRate;
        }
        // Poisson(mean) weights, unnormalised, relative to the weight of the mode: computing them
        // as ratios from the mode keeps their relative error near rounding even for a mean of
        // 1e8, where accumulating log-weights from exp(-mean) would lose seven digits. Weights
        // below about e^-690 of the mode's on the left are dropped; the sum is normalised at the end.
        long mode = (long) Math.floor(mean);
        long first = mode;
        double logRelative = 0.0;
        while (first > 0 && logRelative > -690.0) {
            logRelative += Math.log(first / mean); // log(w_{first-1} / w_first)
            first--;
        }
        double weight = Math.exp(logRelative);
        double[] v = new double[r + 1];
        double[] next = new double[r + 1];
        v[r] = 1.0;
        double loss = 0.0;
        double totalWeight = 0.0;
        for (long k = 0; ; k++) {
            if (k > 0) {
                step(v, next, down, up, stay, uniformRate);
                double[] swap = v;
                v = next;
                next = swap;
            }
            if (k < first) {
                continue;
            }
            if (k > first) {
                weight *= mean / k;
            }
            loss += weight * v[0];
            totalWeight += weight;
            // Past the mode the weights fall faster than geometrically; stop once the remaining
            // terms cannot change the sum (relative 1e-20 per term) or have left the double range.
            if (k > mode && (weight < loss * 1e-20 || weight < 1e-300)) {
                break;
            }
        }
        loss /= totalWeight;
        return Math.min(1.0, loss);
    }

    /** One step of the uniformized chain: next = v · (I + Q / uniformRate). */
    private static void step(double[] v, double[] next, double[] down, double[] up, double[] stay,
            double uniformRate) {
        int r = v.length - 1;
        next[0] = v[0] + (r >= 1 ? v[1] * down[1] / uniformRate : 0.0);
        for (int i = 1; i <= r; i++) {
            double fromAbove = i < r ? v[i + 1] * down[i + 1] / uniformRate : 0.0;
            double fromBelow = i > 1 ? v[i - 1] * up[i - 1] / uniformRate : 0.0;
            next[i] = v[i] * stay[i] + fromAbove + fromBelow;
        }
    }

    /** Natural log of the exact MTTDL in seconds, by the T_i recurrence in log space. */
    private double logMttdlSeconds() {
        double rho = mttfSeconds() / mttrSeconds();
        double logRho = Math.log(rho);
        // Units of MTTF (λ = 1): T_R = 1/R, T_i = (1 + μ_i T_{i+1}) / i.
        double logT = -Math.log(replicas);
        double logSum = logT;
        for (int i = replicas - 1; i >= 1; i--) {
            double logRepair = logRho + Math.log(repairPolicy.repairRateMultiple(replicas - i));
            logT = logAddExp(0.0, logRepair + logT) - Math.log(i);
            logSum = logAddExp(logSum, logT);
        }
        return Math.log(mttfSeconds()) + logSum;
    }

    private static double logAddExp(double a, double b) {
        double max = Math.max(a, b);
        return max + Math.log1p(Math.exp(Math.min(a, b) - max));
    }

    private double mttfSeconds() {
        return replicaMttf.getSeconds() + replicaMttf.getNano() / 1e9;
    }

    private double mttrSeconds() {
        return repairTime.getSeconds() + repairTime.getNano() / 1e9;
    }
}
