package io.dr4j.reliability;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;

/** Binomial tails in BigDecimal, as an independent oracle for the double-precision code. */
final class ExactBinomial {

    private static final MathContext CONTEXT = new MathContext(60);

    private ExactBinomial() {
    }

    /** P(X < k) for X ~ Binomial(n, 1 - q), with q taken exactly as the given double. */
    static double fewerThan(int k, int n, double q) {
        BigDecimal down = new BigDecimal(q);
        BigDecimal up = BigDecimal.ONE.subtract(down);
        BigDecimal sum = BigDecimal.ZERO;
        BigInteger choose = BigInteger.ONE;
        for (int i = 0; i < k; i++) {
            BigDecimal term = new BigDecimal(choose).multiply(up.pow(i, CONTEXT), CONTEXT)
                    .multiply(down.pow(n - i, CONTEXT), CONTEXT);
            sum = sum.add(term, CONTEXT);
            choose = choose.multiply(BigInteger.valueOf(n - i)).divide(BigInteger.valueOf(i + 1));
        }
        return sum.doubleValue();
    }
}
