package io.dr4j.reliability;

import java.math.BigDecimal;
import java.math.MathContext;

/**
 * The replica chain's expected hitting times of state 0, by Gaussian elimination on the full
 * linear system in 80-digit decimal arithmetic, rather than the production code's
 * back-substitution in doubles: an independent oracle. (In doubles the elimination itself loses
 * digits, because the system's condition number grows like (MTTF/MTTR)^R.)
 */
final class HittingTimes {

    private static final MathContext CONTEXT = new MathContext(80);

    private HittingTimes() {
    }

    /**
     * Solves (iλ + μ_i) h_i − iλ h_{i−1} − μ_i h_{i+1} = 1 for i = 1..R with h_0 = 0, where
     * μ_i is the repair rate with R − i copies missing, and returns h_R.
     */
    static double fromAllLive(int replicas, double lambda, double mu, RepairPolicy policy) {
        int n = replicas;
        BigDecimal[][] a = new BigDecimal[n][n + 1];
        for (BigDecimal[] row : a) {
            java.util.Arrays.fill(row, BigDecimal.ZERO);
        }
        for (int i = 1; i <= n; i++) {
            BigDecimal failure = new BigDecimal(lambda).multiply(BigDecimal.valueOf(i), CONTEXT);
            BigDecimal repair = new BigDecimal(mu).multiply(BigDecimal.valueOf(policy.repairRateMultiple(n - i)), CONTEXT);
            int row = i - 1;
            a[row][row] = failure.add(repair, CONTEXT);
            if (i > 1) {
                a[row][row - 1] = failure.negate();
            }
            if (i < n) {
                a[row][row + 1] = repair.negate();
            }
            a[row][n] = BigDecimal.ONE;
        }
        for (int col = 0; col < n; col++) {
            for (int r = 0; r < n; r++) {
                if (r != col && a[r][col].signum() != 0) {
                    BigDecimal factor = a[r][col].divide(a[col][col], CONTEXT);
                    for (int c = col; c <= n; c++) {
                        a[r][c] = a[r][c].subtract(factor.multiply(a[col][c], CONTEXT), CONTEXT);
                    }
                }
            }
        }
        return a[n - 1][n].divide(a[n - 1][n - 1], CONTEXT).doubleValue();
    }
}
