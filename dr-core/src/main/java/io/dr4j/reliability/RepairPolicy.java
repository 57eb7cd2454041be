package io.dr4j.reliability;

/**
 * How lost replicas are rebuilt in a {@link ReplicaDurabilityModel}; each rebuild takes an
 * exponentially distributed time with the model's mean repair time (MTTR).
 *
 * <p>Thread-safe (an enum).
 */
public enum RepairPolicy {

    /**
     * One replica is rebuilt at a time (a single repair crew or a serialised re-replication
     * queue): with {@code j} replicas missing the repair rate is 1/MTTR. The conservative
     * choice, and the one the classic closed form MTTF<sup>R</sup> / (R! · MTTR<sup>R−1</sup>)
     * describes.
     */
    ONE_AT_A_TIME,

    /**
     * Every missing replica is rebuilt independently and at once (each store re-replicates on
     * its own): with {@code j} replicas missing the repair rate is j/MTTR. Gives an MTTDL
     * (R−1)! times longer than {@link #ONE_AT_A_TIME} when MTTR ≪ MTTF; the closed form is
     * MTTF<sup>R</sup> / (R · MTTR<sup>R−1</sup>).
     */
    PARALLEL;

    /** Repair rate, in units of 1/MTTR, when {@code missing} replicas are being rebuilt. */
    double repairRateMultiple(int missing) {
        if (missing <= 0) {
            return 0.0;
        }
        return this == ONE_AT_A_TIME ? 1.0 : missing;
    }
}
