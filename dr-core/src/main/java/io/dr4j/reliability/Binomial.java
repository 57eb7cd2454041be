package io.dr4j.reliability;

/**
 * Tails of the binomial distribution, summed in log space: {@code C(n, i)} overflows a double
 * for {@code n} above about 1000 and {@code p^i} underflows long before the tail itself does,
 * so each term is kept as a logarithm and the sum is a log-sum-exp. Cost is O(n); the relative
 * error is below about 1e-12 for {@code n} up to a few thousand.
 *
 * <p>Callers pass both {@code p} and {@code q = 1 - p}: when {@code p} is close to 1 its
 * complement is known more precisely than {@code 1 - p} can recover (an availability of
 * 0.999999999 is an unavailability of 1e-9 to full precision), and each tail uses whichever
 * of the two is exact. A tail without the distribution's mode is always summed directly, so a
 * tail of 1e-15 is not lost to cancellation; only a tail holding the mode (about one half or
 * more) is computed as {@code 1 - other}, where that subtraction is harmless.
 */
final class Binomial {

    private Binomial() {
    }

    /** P(X ≥ k) for X ~ Binomial(n, p), where {@code q = 1 - p}. */
    static double atLeast(int k, int n, double p, double q) {
        if (k <= 0) {
            return 1.0;
        }
        if (k > n) {
            return 0.0;
        }
        return sum(k, n, n, p, q);
    }

    /** P(X < k) for X ~ Binomial(n, p), where {@code q = 1 - p}. */
    static double fewerThan(int k, int n, double p, double q) {
        if (k <= 0) {
            return 0.0;
        }
        if (k > n) {
            return 1.0;
        }
        return sum(0, k - 1, n, p, q);
    }

    /** P(X = k) for X ~ Binomial(n, p), where {@code q = 1 - p}. */
    static double exactly(int k, int n, double p, double q) {
        if (k < 0 || k > n) {
            return 0.0;
        }
        return sum(k, k, n, p, q);
    }

    /**
     * Σ_{i=from..to} C(n,i) p^i q^(n-i). A tail that holds the mode is at least about a half
     * and is returned as 1 − (the other tail): the log-space sum has a relative error of about
     * 1e-13, tolerable on the small tail but not as an absolute error on a probability near 1.
     */
    private static double sum(int from, int to, int n, double p, double q) {
        int mode = (int) Math.min(n, Math.floor((n + 1) * p));
        if (from != to && from <= mode && mode <= to) {
            if (from == 0 && to < n) {
                return Math.max(0.0, 1.0 - logSpaceSum(to + 1, n, n, p, q));
            }
            if (to == n && from > 0) {
                return Math.max(0.0, 1.0 - logSpaceSum(0, from - 1, n, p, q));
            }
        }
        return logSpaceSum(from, to, n, p, q);
    }

    /** Σ_{i=from..to} C(n,i) p^i q^(n-i), by an online log-sum-exp over the terms. */
    private static double logSpaceSum(int from, int to, int n, double p, double q) {
        // Degenerate distributions: all the mass sits on X = 0 or X = n, and log(0) would
        // otherwise turn 0 * -inf into NaN.
        if (p == 0.0) {
            return from == 0 ? 1.0 : 0.0;
        }
        if (q == 0.0) {
            return to == n ? 1.0 : 0.0;
        }
        double logP = p < 0.5 ? Math.log(p) : Math.log1p(-q);
        double logQ = q < 0.5 ? Math.log(q) : Math.log1p(-p);
        double logChoose = 0.0; // log C(n, 0)
        for (int i = 0; i < from; i++) {
            logChoose += Math.log((double) (n - i) / (i + 1));
        }
        double max = Double.NEGATIVE_INFINITY;
        double scaled = 0.0; // Σ exp(term - max)
        for (int i = from; i <= to; i++) {
            double term = logChoose + i * logP + (n - i) * logQ;
            if (term > max) {
                scaled = scaled * Math.exp(max - term) + 1.0;
                max = term;
            } else {
                scaled += Math.exp(term - max);
            }
            logChoose += Math.log((double) (n - i) / (i + 1));
        }
        return Math.min(1.0, Math.exp(max + Math.log(scaled)));
    }
}
