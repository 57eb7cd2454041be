package io.dr4j.drill;

import static org.assertj.core.api.Assertions.assertThat;

import io.dr4j.backup.PackSubset;
import io.dr4j.backup.Repository;
import io.dr4j.backup.VerifyLevel;
import io.dr4j.drill.DrillReport.Code;
import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.InMemoryBlobStore;
import io.dr4j.testing.MutableClock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DrillVerifySubsetTest {

    @TempDir
    Path tmp;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-03-01T10:00:00Z"));

    @Test
    void aDrillVerifiesOnlyItsSliceBeforeRestoring() throws Exception {
        InMemoryBlobStore store = InMemoryBlobStore.create("mem");
        try (Repository repo = DrillFixtures.create(store, clock)) {
            repo.backup(DrillFixtures.checkpoint(tmp.resolve("ckpt"), 1));
            List<BlobKey> packs;
            try (var listing = store.list("packs")) {
                packs = listing.map(BlobInfo::key).toList();
            }
            assertThat(packs).isNotEmpty();
            BlobKey pack = packs.get(0);
            byte[] bytes = store.getBytes(pack);
            bytes[10] ^= 1;
            store.put(pack, bytes);
            int t = 2;
            int holding = (int) Long.remainderUnsigned(Long.parseUnsignedLong(pack.name().substring(0, 16), 16), t) + 1;
            int other = holding % t + 1;

            // the slice holding the damaged pack names it in the verification, before any restore
            DrillReport found = drill(repo, PackSubset.slice(holding, t));
            assertThat(found.passed()).isFalse();
            assertThat(found.findings()).anySatisfy(f -> {
                assertThat(f.code()).isEqualTo(Code.CORRUPT_OBJECT);
                assertThat(f.object()).contains(pack.value());
            });
            // another slice reads nothing of it: the verification passes and the restore finds the damage
            DrillReport missed = drill(repo, PackSubset.slice(other, t));
            assertThat(missed.passed()).isFalse();
            assertThat(missed.findings()).allSatisfy(f -> assertThat(f.object()).isEmpty());
            assertThat(missed.findings()).anySatisfy(f -> assertThat(f.code()).isEqualTo(Code.CORRUPT_OBJECT));
        }
    }

    private DrillReport drill(Repository repo, PackSubset subset) {
        return DrillRunner.builder(repo).objectives(DrillFixtures.objectives(Duration.ofHours(1), Duration.ofHours(1)))
                .scratchDirectory(tmp.resolve("scratch")).clock(clock).verifyBeforeRestore(VerifyLevel.DATA)
                .verifySubset(subset).build().run();
    }
}
