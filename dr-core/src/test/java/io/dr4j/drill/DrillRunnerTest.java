package io.dr4j.drill;

import static io.dr4j.drill.DrillFixtures.checkpoint;
import static io.dr4j.drill.DrillFixtures.create;
import static io.dr4j.drill.DrillFixtures.objectives;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.backup.KeyProvider;
import io.dr4j.backup.Repository;
import io.dr4j.backup.Snapshot;
import io.dr4j.backup.VerifyLevel;
import io.dr4j.testing.MutableClock;
import io.dr4j.drill.DrillReport.Code;
import io.dr4j.drill.DrillReport.Outcome;
import io.dr4j.storage.FaultInjectingBlobStore;
import io.dr4j.storage.LocalBlobStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DrillRunnerTest {

    private static final Duration HOUR = Duration.ofHours(1);

    @TempDir
    Path tmp;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-03-01T10:00:00Z"));
    private Path storeRoot;
    private FaultInjectingBlobStore store;
    private Repository repo;
    private Path scratch;

    @BeforeEach
    void setUp() throws IOException {
        storeRoot = tmp.resolve("store");
        store = new FaultInjectingBlobStore(LocalBlobStore.open(storeRoot));
        repo = create(store, clock);
        scratch = tmp.resolve("scratch");
    }

    @AfterEach
    void tearDown() throws IOException {
        repo.close();
        store.close();
    }

    private Snapshot backup(long seed) throws IOException {
        return repo.backup(checkpoint(tmp.resolve("ckpt"), seed));
    }

    private DrillRunner.Builder runner(Duration rpo, Duration rto) {
        return DrillRunner.builder(repo).objectives(objectives(rpo, rto)).scratchDirectory(scratch).clock(clock);
    }

    @Test
    void passesWhenTheLatestSnapshotRestoresIntactWithinTheObjectives() throws IOException {
        backup(1);
        clock.advance(Duration.ofMinutes(5));
        Snapshot latest = backup(2);
        List<byte[]> seen = new ArrayList<>();

        DrillReport report = runner(HOUR, HOUR)
                .smokeCheck(dir -> seen.add(Files.readAllBytes(dir.resolve("shards/model-00001.safetensors"))))
                .build().run();

        assertThat(report.outcome()).isEqualTo(Outcome.PASSED);
        assertThat(report.findings()).isEmpty();
        assertThat(report.snapshot()).contains(latest.id());
        assertThat(report.store()).isEqualTo(store.name());
        assertThat(report.figures().files()).isEqualTo(3);
        assertThat(report.figures().bytesRestored()).isEqualTo(latest.totalBytes());
        assertThat(report.figures().snapshotAge()).contains(Duration.ZERO);
        assertThat(seen).singleElement().satisfies(bytes -> assertThat(bytes)
                .isEqualTo(Files.readAllBytes(tmp.resolve("ckpt/shards/model-00001.safetensors"))));
        assertThat(scratchContents()).as("scratch copy removed").isEmpty();
    }

    @Test
    void failsWithNoSnapshotWhenNothingWasBackedUpYet() {
        DrillReport report = runner(HOUR, HOUR).build().run();

        assertThat(report.outcome()).isEqualTo(Outcome.FAILED);
        assertThat(report.findings()).singleElement().satisfies(f -> {
            assertThat(f.code()).isEqualTo(Code.NO_SNAPSHOT);
            assertThat(f.message()).contains("test-model");
        });
        assertThat(report.snapshot()).isEmpty();
    }

    @Test
    void failsWithNoSnapshotWhenTheStoreHoldsNoRepository() throws IOException {
        try (LocalBlobStore empty = LocalBlobStore.open(tmp.resolve("empty"))) {
            DrillReport report = DrillRunner.builder(empty, DrillFixtures.key()).repositoryOptions(DrillFixtures.options(clock))
                    .objectives(objectives(HOUR, HOUR)).scratchDirectory(scratch).clock(clock).build().run();

            assertThat(report.findings()).singleElement().satisfies(f -> {
                assertThat(f.code()).isEqualTo(Code.NO_SNAPSHOT);
                assertThat(f.message()).contains("no dr4j repository");
            });
        }
    }

    @Test
    void failsWithStoreUnreachableWhenTheStoreIsDown() throws IOException {
        backup(1);
        store.down();

        DrillReport report = runner(HOUR, HOUR).build().run();

        assertThat(report.outcome()).isEqualTo(Outcome.FAILED);
        assertThat(report.findings()).singleElement().satisfies(f -> {
            assertThat(f.code()).isEqualTo(Code.STORE_UNREACHABLE);
            assertThat(f.message()).contains(store.name());
        });
    }

    @Test
    void reportsAnUnreachableStoreWhenOpeningTheRepositoryFails() throws IOException {
        backup(1);
        store.down();

        DrillReport report = DrillRunner.builder(store, DrillFixtures.key())
                .repositoryOptions(DrillFixtures.options(clock))
                .objectives(objectives(HOUR, HOUR)).scratchDirectory(scratch).clock(clock).build().run();

        assertThat(report.findings()).extracting(DrillReport.Finding::code).containsExactly(Code.STORE_UNREACHABLE);
    }

    @Test
    void failsWithWrongKeyBeforeReadingAnySnapshot() throws IOException {
        backup(1);
        byte[] other = new byte[32];
        Arrays.fill(other, (byte) 1);

        DrillReport report = DrillRunner.builder(store, KeyProvider.rawKey(other))
                .repositoryOptions(DrillFixtures.options(clock))
                .objectives(objectives(HOUR, HOUR)).scratchDirectory(scratch).clock(clock).build().run();

        assertThat(report.findings()).extracting(DrillReport.Finding::code).containsExactly(Code.WRONG_KEY);
    }

    @Test
    void failsNamingTheCorruptChunk() throws IOException {
        backup(1);
        String damaged = corruptOneChunk();

        DrillReport report = runner(HOUR, HOUR).build().run();

        assertThat(report.outcome()).isEqualTo(Outcome.FAILED);
        assertThat(report.findings()).isNotEmpty().allSatisfy(f -> assertThat(f.code()).isEqualTo(Code.CORRUPT_OBJECT));
        assertThat(report.findings()).anySatisfy(f -> {
            assertThat(f.object()).contains(damaged);
            // which file the damaged chunk belongs to depends on the repository's random chunk-id key
            assertThat(f.message()).contains(damaged)
                    .containsPattern("needed by (shards/model-0000[12]\\.safetensors|config\\.json)");
        });
        assertThat(report.figures().restoreTime()).as("no recovery time for a failed restore").isEmpty();
        assertThat(scratchContents()).isEmpty();
    }

    @Test
    void namesTheCorruptChunkWhenVerifyingBeforeTheRestore() throws IOException {
        backup(1);
        String damaged = corruptOneChunk();

        DrillReport report = runner(HOUR, HOUR).verifyBeforeRestore(VerifyLevel.DATA).build().run();

        assertThat(report.findings()).singleElement().satisfies(f -> assertThat(f.object()).contains(damaged));
        assertThat(report.figures().verifyTime()).isPresent();
        assertThat(report.figures().restoreTime()).isEmpty();
    }

    @Test
    void failsWhenRecoveryTakesLongerThanTheRtoWithTheMeasuredTime() throws IOException {
        backup(1);

        DrillReport report = runner(HOUR, Duration.ofMinutes(1))
                .smokeCheck(dir -> clock.advance(Duration.ofSeconds(125)))
                .build().run();

        assertThat(report.outcome()).isEqualTo(Outcome.FAILED);
        assertThat(report.figures().recoveryTime()).contains(Duration.ofSeconds(125));
        assertThat(report.findings()).singleElement().satisfies(f -> {
            assertThat(f.code()).isEqualTo(Code.RTO_EXCEEDED);
            assertThat(f.message()).contains("2 min 5 s").contains("1 min 0 s");
        });
    }

    @Test
    void failsBeforeRestoringWhenScratchSpaceIsTooSmall() throws IOException {
        Snapshot s = backup(1);
        long getsBefore = store.calls(FaultInjectingBlobStore.Operation.GET);

        DrillReport report = runner(HOUR, HOUR).spaceProbe(dir -> s.totalBytes() - 1).build().run();

        assertThat(report.findings()).singleElement().satisfies(f -> {
            assertThat(f.code()).isEqualTo(Code.SCRATCH_TOO_SMALL);
            assertThat(f.message()).contains(scratch.toString()).contains(s.totalBytes() + " bytes");
        });
        assertThat(report.figures().restoreTime()).isEmpty();
        long chunkReads = store.calls(FaultInjectingBlobStore.Operation.GET) - getsBefore;
        assertThat(chunkReads).as("only manifests were read, no chunk").isLessThanOrEqualTo(2);
        assertThat(scratchContents()).isEmpty();
    }

    @Test
    void failsWhenTheNewestSnapshotIsOlderThanTheRpo() throws IOException {
        backup(1);
        clock.advance(Duration.ofMinutes(90));

        DrillReport report = runner(HOUR, HOUR).build().run();

        assertThat(report.findings()).singleElement().satisfies(f -> {
            assertThat(f.code()).isEqualTo(Code.RPO_EXCEEDED);
            assertThat(f.message()).contains("1 h 30 min");
        });
        assertThat(report.figures().restoreTime()).as("the restore is still drilled").isPresent();
    }

    @Test
    void regionalObjectivesApplyToARunnerOfThatRegion() throws IOException {
        backup(1);
        clock.advance(Duration.ofMinutes(90));
        RecoveryObjectives objectives = RecoveryObjectives.builder("test-model").rpo(HOUR).rto(HOUR)
                .region("dr-site", Duration.ofHours(4), HOUR).build();

        DrillReport report = DrillRunner.builder(repo).objectives(objectives).region("dr-site").scratchDirectory(scratch)
                .clock(clock).build().run();

        assertThat(report.passed()).isTrue();
        assertThat(report.region()).contains("dr-site");
        assertThat(report.objectives().rpo()).isEqualTo(Duration.ofHours(4));
    }

    @Test
    void failsWhenTheSmokeCheckThrows() throws IOException {
        backup(1);

        DrillReport report = runner(HOUR, HOUR).smokeCheck(dir -> {
            throw new IllegalStateException("model did not load");
        }).build().run();

        assertThat(report.findings()).singleElement().satisfies(f -> {
            assertThat(f.code()).isEqualTo(Code.SMOKE_CHECK_FAILED);
            assertThat(f.message()).contains("model did not load");
        });
        assertThat(scratchContents()).isEmpty();
    }

    @Test
    void anOverlappingDrillIsSkippedNotRunTwice() throws Exception {
        backup(1);
        CountDownLatch inSmokeCheck = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger smokeChecks = new AtomicInteger();
        List<DrillReport> published = new java.util.concurrent.CopyOnWriteArrayList<>();
        DrillRunner runner = runner(HOUR, HOUR).listener(published::add).smokeCheck(dir -> {
            smokeChecks.incrementAndGet();
            inSmokeCheck.countDown();
            assertThat(release.await(30, TimeUnit.SECONDS)).isTrue();
        }).build();

        CompletableFuture<DrillReport> first = CompletableFuture.supplyAsync(runner::run);
        assertThat(inSmokeCheck.await(30, TimeUnit.SECONDS)).isTrue();
        DrillReport second = runner.run();
        release.countDown();

        assertThat(second.outcome()).isEqualTo(Outcome.SKIPPED);
        assertThat(second.findings()).extracting(DrillReport.Finding::code).containsExactly(Code.OVERLAPPING_DRILL);
        assertThat(first.get(30, TimeUnit.SECONDS).outcome()).isEqualTo(Outcome.PASSED);
        assertThat(smokeChecks).hasValue(1);
        assertThat(published).extracting(DrillReport::outcome).containsExactlyInAnyOrder(Outcome.SKIPPED, Outcome.PASSED);
        assertThat(runner.isRunning()).isFalse();
    }

    @Test
    void recordsRunsAndRecoveryTimeInTheMeterRegistry() throws IOException {
        backup(1);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        DrillRunner runner = runner(HOUR, HOUR).meterRegistry(registry).build();

        runner.run();
        store.down();
        runner.run();

        assertThat(registry.get("dr4j.drill.runs").tag("outcome", "passed").counter().count()).isEqualTo(1.0);
        assertThat(registry.get("dr4j.drill.runs").tag("outcome", "failed").counter().count()).isEqualTo(1.0);
        assertThat(registry.get("dr4j.drill.recovery.time").timer().count()).isEqualTo(1);
    }

    @Test
    void drillsAChosenSnapshot() throws IOException {
        Snapshot old = backup(1);
        backup(2);

        DrillReport report = runner(HOUR, HOUR).build().run(old.id());

        assertThat(report.passed()).isTrue();
        assertThat(report.snapshot()).contains(old.id());
    }

    @Test
    void refusesToBuildWithoutObjectivesOrScratch() {
        assertThatThrownBy(() -> DrillRunner.builder(repo).scratchDirectory(scratch).build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("objectives");
        assertThatThrownBy(() -> DrillRunner.builder(repo).objectives(objectives(HOUR, HOUR)).build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("scratch");
    }

    /** Flips a bit in the middle of a pack, inside one chunk's sealed blob; returns the pack's key. */
    private String corruptOneChunk() throws IOException {
        Path chunk;
        try (Stream<Path> walk = Files.walk(storeRoot.resolve("packs"))) {
            chunk = walk.filter(Files::isRegularFile).sorted().findFirst().orElseThrow();
        }
        byte[] bytes = Files.readAllBytes(chunk);
        bytes[20] ^= 0x10; // inside the first blob's ciphertext (its 14-byte envelope header comes first)
        Files.write(chunk, bytes);
        return storeRoot.relativize(chunk).toString().replace('\\', '/');
    }

    private List<Path> scratchContents() throws IOException {
        if (!Files.exists(scratch)) {
            return List.of();
        }
        try (Stream<Path> list = Files.list(scratch)) {
            return list.toList();
        }
    }
}
