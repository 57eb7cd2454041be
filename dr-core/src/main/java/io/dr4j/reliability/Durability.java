package io.dr4j.reliability;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * The probability that data survives a period, as computed by a {@link ReplicaDurabilityModel}.
 *
 * <p>{@link #lossProbability()} and {@link #nines()} are the precise figures;
 * {@link #durability()} = 1 − loss rounds to 1.0 once the loss probability falls below about
 * 1e-16, which any well-replicated configuration reaches. {@code nines} is computed from the
 * model's logarithms, so it stays finite and exact even when {@code lossProbability}
 * underflows to 0.
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @param period the period the figures cover, e.g. one year
 * @param lossProbability the probability that every replica is lost at some point within the period, in [0, 1]
 * @param nines −log<sub>10</sub>(lossProbability): "eleven nines" is 11.0; non-negative, possibly infinite
 * @param mttdlYears the mean time to data loss from the all-replicas-up state, in Julian years; positive, possibly infinite
 */
public record Durability(Duration period, double lossProbability, double nines, double mttdlYears) {

    /**
     * @throws IllegalArgumentException if {@code period} is not positive, {@code lossProbability}
     *         is not in [0, 1], {@code nines} is negative or NaN, or {@code mttdlYears} is not positive
     */
    public Durability {
        Arguments.positiveSeconds(period, "period");
        Arguments.probability(lossProbability, "lossProbability");
        if (!(nines >= 0.0)) {
            throw new IllegalArgumentException("nines must be non-negative, got " + nines);
        }
        if (!(mttdlYears > 0.0)) {
            throw new IllegalArgumentException("mttdlYears must be positive, got " + mttdlYears);
        }
    }

    /** Returns 1 − {@link #lossProbability()}, the probability the data survives the period. */
    public double durability() {
        return 1.0 - lossProbability;
    }

    /** Returns e.g. {@code Durability[P1D: loss 1.23e-09 (8.91 nines), MTTDL 2.2e+06 years]}. */
    @Override
    public String toString() {
        return String.format(Locale.ROOT, "Durability[%s: loss %.3g (%.2f nines), MTTDL %.3g years]",
                Objects.toString(period), lossProbability, nines, mttdlYears);
    }
}
