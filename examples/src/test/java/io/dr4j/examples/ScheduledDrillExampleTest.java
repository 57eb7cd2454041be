package io.dr4j.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.dr4j.drill.DrillReport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScheduledDrillExampleTest {

    @TempDir
    Path tmp;

    @Test
    void scheduledDrillsRestoreTheScheduledBackups() throws Exception {
        List<DrillReport> reports = ScheduledDrillExample.run(tmp, Duration.ofMillis(300), Duration.ofMillis(200), 2);

        assertThat(reports).hasSizeGreaterThanOrEqualTo(2).allSatisfy(r -> assertThat(r.passed()).as(r.toText()).isTrue());
    }
}
