package io.dr4j.drill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.backup.SnapshotFilter;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RecoveryObjectivesTest {

    @Test
    void regionsOverrideTheDefaultsAndOthersFallBackToThem() {
        RecoveryObjectives o = RecoveryObjectives.builder("llama").rpo(Duration.ofHours(1)).rto(Duration.ofMinutes(15))
                .region("eu-west", Duration.ofHours(4), Duration.ofMinutes(30))
                .snapshots(SnapshotFilter.ALL.andLabel("model", "llama")).build();

        assertThat(o.target(Optional.of("eu-west"))).isEqualTo(new RecoveryObjectives.Target(Duration.ofHours(4), Duration.ofMinutes(30)));
        assertThat(o.target(Optional.of("us-east"))).isEqualTo(new RecoveryObjectives.Target(Duration.ofHours(1), Duration.ofMinutes(15)));
        assertThat(o.target(Optional.empty()).rto()).isEqualTo(Duration.ofMinutes(15));
        assertThat(o.snapshots().labels()).containsEntry("model", "llama");
        assertThat(o.regions()).containsOnlyKeys("eu-west");
    }

    @Test
    void refusesMissingZeroOrNegativeObjectives() {
        assertThatThrownBy(() -> RecoveryObjectives.builder("m").rpo(Duration.ofHours(1)).build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("RTO");
        assertThatThrownBy(() -> RecoveryObjectives.builder("m").rpo(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("RPO must be positive");
        assertThatThrownBy(() -> RecoveryObjectives.builder("m").rto(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("RTO must be positive");
        assertThatThrownBy(() -> RecoveryObjectives.builder(" ")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void refusesARegionDeclaredTwice() {
        RecoveryObjectives.Builder b = RecoveryObjectives.builder("m").region("eu", Duration.ofHours(1), Duration.ofHours(1));
        assertThatThrownBy(() -> b.region("eu", Duration.ofHours(2), Duration.ofHours(2)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("eu");
    }
}
