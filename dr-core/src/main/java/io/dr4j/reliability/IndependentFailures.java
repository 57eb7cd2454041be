package io.dr4j.reliability;

/**
 * {@code count} components (replicas, zones, regions) that each fail within the same period
 * with probability {@code failureProbability}, independently of each other.
 *
 * <p>The two figures that are easy to confuse are both here, under names that say what they
 * are. For three replicas that each fail with probability 0.01:
 * <ul>
 *   <li>{@link #allFail()} = p<sup>N</sup> = 1e-6 — the data or service is lost only if every
 *       replica fails, so for a system that survives while one replica survives this is the
 *       system's failure probability;
 *   <li>{@link #atLeastOneFails()} = 1 − (1 − p)<sup>N</sup> ≈ 0.0297 — the probability that
 *       an operator gets paged at least once. It grows with N; it is <em>not</em> the
 *       probability that a replicated system fails, and reporting it as such understates the
 *       benefit of replication by four orders of magnitude in this example.
 * </ul>
 * Systems that need more than one survivor (a quorum of 2 of 3, say) are covered by
 * {@link #atLeastFail(int)} and {@link Availability#atLeastKOfN(int, int, Availability)}.
 *
 * <p>Assumption: failures are independent and identically likely. Correlated failures (one
 * power feed, one bad deploy, one region outage taking several replicas) break it, and then
 * p<sup>N</sup> is optimistic, often by orders of magnitude; model such a shared cause as a
 * component in series (see {@link Availability#series(Availability...)}).
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @param count the number of components, at least 1
 * @param failureProbability the probability that one component fails within the period, in [0, 1]
 */
public record IndependentFailures(int count, double failureProbability) {

    /**
     * @throws IllegalArgumentException if {@code count < 1} or {@code failureProbability} is not in [0, 1]
     */
    public IndependentFailures {
        Arguments.atLeast(count, 1, "count");
        Arguments.probability(failureProbability, "failureProbability");
    }

    /** Returns the model for {@code count} components each failing with probability {@code failureProbability}. */
    public static IndependentFailures of(int count, double failureProbability) {
        return new IndependentFailures(count, failureProbability);
    }

    /** P(every component fails) = p<sup>N</sup>. */
    public double allFail() {
        return Math.pow(failureProbability, count);
    }

    /**
     * P(at least one component fails) = 1 − (1 − p)<sup>N</sup>: how likely some repair work is,
     * not how likely the system is to fail (see the class documentation).
     */
    public double atLeastOneFails() {
        // -expm1(N log1p(-p)) keeps full precision when p is tiny, where 1 - (1-p)^N cancels.
        return -Math.expm1(count * Math.log1p(-failureProbability));
    }

    /** P(no component fails) = (1 − p)<sup>N</sup>. */
    public double noneFail() {
        return Math.exp(count * Math.log1p(-failureProbability));
    }

    /**
     * P(at least {@code k} of the components fail), from the binomial distribution.
     * {@code atLeastFail(1)} is {@link #atLeastOneFails()}, {@code atLeastFail(count)} is
     * {@link #allFail()}; a system that needs a quorum of {@code q} survivors fails with
     * probability {@code atLeastFail(count - q + 1)}.
     *
     * @throws IllegalArgumentException if {@code k} is not in [0, count]
     */
    public double atLeastFail(int k) {
        checkK(k);
        return Binomial.atLeast(k, count, failureProbability, 1.0 - failureProbability);
    }

    /**
     * P(exactly {@code k} of the components fail), from the binomial distribution.
     *
     * @throws IllegalArgumentException if {@code k} is not in [0, count]
     */
    public double exactlyFail(int k) {
        checkK(k);
        return Binomial.exactly(k, count, failureProbability, 1.0 - failureProbability);
    }

    private void checkK(int k) {
        if (k < 0 || k > count) {
            throw new IllegalArgumentException("k must be in [0, " + count + "] (the component count), got " + k);
        }
    }
}
