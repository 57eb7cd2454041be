package io.dr4j.drill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.backup.SnapshotId;
import io.dr4j.testing.MutableClock;
import io.dr4j.replication.ReplicatedBlobStore;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.FaultInjectingBlobStore;
import io.dr4j.storage.LocalBlobStore;
import java.nio.file.Path;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecoveryPointMonitorTest {

    private static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");

    private final MutableClock clock = new MutableClock(T0);
    private final AtomicReference<Duration> lag = new AtomicReference<>(Duration.ZERO);
    private final List<RecoveryPoint> alerts = new ArrayList<>();
    private final List<RecoveryPoint> recoveries = new ArrayList<>();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final RecoveryPointMonitor monitor = RecoveryPointMonitor
            .builder(DrillFixtures.objectives(Duration.ofHours(1), Duration.ofMinutes(10)))
            .store("primary").store("dr-site", lag::get).clock(clock).meterRegistry(registry)
            .onExceeded(alerts::add).onRecovered(recoveries::add).build();

    @Test
    void currentRpoIsTheAgeOfTheNewestVerifiedSnapshotPlusReplicationLag() {
        monitor.recordVerified("dr-site", T0.minus(Duration.ofMinutes(20)));
        monitor.recordVerified("dr-site", T0.minus(Duration.ofMinutes(50)));
        lag.set(Duration.ofMinutes(5));

        RecoveryPoint p = monitor.current("dr-site");

        assertThat(p.current()).contains(Duration.ofMinutes(25));
        assertThat(p.newestVerifiedSnapshot()).contains(T0.minus(Duration.ofMinutes(20)));
        assertThat(p.replicationLag()).isEqualTo(Duration.ofMinutes(5));
        assertThat(p.exceeded()).isFalse();
        assertThat(registry.get("dr4j.rpo.current").tag("store", "dr-site").gauge().value()).isEqualTo(1500.0);
        assertThat(registry.get("dr4j.rpo.objective").tag("store", "dr-site").gauge().value()).isEqualTo(3600.0);
    }

    @Test
    void anUnverifiedStoreCountsAsExceedingAndItsGaugeIsNaN() {
        assertThat(monitor.current("primary").current()).isEmpty();
        assertThat(monitor.current("primary").exceeded()).isTrue();
        assertThat(registry.get("dr4j.rpo.current").tag("store", "primary").gauge().value()).isNaN();
    }

    @Test
    void alertsOnceWhenTheObjectiveIsExceededAndOnceWhenItRecovers() {
        monitor.recordVerified("primary", T0);
        monitor.recordVerified("dr-site", T0);
        monitor.check();
        assertThat(alerts).isEmpty();

        clock.advance(Duration.ofMinutes(61));
        monitor.check();
        monitor.check();
        assertThat(alerts).extracting(RecoveryPoint::store).containsExactly("primary", "dr-site");

        monitor.recordVerified("primary", clock.instant());
        monitor.check();
        assertThat(recoveries).extracting(RecoveryPoint::store).containsExactly("primary");
        assertThat(alerts).hasSize(2);
    }

    @Test
    void replicationLagAloneCanExceedTheObjective() {
        monitor.recordVerified("primary", T0);
        monitor.recordVerified("dr-site", T0);
        lag.set(Duration.ofMinutes(90));

        assertThat(monitor.check()).filteredOn(RecoveryPoint::exceeded).extracting(RecoveryPoint::store)
                .containsExactly("dr-site");
        assertThat(alerts).singleElement().satisfies(p -> assertThat(p.current()).contains(Duration.ofMinutes(90)));
    }

    @Test
    void aPassedDrillProvesItsSnapshotAndAFailedOneDoesNot() {
        DrillReport failed = DrillReportTest.failed();
        DrillReport passed = new DrillReport("x", "test-model", Optional.empty(), "primary", DrillReport.Outcome.PASSED,
                List.of(), Optional.of(SnapshotId.of("0123456789abcdef0123456789abcdef")),
                Optional.of(T0.minusSeconds(600)), T0, T0, failed.objectives(), DrillReport.Figures.NONE);

        monitor.record(new DrillReport("y", "test-model", Optional.empty(), "primary", DrillReport.Outcome.FAILED,
                failed.findings(), passed.snapshot(), Optional.of(T0), T0, T0, failed.objectives(), DrillReport.Figures.NONE));
        assertThat(monitor.current("primary").current()).isEmpty();

        monitor.record(passed);
        assertThat(monitor.current("primary").current()).contains(Duration.ofMinutes(10));
    }

    @Test
    void aReplicatedStoresLagIsAddedToItsRecoveryPoint(@TempDir Path tmp) throws Exception {
        FaultInjectingBlobStore standby = new FaultInjectingBlobStore(LocalBlobStore.open(tmp.resolve("standby")));
        try (ReplicatedBlobStore replicated = ReplicatedBlobStore.builder()
                .member("primary", LocalBlobStore.open(tmp.resolve("primary")))
                .member("standby", standby)
                .writeQuorum(1).clock(clock).repairLog(LocalBlobStore.open(tmp.resolve("log"))).build()) {
            RecoveryPointMonitor replicatedMonitor = RecoveryPointMonitor
                    .builder(DrillFixtures.objectives(Duration.ofHours(1), Duration.ofMinutes(10)))
                    .store(replicated).clock(clock).build();
            replicatedMonitor.recordVerified(replicated.name(), T0);
            standby.down();
            replicated.put(BlobKey.of("chunks/aa/one"), new byte[] {1, 2, 3});
            assertThat(replicated.awaitBackground(Duration.ofSeconds(30))).isTrue();

            clock.advance(Duration.ofMinutes(20));

            RecoveryPoint p = replicatedMonitor.current(replicated.name());
            assertThat(p.replicationLag()).isEqualTo(Duration.ofMinutes(20));
            assertThat(p.current()).contains(Duration.ofMinutes(40));
        }
    }

    @Test
    void refusesUnknownStores() {
        assertThatThrownBy(() -> monitor.current("elsewhere")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("elsewhere");
    }
}
