package io.dr4j.failover;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** Laws of Envoy's priority spill-over as {@link Plan#distribute} implements them. */
class PlanProperties {

    @Property
    void theLoadAlwaysAddsUpToAllTheTrafficAndGoesOnlyWhereThereIsHealth(
            @ForAll @Size(min = 1, max = 6) List<@IntRange(min = 0, max = 100) Integer> healthList) {
        int[] health = healthList.stream().mapToInt(Integer::intValue).toArray();
        int total = Math.min(100, Arrays.stream(health).sum());
        if (total == 0) {
            return;
        }
        int[] load = new int[health.length];
        Plan.distribute(health, total, load);
        assertThat(Arrays.stream(load).sum()).isEqualTo(100);
        for (int i = 0; i < health.length; i++) {
            assertThat(load[i]).isNotNegative();
            if (health[i] == 0) {
                assertThat(load[i]).isZero();
            }
        }
    }

    @Property
    void aFullyHealthyLevelTakesEverythingFromTheLevelsBehindIt(
            @ForAll @Size(min = 1, max = 6) List<@IntRange(min = 0, max = 100) Integer> healthList,
            @ForAll @IntRange(min = 0, max = 5) int fullLevel) {
        int[] health = healthList.stream().mapToInt(Integer::intValue).toArray();
        if (fullLevel >= health.length) {
            return;
        }
        health[fullLevel] = 100;
        int[] load = new int[health.length];
        Plan.distribute(health, 100, load);
        for (int i = fullLevel + 1; i < health.length; i++) {
            assertThat(load[i]).isZero();
        }
    }

    @Property
    void withEnoughHealthOverallNoLevelTakesMoreThanItsHealth(
            @ForAll @Size(min = 1, max = 6) List<@IntRange(min = 0, max = 100) Integer> healthList) {
        int[] health = healthList.stream().mapToInt(Integer::intValue).toArray();
        if (Arrays.stream(health).sum() < 100) {
            return;
        }
        int[] load = new int[health.length];
        Plan.distribute(health, 100, load);
        for (int i = 0; i < health.length; i++) {
            assertThat(load[i]).isLessThanOrEqualTo(health[i]);
        }
    }

    @Property
    void moreHealthInTheFirstLevelNeverLowersItsShare(
            @ForAll @Size(min = 2, max = 6) List<@IntRange(min = 0, max = 100) Integer> healthList,
            @ForAll @IntRange(min = 1, max = 100) int gain) {
        int[] health = healthList.stream().mapToInt(Integer::intValue).toArray();
        int[] better = health.clone();
        better[0] = Math.min(100, better[0] + gain);
        int total = Math.min(100, Arrays.stream(health).sum());
        int betterTotal = Math.min(100, Arrays.stream(better).sum());
        if (total == 0) {
            return;
        }
        int[] load = new int[health.length];
        int[] betterLoad = new int[health.length];
        Plan.distribute(health, total, load);
        Plan.distribute(better, betterTotal, betterLoad);
        assertThat(betterLoad[0]).isGreaterThanOrEqualTo(load[0]);
    }
}
