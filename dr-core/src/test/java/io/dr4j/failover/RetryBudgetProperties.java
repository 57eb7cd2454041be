package io.dr4j.failover;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** Laws of the retry budget: retries never exceed their share of recent calls plus the reserve, and deposits expire. */
class RetryBudgetProperties {

    private static final long SECOND = 1_000_000_000L;

    @Property
    void retriesNeverExceedTheirShareOfRequestsPlusTheReserve(
            @ForAll @IntRange(min = 0, max = 5000) int requests,
            @ForAll @IntRange(min = 0, max = 100) int percent,
            @ForAll @IntRange(min = 0, max = 20) int minPerSecond,
            @ForAll @IntRange(min = 0, max = 9) int spreadOverSeconds) {
        long now = 7 * SECOND;
        RetryBudget budget = new RetryBudget(percent / 100.0, minPerSecond, 10 * SECOND, now);
        for (int i = 0; i < requests; i++) {
            budget.deposit(now + (spreadOverSeconds == 0 ? 0 : (long) i * spreadOverSeconds * SECOND / Math.max(1, requests)));
        }
        long end = now + spreadOverSeconds * SECOND;
        int granted = 0;
        while (budget.tryWithdraw(end)) {
            granted++;
            assertThat(granted).isLessThanOrEqualTo(requests + 10_000);
        }
        long allowed = (long) Math.floor(requests * percent / 100.0 + 1e-9) + minPerSecond * 10L;
        assertThat(granted).isLessThanOrEqualTo((int) allowed).isGreaterThanOrEqualTo((int) allowed - 1);
    }

    @Property
    void depositsExpireAfterTheTtl(@ForAll @IntRange(min = 1, max = 5000) int requests,
                                   @ForAll @IntRange(min = 0, max = 20) int minPerSecond) {
        long now = 3 * SECOND;
        RetryBudget budget = new RetryBudget(0.2, minPerSecond, 10 * SECOND, now);
        for (int i = 0; i < requests; i++) {
            budget.deposit(now);
        }
        assertThat(budget.available(now)).isEqualTo(requests / 5 + minPerSecond * 10L);
        assertThat(budget.available(now + 11 * SECOND)).isEqualTo(minPerSecond * 10L);
    }

    @Property
    void withdrawalsExpireTooSoTheReserveComesBack(@ForAll @IntRange(min = 1, max = 20) int minPerSecond) {
        long now = 0;
        RetryBudget budget = new RetryBudget(0.0, minPerSecond, 10 * SECOND, now);
        int granted = 0;
        while (budget.tryWithdraw(now)) {
            granted++;
        }
        assertThat(granted).isEqualTo(minPerSecond * 10);
        assertThat(budget.tryWithdraw(now + SECOND)).isFalse();
        assertThat(budget.tryWithdraw(now + 11 * SECOND)).isTrue();
    }
}
