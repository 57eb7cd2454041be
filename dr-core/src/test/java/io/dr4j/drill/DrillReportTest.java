package io.dr4j.drill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dr4j.backup.SnapshotId;
import io.dr4j.drill.DrillReport.Code;
import io.dr4j.drill.DrillReport.Figures;
import io.dr4j.drill.DrillReport.Finding;
import io.dr4j.drill.DrillReport.Outcome;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class DrillReportTest {

    private static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");

    static DrillReport failed() {
        return new DrillReport("00aa11bb22cc33dd", "llama", Optional.of("eu-west"), "local:/srv/backup", Outcome.FAILED,
                List.of(new Finding(Code.CORRUPT_OBJECT, "chunks/ab/abcd: authentication failed", Optional.of("chunks/ab/abcd")),
                        Finding.of(Code.RPO_EXCEEDED, "snapshot is 2 h 0 min old")),
                Optional.of(SnapshotId.of("0123456789abcdef0123456789abcdef")), Optional.of(T0.minusSeconds(7200)), T0,
                T0.plusMillis(1500), new RecoveryObjectives.Target(Duration.ofHours(1), Duration.ofMinutes(15)),
                new Figures(Optional.of(Duration.ofHours(2)), Optional.empty(), Optional.of(Duration.ofMillis(1234)),
                        Optional.empty(), Optional.of(Duration.ofMillis(1234)), 3, 290_000, 0, 290_000));
    }

    @Test
    void jsonFollowsTheDocumentedSchema() throws Exception {
        JsonNode json = new ObjectMapper().readTree(failed().toJson());

        assertThat(json.get("schemaVersion").asInt()).isEqualTo(1);
        assertThat(json.get("outcome").asText()).isEqualTo("FAILED");
        assertThat(json.get("region").asText()).isEqualTo("eu-west");
        assertThat(json.at("/snapshot/id").asText()).isEqualTo("0123456789abcdef0123456789abcdef");
        assertThat(json.at("/snapshot/time").asText()).isEqualTo("2026-03-01T08:00:00Z");
        assertThat(json.at("/objectives/rpoMillis").asLong()).isEqualTo(3_600_000);
        assertThat(json.at("/figures/restoreMillis").asLong()).isEqualTo(1234);
        assertThat(json.at("/figures/verifyMillis").isNull()).isTrue();
        assertThat(json.at("/findings/0/object").asText()).isEqualTo("chunks/ab/abcd");
        assertThat(json.at("/findings/1/object").isNull()).isTrue();
        assertThat(json.fieldNames()).toIterable().containsExactly("schemaVersion", "drillId", "outcome", "checkpointSet",
                "region", "store", "snapshot", "startedAt", "finishedAt", "objectives", "figures", "findings");
    }

    @Test
    void textNamesTheOutcomeFiguresAndFindings() {
        String text = failed().toText();

        assertThat(text).startsWith("DR drill FAILED: llama from local:/srv/backup (region eu-west)")
                .contains("snapshot age 2 h 0 min (objective 1 h 0 min)")
                .contains("recovered in 1.2 s (objective 15 min 0 s)")
                .contains("CORRUPT_OBJECT: chunks/ab/abcd: authentication failed");
    }

    @Test
    void refusesANewerSchemaVersionAndForeignJson() {
        String newer = failed().toJson().replace("\"schemaVersion\" : 1", "\"schemaVersion\" : 2");
        assertThatThrownBy(() -> DrillReport.fromJson(newer)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("version 2");
        assertThatThrownBy(() -> DrillReport.fromJson("{\"hello\": 1}")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("schemaVersion");
        assertThatThrownBy(() -> DrillReport.fromJson("not json")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aPassedReportHasNoFindingsAndAFailedOneHasSome() {
        DrillReport r = failed();
        assertThatThrownBy(() -> new DrillReport(r.drillId(), r.checkpointSet(), r.region(), r.store(), Outcome.PASSED,
                r.findings(), r.snapshot(), r.snapshotTime(), r.startedAt(), r.finishedAt(), r.objectives(), r.figures()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new DrillReport(r.drillId(), r.checkpointSet(), r.region(), r.store(), Outcome.FAILED,
                List.of(), r.snapshot(), r.snapshotTime(), r.startedAt(), r.finishedAt(), r.objectives(), r.figures()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Property(tries = 200)
    void jsonRoundTripsEveryReport(@ForAll("reports") DrillReport report) {
        assertThat(DrillReport.fromJson(report.toJson())).isEqualTo(report);
    }

    @Provide
    Arbitrary<DrillReport> reports() {
        Arbitrary<Optional<Duration>> millis = Arbitraries.longs().between(0, 10_000_000_000L)
                .map(Duration::ofMillis).optional();
        Arbitrary<Figures> figures = Combinators.combine(millis, millis, millis, millis, millis,
                Arbitraries.longs().between(0, 1L << 40)).as((a, v, r, s, t, n) -> new Figures(a, v, r, s, t, n, n * 3, n / 7, n * 2));
        Arbitrary<Finding> finding = Combinators.combine(Arbitraries.of(Code.class),
                Arbitraries.strings().ofMaxLength(40), Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(20).optional())
                .as(Finding::new);
        Arbitrary<List<Finding>> findings = finding.list().ofMaxSize(4);
        Arbitrary<Optional<SnapshotId>> snapshot = Arbitraries.strings().withChars("0123456789abcdef").ofLength(32)
                .map(SnapshotId::of).optional();
        Arbitrary<Instant> instant = Arbitraries.longs().between(0, 4_000_000_000_000L).map(Instant::ofEpochMilli);
        return Combinators.combine(findings, snapshot, instant, figures, Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(10).optional(),
                Arbitraries.strings().ofMinLength(1).ofMaxLength(30))
                .as((fs, snap, start, fig, region, set) -> new DrillReport("id" + start.toEpochMilli(), set, region, "local:/x",
                        fs.isEmpty() ? Outcome.PASSED : Outcome.FAILED, fs, snap, snap.map(s -> start.minusSeconds(60)), start,
                        start.plusMillis(5), new RecoveryObjectives.Target(Duration.ofMinutes(5), Duration.ofMillis(1)), fig));
    }
}
