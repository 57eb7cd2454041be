package io.dr4j.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStoreException;
import io.dr4j.storage.FaultInjectingBlobStore;
import io.dr4j.storage.FaultInjectingBlobStore.Corruption;
import io.dr4j.storage.FaultInjectingBlobStore.Operation;
import io.dr4j.storage.LocalBlobStore;
import io.dr4j.storage.RejectedBlobException;
import io.dr4j.storage.TransientBlobStoreException;
import io.dr4j.testing.MutableClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Replication under member faults, injected with {@link FaultInjectingBlobStore}. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ReplicatedBlobStoreFaultTest {

    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-26T00:00:00Z"));
    private final List<ReplicatedBlobStore> opened = new ArrayList<>();
    private FaultInjectingBlobStore a;
    private FaultInjectingBlobStore b;
    private FaultInjectingBlobStore c;

    @BeforeEach
    void members() throws IOException {
        wrapMembers();
    }

    @AfterEach
    void closeAll() throws IOException {
        for (ReplicatedBlobStore s : opened) {
            a.clearFaults();
            b.clearFaults();
            c.clearFaults();
            s.close();
        }
    }

    private void wrapMembers() throws IOException {
        a = new FaultInjectingBlobStore(local("a"));
        b = new FaultInjectingBlobStore(local("b"));
        c = new FaultInjectingBlobStore(local("c"));
    }

    private LocalBlobStore local(String name) throws IOException {
        return LocalBlobStore.builder(dir.resolve(name)).sync(false).build();
    }

    private ReplicatedBlobStore open(UnaryOperator<ReplicatedBlobStore.Builder> options) throws IOException {
        ReplicatedBlobStore store = options.apply(ReplicatedBlobStore.builder()
                .member("a", a).member("b", b).member("c", c)
                .repairLog(local("log"))
                .writeTimeout(Duration.ofSeconds(5))
                .clock(clock)
                .tempDirectory(dir)).build();
        opened.add(store);
        return store;
    }

    private ReplicatedBlobStore open() throws IOException {
        return open(o -> o);
    }

    private static BlobKey key(String k) {
        return BlobKey.of(k);
    }

    private static byte[] bytes(long seed, int size) {
        byte[] out = new byte[size];
        new Random(seed).nextBytes(out);
        return out;
    }

    private static Set<String> keysOf(FaultInjectingBlobStore member) throws IOException {
        try (Stream<BlobInfo> listing = member.delegate().list("")) {
            return listing.map(i -> i.key().value()).collect(Collectors.toSet());
        }
    }

    @Test
    void oneMemberDownWritesSucceedAndRepairCatchesUp() throws Exception {
        ReplicatedBlobStore store = open();
        store.put(key("doomed"), bytes(0, 10));
        assertThat(store.awaitBackground(Duration.ofSeconds(30))).isTrue();
        c.down();
        for (int i = 0; i < 8; i++) {
            store.put(key("obj/" + i), bytes(i, 1000 + i));
        }
        store.delete(key("doomed"));
        assertThat(store.awaitBackground(Duration.ofSeconds(30))).isTrue(); // c's failures may land after the quorum
        assertThat(store.status().member("c").orElseThrow().health()).isEqualTo(MemberHealth.DOWN);
        clock.advance(Duration.ofMinutes(3));

        assertThat(keysOf(c)).containsExactly("doomed");
        assertThat(store.getBytes(key("obj/5"))).isEqualTo(bytes(5, 1005));
        assertThatThrownBy(() -> store.getBytes(key("doomed"))).isInstanceOf(NoSuchFileException.class);
        ReplicationStatus status = store.status();
        MemberStatus lagging = status.member("c").orElseThrow();
        assertThat(lagging.owedWrites()).isEqualTo(9);
        assertThat(lagging.owedBytes()).isEqualTo(8 * 1000 + 28);
        assertThat(status.lag()).isEqualTo(Duration.ofMinutes(3));
        assertThat(status.member("a").orElseThrow().owedWrites()).isZero();

        c.clearFaults();
        RepairReport report = store.repair();

        assertThat(report.objectsCopied()).isEqualTo(8);
        assertThat(report.objectsDeleted()).isEqualTo(1);
        assertThat(report.complete()).isTrue();
        assertThat(keysOf(c)).isEqualTo(keysOf(a)).hasSize(8).doesNotContain("doomed");
        assertThat(c.delegate().getBytes(key("obj/7"))).isEqualTo(bytes(7, 1007));
        assertThat(store.status().fullyReplicated()).isTrue();
        assertThat(store.status().lag()).isZero();
        assertThat(store.status().member("c").orElseThrow().health()).isEqualTo(MemberHealth.HEALTHY);
        assertThat(store.verifyConsistency(ConsistencyCheck.CONTENTS).consistent()).isTrue();
    }

    @Test
    void twoMembersDownWriteFailsNamingThemAndNothingIsReportedWritten() throws Exception {
        ReplicatedBlobStore store = open();
        store.put(key("model/config"), "v1".getBytes(StandardCharsets.UTF_8));
        assertThat(store.awaitBackground(Duration.ofSeconds(30))).isTrue();
        b.down();
        c.down();

        assertThatThrownBy(() -> store.put(key("model/config"), "v2".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(TransientBlobStoreException.class)
                .hasMessageContaining("of 2 required acknowledgements (W=2 of 3 members)")
                .hasMessageContaining("b failed").hasMessageContaining("c failed")
                .hasMessageContaining("not reported written");
        assertThatThrownBy(() -> store.put(key("model/new"), new byte[] {1}))
                .isInstanceOf(BlobStoreException.class).hasMessageContaining("b failed").hasMessageContaining("c failed");
        // a may have taken the writes (it is cancelled once the quorum is lost); reads must not serve them
        assertThatThrownBy(() -> store.getBytes(key("model/config"))).isInstanceOf(IOException.class)
                .isNotInstanceOf(NoSuchFileException.class);

        b.clearFaults();
        c.clearFaults();
        // the breakers of b and c are still open, but with no better member left reads probe them
        assertThat(store.getBytes(key("model/config"))).asString(StandardCharsets.UTF_8).isEqualTo("v1");
        assertThatThrownBy(() -> store.getBytes(key("model/new"))).isInstanceOf(NoSuchFileException.class);
        assertThat(store.repair().complete()).isTrue();
        for (FaultInjectingBlobStore m : List.of(a, b, c)) {
            assertThat(m.delegate().getBytes(key("model/config"))).asString(StandardCharsets.UTF_8).isEqualTo("v1");
            assertThat(m.delegate().find(key("model/new"))).isEmpty();
        }
    }

    @Test
    void truncatingMemberIsSkippedAndReadRepaired() throws Exception {
        ReplicatedBlobStore store = open();
        byte[] data = bytes(3, 50_000);
        store.put(key("chunks/ab/cd"), data);
        assertThat(store.awaitBackground(Duration.ofSeconds(30))).isTrue();
        a.corruptReads(Corruption.TRUNCATE, k -> true);
        long putsBefore = a.calls(Operation.PUT);

        assertThat(store.getBytes(key("chunks/ab/cd"))).isEqualTo(data);
        try (InputStream in = store.get(key("chunks/ab/cd"))) {
            assertThat(in.readAllBytes()).isEqualTo(data);
        }
        assertThat(store.awaitBackground(Duration.ofSeconds(30))).isTrue();
        assertThat(a.calls(Operation.PUT)).isGreaterThan(putsBefore); // the bad member was rewritten
        a.clearFaults();
        assertThat(a.delegate().getBytes(key("chunks/ab/cd"))).isEqualTo(data);
    }

    @Test
    void corruptCopyAtRestFailsCallerVerificationAndIsRepaired() throws Exception {
        ReplicatedBlobStore store = open();
        byte[] data = bytes(4, 4096);
        store.put(key("chunks/00/11"), data);
        assertThat(store.awaitBackground(Duration.ofSeconds(30))).isTrue();
        byte[] flipped = data.clone();
        flipped[100] ^= 0x10;
        a.delegate().put(key("chunks/00/11"), flipped); // bit rot on the preferred member

        byte[] read = store.getBytesVerified(key("chunks/00/11"), bytes -> Arrays.equals(bytes, data));

        assertThat(read).isEqualTo(data);
        assertThat(store.awaitBackground(Duration.ofSeconds(30))).isTrue();
        assertThat(a.delegate().getBytes(key("chunks/00/11"))).isEqualTo(data);
    }

    @Test
    void aCopyOverTheCeilingIsReadAroundAndRepairedAndAllOverIsTooLarge() throws Exception {
        ReplicatedBlobStore store = open();
        byte[] data = bytes(7, 4096);
        store.put(key("snapshots/0011"), data);
        assertThat(store.awaitBackground(Duration.ofSeconds(30))).isTrue();
        a.delegate().put(key("snapshots/0011"), bytes(8, 1 << 20)); // a hostile (or wrong) copy on the preferred member

        List<Integer> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        assertThat(store.getBytesVerified(key("snapshots/0011"), 4096, got -> seen.add(got.length) && Arrays.equals(got, data)))
                .isEqualTo(data);
        assertThat(seen).as("copies the check saw: the 1 MiB one never reaches it").containsExactly(4096);
        assertThat(store.awaitBackground(Duration.ofSeconds(30))).isTrue();
        assertThat(a.delegate().getBytes(key("snapshots/0011"))).isEqualTo(data);
        a.delegate().put(key("snapshots/0011"), bytes(8, 1 << 20));
        assertThatThrownBy(() -> store.getBytesVerified(key("snapshots/0011"), 4096, got -> false))
                .hasMessageContaining("a holds 1048576 bytes, more than the 4096").hasMessageNotContaining("a a ");
        assertThat(store.awaitBackground(Duration.ofSeconds(30))).isTrue();

        assertThatThrownBy(() -> store.getBytesVerified(key("snapshots/0011"), 4095, got -> true))
                .isInstanceOfSatisfying(RejectedBlobException.class, e -> assertThat(e.tooLarge()).isTrue())
                .hasMessageContaining("snapshots/0011").hasMessageContaining("4095");
        assertThatThrownBy(() -> store.getBytesVerified(key("snapshots/0011"), 4096, got -> false))
                .isInstanceOfSatisfying(RejectedBlobException.class, e -> assertThat(e.tooLarge()).isFalse())
                .hasMessageContaining("failed the caller's verification");
    }

    @Test
    void replicaVerificationOutvotesABitFlippingMember() throws Exception {
        ReplicatedBlobStore store = open(o -> o.readVerification(ReadVerification.REPLICAS));
        byte[] data = bytes(5, 4096);
        store.put(key("manifest"), data);
        assertThat(store.awaitBackground(Duration.ofSeconds(30))).isTrue();
        a.corruptReads(Corruption.FLIP_BIT, k -> true);

        assertThat(store.getBytes(key("manifest"))).isEqualTo(data);
        assertThat(store.awaitBackground(Duration.ofSeconds(30))).isTrue();
        assertThat(a.calls(Operation.PUT)).isEqualTo(2); // the original put and the read repair
    }

    @Test
    void noMemberPassingVerificationIsAClearError() throws Exception {
        ReplicatedBlobStore store = open();
        store.put(key("sealed"), bytes(6, 100));
        assertThat(store.awaitBackground(Duration.ofSeconds(30))).isTrue();
        assertThatThrownBy(() -> store.getBytesVerified(key("sealed"), bytes -> false))
                .isInstanceOf(BlobStoreException.class)
                .hasMessageContaining("pass verification").hasMessageContaining("a ").hasMessageContaining("c ");
    }

    @Test
    void hangingMemberDoesNotHoldUpTheWrite() throws Exception {
        ReplicatedBlobStore store = open(o -> o.writeTimeout(Duration.ofSeconds(1)));
        c.hang(Operation.PUT);

        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> store.put(key("fast"), bytes(7, 100)));
        assertThat(store.status().member("c").orElseThrow().owedWrites()).isEqualTo(1);
        assertThat(store.getBytes(key("fast"))).isEqualTo(bytes(7, 100));

        c.clearFaults(); // the background write proceeds and pays its debt
        assertThat(store.awaitBackground(Duration.ofSeconds(30))).isTrue();
        assertThat(store.status().fullyReplicated()).isTrue();
        assertThat(c.delegate().getBytes(key("fast"))).isEqualTo(bytes(7, 100));
    }

    @Test
    void writeNeedingTheHangingMemberFailsAtTheTimeout() throws Exception {
        ReplicatedBlobStore store = open(o -> o.writeQuorum(3).writeTimeout(Duration.ofMillis(300)));
        c.hang(Operation.PUT);
        // the write timeout runs on the store's clock: move it once c holds the write
        Thread timekeeper = new Thread(() -> {
            try {
                if (c.awaitDelayedCalls(Operation.PUT, 1, Duration.ofSeconds(30))) {
                    clock.advance(Duration.ofMillis(300));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "timekeeper");
        timekeeper.start();

        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThatThrownBy(
                () -> store.put(key("slow"), bytes(8, 100)))
                .isInstanceOf(TransientBlobStoreException.class)
                .hasMessageContaining("c timed out after PT0.3S"));
    }

    @Test
    void backgroundBudgetFullMakesSlowWritesOwedInsteadOfWaiting() throws Exception {
        ReplicatedBlobStore store = open(o -> o.backgroundLimit(0, 0));
        c.hang(Operation.PUT);
        store.put(key("x"), bytes(9, 10));
        assertThat(store.awaitBackground(Duration.ofSeconds(30))).isTrue();
        assertThat(store.status().member("c").orElseThrow().owedWrites()).isEqualTo(1);
        c.clearFaults();
        assertThat(store.repair().complete()).isTrue();
        assertThat(c.delegate().getBytes(key("x"))).isEqualTo(bytes(9, 10));
    }

    @Test
    void restartBetweenFailureAndRepairStillRepairs() throws Exception {
        ReplicatedBlobStore first = open();
        c.down();
        first.put(key("ckpt/shard-1"), bytes(10, 3000));
        first.put(key("ckpt/shard-2"), bytes(11, 3000));
        first.delete(key("ckpt/shard-2"));
        // no close(): as if the process died; the repair log was written before each write returned
        wrapMembers();

        ReplicatedBlobStore second = open();
        assertThat(second.status().member("c").orElseThrow().owedWrites()).isEqualTo(2);
        RepairReport report = second.repair();

        assertThat(report.complete()).isTrue();
        assertThat(keysOf(c)).containsExactly("ckpt/shard-1");
        assertThat(c.delegate().getBytes(key("ckpt/shard-1"))).isEqualTo(bytes(10, 3000));
        assertThat(second.status().fullyReplicated()).isTrue();
    }

    @Test
    void closeAndReopenKeepsOwedWrites() throws Exception {
        ReplicatedBlobStore first = open();
        c.down();
        first.put(key("owed"), bytes(12, 10));
        c.clearFaults();
        first.close();
        opened.remove(first);
        wrapMembers();

        ReplicatedBlobStore second = open();
        assertThat(second.status().owedWrites()).isEqualTo(1);
        assertThat(second.repair().complete()).isTrue();
        assertThat(c.delegate().getBytes(key("owed"))).isEqualTo(bytes(12, 10));
    }

    @Test
    void hedgedReadAnswersFromTheNextMemberWhenThePreferredHangs() throws Exception {
        ReplicatedBlobStore store = open(o -> o.hedgeReadsAfter(Duration.ofMillis(50)));
        store.put(key("hot"), bytes(13, 500));
        a.hang(Operation.STAT, Operation.GET);

        byte[] read = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> store.getBytes(key("hot")));

        assertThat(read).isEqualTo(bytes(13, 500));
    }

    @Test
    void listingHidesObjectsAMemberOwesAndShowsTheirCurrentState() throws Exception {
        ReplicatedBlobStore store = open();
        store.put(key("l/keep"), bytes(14, 1));
        store.put(key("l/gone"), bytes(15, 1));
        assertThat(store.awaitBackground(Duration.ofSeconds(30))).isTrue();
        a.down();
        store.delete(key("l/gone"));
        store.put(key("l/new"), bytes(16, 2));
        a.clearFaults();
        a.delegate().put(key("_dr4j/not-an-object"), new byte[1]);

        try (Stream<BlobInfo> listing = store.list("")) {
            assertThat(listing.map(i -> i.key().value())).containsExactlyInAnyOrder("l/keep", "l/new");
        }
    }

    @Test
    void verifyConsistencyReportsMissingExtraAndDifferent() throws Exception {
        ReplicatedBlobStore store = open();
        store.put(key("same"), bytes(17, 10));
        store.put(key("resized"), bytes(18, 10));
        store.put(key("lost"), bytes(19, 10));
        assertThat(store.awaitBackground(Duration.ofSeconds(30))).isTrue();
        a.delegate().put(key("stray"), bytes(20, 10));
        b.delegate().delete(key("lost"));
        c.delegate().put(key("resized"), bytes(18, 11));

        ConsistencyReport report = store.verifyConsistency();

        assertThat(report.consistent()).isFalse();
        assertThat(report.keysExamined()).isEqualTo(4);
        assertThat(report.members().get("a").extra()).containsExactly(key("stray"));
        assertThat(report.members().get("b").missing()).containsExactly(key("lost"));
        assertThat(report.members().get("c").different()).containsExactly(key("resized"));
        RepairReport repaired = store.repair();
        assertThat(repaired.objectsCopied()).as(repaired.toString()).isEqualTo(4); // stray to b and c, lost to b, resized to c
        assertThat(store.verifyConsistency().consistent()).isTrue();
    }

    @Test
    void contentCheckFindsSameSizeCorruption() throws Exception {
        ReplicatedBlobStore store = open();
        byte[] data = bytes(21, 64);
        store.put(key("w"), data);
        assertThat(store.awaitBackground(Duration.ofSeconds(30))).isTrue();
        byte[] rotten = data.clone();
        rotten[0] ^= 1;
        b.delegate().put(key("w"), rotten);

        assertThat(store.verifyConsistency(ConsistencyCheck.SIZES).consistent()).isTrue();
        assertThat(store.verifyConsistency(ConsistencyCheck.CONTENTS).members().get("b").different()).containsExactly(key("w"));
        store.repair(ConsistencyCheck.CONTENTS);
        assertThat(b.delegate().getBytes(key("w"))).isEqualTo(data);
    }

    @Test
    void putIfAbsentIsArbitratedByTheFirstMember() throws Exception {
        ReplicatedBlobStore store = open();
        store.putIfAbsent(key("lock"), "me".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> store.putIfAbsent(key("lock"), "you".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(java.nio.file.FileAlreadyExistsException.class).hasMessageContaining("lock");
        assertThat(store.awaitBackground(Duration.ofSeconds(30))).isTrue();
        assertThat(c.delegate().getBytes(key("lock"))).asString(StandardCharsets.UTF_8).isEqualTo("me");
        a.down();
        assertThatThrownBy(() -> store.putIfAbsent(key("lock2"), new byte[1])).isInstanceOf(TransientBlobStoreException.class);
        assertThat(b.delegate().find(key("lock2"))).isEmpty();
    }

    @Test
    void gaugesReportLagAndHealth() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ReplicatedBlobStore store = open(o -> o.meterRegistry(registry));
        c.down();
        store.put(key("g"), bytes(22, 100));
        clock.advance(Duration.ofSeconds(42));

        assertThat(registry.get("dr4j.replication.lag").gauge().value()).isEqualTo(42.0);
        assertThat(registry.get("dr4j.replication.member.owed.bytes").tag("member", "c").gauge().value()).isEqualTo(100.0);
        assertThat(registry.get("dr4j.replication.member.owed.writes").tag("member", "a").gauge().value()).isZero();
        c.clearFaults();
        assertThat(store.awaitBackground(Duration.ofSeconds(30))).isTrue();
        store.repair();
        assertThat(registry.get("dr4j.replication.lag").gauge().value()).isZero();
    }

    @Test
    void streamPutsAboveTheMemoryThresholdAreBufferedInATemporaryFile() throws Exception {
        Path tmp = Files.createDirectories(dir.resolve("spill"));
        ReplicatedBlobStore store = open(o -> o.streamBufferInMemory(1024).tempDirectory(tmp));
        byte[] data = bytes(23, 100_000);
        store.put(key("big"), new java.io.ByteArrayInputStream(data), data.length);
        assertThat(store.getBytes(key("big"))).isEqualTo(data);
        assertThat(store.awaitBackground(Duration.ofSeconds(30))).isTrue();
        try (Stream<Path> left = Files.list(tmp)) {
            assertThat(left).isEmpty();
        }
    }

    @Test
    void scheduledRepairCatchesUpAMemberThatCameBack() throws Exception {
        ReplicatedBlobStore store = open(o -> o.repairEvery(Duration.ofMillis(20)));
        c.down();
        store.put(key("later"), bytes(24, 10));
        c.clearFaults();

        // the repairer runs on its own schedule: no latch to wait on, so await its effect
        io.dr4j.testing.Await.until("the scheduled repair caught c up", Duration.ofSeconds(30),
                () -> store.status().fullyReplicated());
        assertThat(c.delegate().getBytes(key("later"))).isEqualTo(bytes(24, 10));
    }

    @Test
    void hedgedVerifiedReadStillTriesTheHedgeWhenTheWinnerFailsVerification() throws Exception {
        ReplicatedBlobStore store = open(o -> o.hedgeReadsAfter(Duration.ofSeconds(10)));
        byte[] data = bytes(25, 300);
        store.put(key("v"), data);
        assertThat(store.awaitBackground(Duration.ofSeconds(30))).isTrue();
        a.delegate().put(key("v"), bytes(26, 300)); // a answers first (before the hedge delay) with bad bytes

        assertThat(store.getBytesVerified(key("v"), got -> Arrays.equals(got, data))).isEqualTo(data);
    }

    @Test
    void hedgedVerifiedReadAsksASlowPreferredMemberAgainWhenTheHedgesAreBad() throws Exception {
        ReplicatedBlobStore store = open(o -> o.hedgeReadsAfter(Duration.ofMillis(20)));
        byte[] data = bytes(28, 300);
        store.put(key("slow"), data);
        assertThat(store.awaitBackground(Duration.ofSeconds(30))).isTrue();
        b.delegate().put(key("slow"), bytes(29, 300));
        c.delegate().put(key("slow"), bytes(30, 300));
        // a holds the only good copy but answers late: each hedge answers first with bad bytes and
        // cancels a's read; a must still be asked to the end
        a.latency(Duration.ofMillis(300), Operation.GET, Operation.STAT);

        assertThat(store.getBytesVerified(key("slow"), got -> Arrays.equals(got, data))).isEqualTo(data);
    }

    @Test
    void interruptedWriteIsNotReportedWrittenAndStillConverges() throws Exception {
        ReplicatedBlobStore store = open(o -> o.writeTimeout(Duration.ofMinutes(1)));
        b.hang(Operation.PUT);
        c.hang(Operation.PUT);
        java.util.concurrent.atomic.AtomicReference<Throwable> outcome = new java.util.concurrent.atomic.AtomicReference<>();
        Thread writer = new Thread(() -> {
            try {
                store.put(key("interrupted"), bytes(27, 10));
            } catch (Throwable t) {
                outcome.set(t);
            }
        });
        writer.start();
        // until both hanging members were called and a holds the object (else the interrupt could
        // cancel a's write too, and the repair would rightly roll the write back instead)
        assertThat(b.awaitDelayedCalls(Operation.PUT, 1, Duration.ofSeconds(30))).isTrue();
        assertThat(c.awaitDelayedCalls(Operation.PUT, 1, Duration.ofSeconds(30))).isTrue();
        io.dr4j.testing.Await.until("a holds the object", Duration.ofSeconds(30), () -> {
            try {
                return a.delegate().find(key("interrupted")).isPresent();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertThat(a.delegate().find(key("interrupted"))).as("a took the write before the interrupt").isPresent();
        writer.interrupt();
        writer.join(TimeUnit.SECONDS.toMillis(30));

        assertThat(outcome.get()).isInstanceOf(java.io.InterruptedIOException.class).hasMessageContaining("interrupted");
        b.clearFaults();
        c.clearFaults();
        assertThat(store.repair().complete()).isTrue();
        for (FaultInjectingBlobStore m : List.of(a, b, c)) { // a took it and nobody refused it: rolled forward
            assertThat(m.delegate().getBytes(key("interrupted"))).isEqualTo(bytes(27, 10));
        }
    }

    @Test
    void reservedPrefixIsRefused() throws Exception {
        ReplicatedBlobStore store = open();
        assertThatThrownBy(() -> store.put(key("_dr4j/x"), new byte[1])).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("reserved");
    }

    @Test
    void builderRejectsBadConfiguration() {
        assertThatThrownBy(() -> ReplicatedBlobStore.builder().member("a", a).member("a", b))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("duplicate");
        assertThatThrownBy(() -> ReplicatedBlobStore.builder().member("a", a).writeQuorum(2).repairLog(b).build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("exceeds");
        assertThatThrownBy(() -> ReplicatedBlobStore.builder().member("a", a).build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("repairLog");
    }
}
