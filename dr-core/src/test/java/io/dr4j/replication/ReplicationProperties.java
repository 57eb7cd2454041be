package io.dr4j.replication;

import static org.assertj.core.api.Assertions.assertThat;

import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.FaultInjectingBlobStore;
import io.dr4j.storage.LocalBlobStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The replication law: after any sequence of puts and deletes, each issued while a random set
 * of members is down (sometimes with a process restart in between), followed by repair, every
 * member holds exactly the objects of a single reference store that applied the operations that
 * reported success.
 */
class ReplicationProperties {

    /** One step: an operation on one of a few keys, with members 0..2 down where {@code down} has their bit. */
    record Step(boolean delete, boolean restart, int key, int value, int down) {
        @Override
        public String toString() {
            return (restart ? "restart, " : "") + (delete ? "delete k" + key : "put k" + key + "=" + value)
                    + " down=" + Integer.toBinaryString(down);
        }
    }

    @Provide
    Arbitrary<List<Step>> steps() {
        Arbitrary<Step> step = Combinators.combine(
                Arbitraries.integers().between(0, 3).map(i -> i == 0),
                Arbitraries.integers().between(0, 9).map(i -> i == 0),
                Arbitraries.integers().between(0, 4),
                Arbitraries.integers().between(0, 1000),
                Arbitraries.integers().between(0, 7).map(d -> d > 3 ? 0 : d)) // half of the steps with nobody down
                .as(Step::new);
        return step.list().ofMinSize(1).ofMaxSize(25);
    }

    @Property(tries = 60, seed = "20261126")
    void membersConvergeToTheReferenceAfterRepair(@ForAll("steps") List<Step> steps) throws Exception {
        Path dir = Files.createTempDirectory("dr4j-replication-props");
        Map<String, byte[]> reference = new TreeMap<>();
        FaultInjectingBlobStore[] members = new FaultInjectingBlobStore[3];
        ReplicatedBlobStore store = null;
        List<ReplicatedBlobStore> crashed = new java.util.ArrayList<>();
        try {
            store = open(dir, members);
            for (Step s : steps) {
                if (s.restart()) {
                    // no close(): a crash; the repair log must carry what is owed
                    crashed.add(store);
                    store = open(dir, members);
                }
                for (int m = 0; m < 3; m++) {
                    members[m].clearFaults();
                    if ((s.down() & (1 << m)) != 0) {
                        members[m].down();
                    }
                }
                BlobKey key = BlobKey.of("k" + s.key());
                byte[] value = ("v" + s.value()).getBytes(StandardCharsets.UTF_8);
                try {
                    if (s.delete()) {
                        store.delete(key);
                        reference.remove(key.value());
                    } else {
                        store.put(key, value);
                        reference.put(key.value(), value);
                    }
                } catch (IOException failed) {
                    // not reported written: the reference is unchanged
                }
                assertThat(store.awaitBackground(Duration.ofSeconds(30))).isTrue();
            }
            for (FaultInjectingBlobStore m : members) {
                m.clearFaults();
            }
            RepairReport report = store.repair();

            assertThat(report.complete()).as(report.toString()).isTrue();
            for (FaultInjectingBlobStore m : members) {
                assertThat(contents(m)).as(m.name() + " after " + steps).isEqualTo(asStrings(reference));
            }
            for (Map.Entry<String, byte[]> e : reference.entrySet()) {
                assertThat(store.getBytes(BlobKey.of(e.getKey()))).isEqualTo(e.getValue());
            }
            for (int k = 0; k < 5; k++) {
                if (!reference.containsKey("k" + k)) {
                    ReplicatedBlobStore s = store;
                    BlobKey key = BlobKey.of("k" + k);
                    org.assertj.core.api.Assertions.assertThatThrownBy(() -> s.getBytes(key)).isInstanceOf(NoSuchFileException.class);
                }
            }
            assertThat(store.verifyConsistency(ConsistencyCheck.CONTENTS).consistent()).isTrue();
        } finally {
            if (store != null) {
                store.close();
            }
            for (ReplicatedBlobStore s : crashed) {
                s.close(); // only now, to release their threads; the test is over
            }
            try (Stream<Path> walk = Files.walk(dir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static ReplicatedBlobStore open(Path dir, FaultInjectingBlobStore[] members) throws IOException {
        ReplicatedBlobStore.Builder b = ReplicatedBlobStore.builder()
                .repairLog(LocalBlobStore.builder(dir.resolve("log")).sync(false).build())
                .writeTimeout(Duration.ofSeconds(30))
                .tempDirectory(dir);
        for (int m = 0; m < 3; m++) {
            members[m] = new FaultInjectingBlobStore(LocalBlobStore.builder(dir.resolve("m" + m)).sync(false).build(), m);
            b.member("m" + m, members[m]);
        }
        return b.build();
    }

    private static Map<String, String> contents(FaultInjectingBlobStore member) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<BlobInfo> listing = member.delegate().list("")) {
            for (BlobInfo info : listing.collect(Collectors.toList())) {
                out.put(info.key().value(), new String(member.delegate().getBytes(info.key()), StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    private static Map<String, String> asStrings(Map<String, byte[]> reference) {
        Map<String, String> out = new HashMap<>();
        reference.forEach((k, v) -> out.put(k, new String(v, StandardCharsets.UTF_8)));
        return new TreeMap<>(out);
    }
}
