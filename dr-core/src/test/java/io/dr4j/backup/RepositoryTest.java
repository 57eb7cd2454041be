package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.Dr4jException;
import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.FaultInjectingBlobStore;
import io.dr4j.storage.FaultInjectingBlobStore.Corruption;
import io.dr4j.storage.FaultInjectingBlobStore.FailureKind;
import io.dr4j.storage.FaultInjectingBlobStore.Operation;
import io.dr4j.storage.LocalBlobStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RepositoryTest {

    @TempDir
    Path tmp;

    LocalBlobStore local;
    FaultInjectingBlobStore store;
    Repository repo;

    @BeforeEach
    void setUp() throws IOException {
        local = LocalBlobStore.builder(tmp.resolve("repo")).sync(false).build();
        store = new FaultInjectingBlobStore(local);
        repo = TestRepos.create(store);
    }

    @AfterEach
    void tearDown() {
        repo.close();
    }

    private long bytes(String prefix) throws IOException {
        try (Stream<BlobInfo> s = local.list(prefix)) {
            return s.mapToLong(BlobInfo::size).sum();
        }
    }

    private long count(String prefix) throws IOException {
        try (Stream<BlobInfo> s = local.list(prefix)) {
            return s.count();
        }
    }

    @Test
    void backupThenRestoreReproducesTheTreeExactly() throws IOException {
        Path source = TestRepos.checkpoint(tmp.resolve("ckpt"), 1);
        Files.setPosixFilePermissions(source.resolve("tiny"), PosixFilePermissions.fromString("rwxr-x---"));
        Snapshot snapshot = repo.backup(source, BackupOptions.builder().tag("nightly").label("model", "llama").label("step", "100").build());

        assertThat(snapshot.host()).isEqualTo("test-host");
        assertThat(snapshot.tags()).containsExactly("nightly");
        assertThat(snapshot.labels()).containsEntry("model", "llama").containsEntry("step", "100");
        assertThat(snapshot.stats().files()).isEqualTo(5);
        assertThat(snapshot.stats().totalBytes()).isEqualTo(300_000 + 180_123 + Files.size(source.resolve("config.json")) + 1);
        assertThat(snapshot.stats().newChunks()).isPositive();

        Path target = tmp.resolve("restored");
        RestoreResult result = repo.restore(snapshot.id(), target, RestoreOptions.defaults());
        assertThat(TestRepos.sameTree(source, target)).isTrue();
        assertThat(result.files()).isEqualTo(5);
        assertThat(Files.getPosixFilePermissions(target.resolve("tiny"))).isEqualTo(PosixFilePermissions.fromString("rwxr-x---"));
        assertThat(Files.getLastModifiedTime(target.resolve("config.json"))).isEqualTo(Files.getLastModifiedTime(source.resolve("config.json")));
        assertThat(target.resolve("empty-dir")).isEmptyDirectory();
        try (Stream<Path> siblings = Files.list(tmp)) {
            assertThat(siblings.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains("dr4j-restore"));
        }
    }

    @Test
    void singleFileBackupRestoresIntoTheTargetDirectory() throws IOException {
        Path file = Files.write(tmp.resolve("weights.bin"), TestRepos.random(3, 100_000));
        Snapshot s = repo.backup(file);
        assertThat(s.files()).singleElement().satisfies(e -> assertThat(e.path()).isEqualTo("weights.bin"));
        repo.restore(s.id(), tmp.resolve("out"), RestoreOptions.defaults());
        assertThat(tmp.resolve("out/weights.bin")).hasSameBinaryContentAs(file);
    }

    @Test
    void identicalContentIsStoredOnce() throws IOException {
        Path source = Files.createDirectories(tmp.resolve("dups"));
        byte[] data = TestRepos.random(5, 200_000);
        Files.write(source.resolve("a"), data);
        Files.write(source.resolve("b"), data);
        Snapshot s = repo.backup(source);
        assertThat(s.stats().reusedChunks()).isGreaterThanOrEqualTo(s.stats().newChunks());
        assertThat(s.stats().newBytesStored()).isLessThan(200_000 + 50_000);
    }

    @Test
    void incrementalBackupStoresOnlyNearbyChunksAndSkipsUnchangedFiles() throws IOException {
        Path source = TestRepos.checkpoint(tmp.resolve("ckpt"), 2);
        Snapshot first = repo.backup(source);
        Path shard = source.resolve("shards/model-00001.safetensors");
        byte[] bytes = Files.readAllBytes(shard);
        byte[] patch = TestRepos.random(99, 10_000);
        System.arraycopy(patch, 0, bytes, 123_457, patch.length);
        Files.write(shard, bytes);

        Snapshot second = repo.backup(source);
        assertThat(second.parent()).contains(first.id());
        assertThat(second.stats().unchangedFiles()).isEqualTo(4);
        assertThat(second.stats().bytesRead()).isEqualTo(bytes.length);
        // a 10 KB edit with 16 KiB average chunks drags in at most a few chunks around it
        assertThat(second.stats().newBytesStored()).isLessThan(10_000 + 4 * 64 * 1024);
        assertThat(second.stats().reusedChunks()).isPositive();

        Path target = tmp.resolve("r2");
        repo.restore(second.id(), target, RestoreOptions.defaults());
        assertThat(TestRepos.sameTree(source, target)).isTrue();
        SnapshotDiff diff = repo.diff(first.id(), second.id());
        assertThat(diff.modified()).containsExactly("shards/model-00001.safetensors");
        assertThat(diff.added()).isEmpty();
        assertThat(diff.removed()).isEmpty();
        assertThat(diff.bytesAdded()).isBetween(10_000L, 10_000L + 4 * 64 * 1024);
    }

    @Test
    void rereadUnchangedReadsEverythingButStoresNothingNew() throws IOException {
        Path source = TestRepos.checkpoint(tmp.resolve("ckpt"), 3);
        repo.backup(source);
        Snapshot again = repo.backup(source, BackupOptions.builder().rereadUnchanged(true).build());
        assertThat(again.stats().unchangedFiles()).isZero();
        assertThat(again.stats().newChunks()).isZero();
        assertThat(again.stats().bytesRead()).isEqualTo(again.stats().totalBytes());
    }

    @Test
    void wrongKeyIsRefusedOnOpen() {
        byte[] other = new byte[32];
        assertThatThrownBy(() -> Repository.open(store, KeyProvider.rawKey(other), TestRepos.options()))
                .isInstanceOf(WrongKeyException.class).hasMessageContaining("wrong key");
        assertThatThrownBy(() -> Repository.open(store, KeyProvider.password("pw".toCharArray()), TestRepos.options()))
                .isInstanceOf(WrongKeyException.class).hasMessageContaining("no password key slot");
    }

    @Test
    void wrongPasswordIsRefusedAndRightOneOpens() throws IOException {
        LocalBlobStore other = LocalBlobStore.builder(tmp.resolve("pw-repo")).sync(false).build();
        Repository.init(other, KeyProvider.password("correct horse".toCharArray()), TestRepos.init(), TestRepos.options()).close();
        assertThatThrownBy(() -> Repository.open(other, KeyProvider.password("battery staple".toCharArray()), TestRepos.options()))
                .isInstanceOf(WrongKeyException.class).hasMessageContaining("wrong password");
        Repository.open(other, KeyProvider.password("correct horse".toCharArray()), TestRepos.options()).close();
    }

    @Test
    void unknownFormatVersionAndMissingRepositoryAreClearErrors() throws IOException {
        String config = new String(local.getBytes(BlobKey.of("config")), StandardCharsets.UTF_8);
        local.put(BlobKey.of("config"), config.replace("\"version\" : 2", "\"version\" : 9").getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> TestRepos.open(store)).isInstanceOf(UnsupportedFormatException.class)
                .hasMessageContaining("version 9").hasMessageContaining("upgrade");
        LocalBlobStore empty = LocalBlobStore.open(tmp.resolve("empty"));
        assertThatThrownBy(() -> TestRepos.open(empty)).isInstanceOf(UnsupportedFormatException.class)
                .hasMessageContaining("no dr4j repository");
        assertThatThrownBy(() -> TestRepos.create(store)).isInstanceOf(Dr4jException.class).hasMessageContaining("already holds");
    }

    @Test
    void tamperedConfigSettingsAreDetected() throws IOException {
        String config = new String(local.getBytes(BlobKey.of("config")), StandardCharsets.UTF_8);
        local.put(BlobKey.of("config"), config.replace("\"avgSize\" : 16384", "\"avgSize\" : 32768").getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> TestRepos.open(store)).isInstanceOf(WrongKeyException.class).hasMessageContaining("tampered");
    }

    private Snapshot backupSmall() throws IOException {
        return repo.backup(TestRepos.checkpoint(tmp.resolve("ckpt"), 4));
    }

    private BlobKey somePack() throws IOException {
        try (Stream<BlobInfo> chunks = local.list("packs")) {
            return chunks.max(java.util.Comparator.comparingLong(BlobInfo::size)).orElseThrow().key();
        }
    }

    @Test
    void bitFlippedPackFailsRestoreNamingThePackAndLeavesNoTarget() throws IOException {
        Snapshot s = backupSmall();
        BlobKey chunk = somePack();
        byte[] body = local.getBytes(chunk);
        body[body.length / 2] ^= 0x10;
        local.put(chunk, body);
        Path target = tmp.resolve("never");
        assertThatThrownBy(() -> repo.restore(s.id(), target, RestoreOptions.defaults()))
                .isInstanceOf(CorruptObjectException.class).hasMessageContaining(chunk.value())
                .hasMessageContaining("authentication");
        assertThat(target).doesNotExist();
        try (Stream<Path> siblings = Files.list(tmp)) {
            assertThat(siblings.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains("dr4j-restore"));
        }
        VerifyReport report = repo.verify(s.id(), VerifyLevel.DATA);
        assertThat(report.ok()).isFalse();
        assertThat(report.problems()).singleElement().satisfies(p -> {
            assertThat(p.object()).isEqualTo(chunk.value());
            assertThat(p.affectedFiles()).isNotEmpty();
        });
        assertThat(repo.verify(s.id(), VerifyLevel.METADATA).ok()).isTrue();
    }

    @Test
    void truncatedPackIsReportedByBothVerifyLevels() throws IOException {
        Snapshot s = backupSmall();
        BlobKey chunk = somePack();
        byte[] body = local.getBytes(chunk);
        local.put(chunk, java.util.Arrays.copyOf(body, 10));
        assertThat(repo.verify(s.id(), VerifyLevel.METADATA).problems()).singleElement()
                .satisfies(p -> assertThat(p.reason()).contains("truncated"));
        assertThatThrownBy(() -> repo.restore(s.id(), tmp.resolve("t"), RestoreOptions.defaults()))
                .isInstanceOf(CorruptObjectException.class).hasMessageContaining(chunk.value());
    }

    @Test
    void missingPackFailsRestoreAndVerify() throws IOException {
        Snapshot s = backupSmall();
        BlobKey chunk = somePack();
        local.delete(chunk);
        assertThat(repo.verify(s.id(), VerifyLevel.METADATA).problems()).singleElement()
                .satisfies(p -> assertThat(p.reason()).isEqualTo("missing"));
        assertThatThrownBy(() -> repo.restore(s.id(), tmp.resolve("t"), RestoreOptions.defaults()))
                .isInstanceOf(CorruptObjectException.class).hasMessageContaining("missing");
    }

    @Test
    void corruptReadsFromTheStoreNeverReachTheTarget() throws IOException {
        Snapshot s = backupSmall();
        store.corruptReads(Corruption.FLIP_BIT, k -> k.value().startsWith("packs/"));
        assertThatThrownBy(() -> repo.restore(s.id(), tmp.resolve("t"), RestoreOptions.defaults()))
                .isInstanceOf(CorruptObjectException.class);
        assertThat(tmp.resolve("t")).doesNotExist();
    }

    @Test
    void tamperedOrTruncatedOrSwappedManifestIsRejected() throws IOException {
        Snapshot a = backupSmall();
        Snapshot b = repo.backup(TestRepos.checkpoint(tmp.resolve("ckpt2"), 5));
        BlobKey keyA = BlobKey.of("snapshots/" + a.id());
        byte[] body = local.getBytes(keyA);

        byte[] flipped = body.clone();
        flipped[flipped.length - 20] ^= 1;
        local.put(keyA, flipped);
        assertThatThrownBy(() -> repo.snapshot(a.id())).isInstanceOf(CorruptObjectException.class)
                .hasMessageContaining(keyA.value()).hasMessageContaining("authentication");

        local.put(keyA, java.util.Arrays.copyOf(body, 20));
        assertThatThrownBy(() -> repo.restore(a.id(), tmp.resolve("t"), RestoreOptions.defaults()))
                .isInstanceOf(CorruptObjectException.class);

        local.put(keyA, local.getBytes(BlobKey.of("snapshots/" + b.id())));
        assertThatThrownBy(() -> repo.snapshot(a.id())).isInstanceOf(CorruptObjectException.class);
        assertThat(tmp.resolve("t")).doesNotExist();
    }

    @Test
    void pathsEscapingTheTargetAreRefusedBeforeAnythingIsWritten() throws IOException {
        for (String evil : List.of("../escape", "/etc/passwd", "a/../../b", "a//b", "./x", "c:\\windows", "")) {
            io.dr4j.backup.Manifest.Entry entry = new io.dr4j.backup.Manifest.Entry(
                    new SnapshotEntry(evil, SnapshotEntry.Type.DIRECTORY, 0, java.util.Optional.empty(), java.time.Instant.EPOCH,
                            java.util.Optional.empty(), 0), List.of());
            SnapshotId id = TestRepos.craftSnapshot(local, List.of(entry));
            Path target = tmp.resolve("target");
            assertThatThrownBy(() -> repo.restore(id, target, RestoreOptions.defaults())).as(evil)
                    .isInstanceOf(UnsafePathException.class).hasMessageContaining("nothing was restored");
            assertThat(target).doesNotExist();
        }
        assertThat(tmp.resolve("escape")).doesNotExist();
    }

    @Test
    void fileUsedAsDirectoryInAManifestIsRefused() throws IOException {
        var file = new io.dr4j.backup.Manifest.Entry(new SnapshotEntry("f", SnapshotEntry.Type.FILE, 0,
                java.util.Optional.empty(), java.time.Instant.EPOCH,
                java.util.Optional.of(io.dr4j.backup.Manifest.fileHash(0, List.of())), 0), List.of());
        var child = new io.dr4j.backup.Manifest.Entry(new SnapshotEntry("f/x", SnapshotEntry.Type.DIRECTORY, 0,
                java.util.Optional.empty(), java.time.Instant.EPOCH, java.util.Optional.empty(), 0), List.of());
        SnapshotId id = TestRepos.craftSnapshot(local, List.of(file, child));
        assertThatThrownBy(() -> repo.restore(id, tmp.resolve("t"), RestoreOptions.defaults()))
                .isInstanceOf(UnsafePathException.class);
    }

    @Test
    void symlinkInTheTargetIsReplacedNotFollowed() throws IOException {
        Snapshot s = backupSmall();
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Path target = Files.createDirectories(tmp.resolve("target"));
        Files.createSymbolicLink(target.resolve("shards"), outside);
        repo.restore(s.id(), target, RestoreOptions.builder().replaceExisting(true).build());
        assertThat(Files.isSymbolicLink(target.resolve("shards"))).isFalse();
        assertThat(outside).isEmptyDirectory();
    }

    @Test
    void nonEmptyTargetIsRefusedUnlessReplacing() throws IOException {
        Snapshot s = backupSmall();
        Path target = Files.createDirectories(tmp.resolve("target"));
        Files.writeString(target.resolve("keep-me"), "precious");
        assertThatThrownBy(() -> repo.restore(s.id(), target, RestoreOptions.defaults()))
                .isInstanceOf(RestoreTargetException.class).hasMessageContaining("not empty");
        assertThat(target.resolve("keep-me")).hasContent("precious");

        repo.restore(s.id(), target, RestoreOptions.builder().replaceExisting(true).build());
        assertThat(target.resolve("keep-me")).doesNotExist();
        assertThat(TestRepos.sameTree(tmp.resolve("ckpt"), target)).isTrue();
    }

    @Test
    void unwritableTargetIsAClearErrorBeforeWriting() throws IOException {
        Snapshot s = backupSmall();
        Path blocker = Files.writeString(tmp.resolve("a-file"), "x");
        assertThatThrownBy(() -> repo.restore(s.id(), blocker.resolve("target"), RestoreOptions.defaults()))
                .isInstanceOf(RestoreTargetException.class).hasMessageContaining(blocker.toString());
        assertThatThrownBy(() -> repo.restore(s.id(), blocker, RestoreOptions.defaults()))
                .isInstanceOf(RestoreTargetException.class).hasMessageContaining("not a directory");
    }

    @Test
    void deltaRestoreReusesChunksAlreadyInTheTarget() throws IOException {
        Path source = TestRepos.checkpoint(tmp.resolve("ckpt"), 6);
        Snapshot v1 = repo.backup(source);
        Path target = tmp.resolve("serving");
        repo.restore(v1.id(), target, RestoreOptions.defaults());

        Path shard = source.resolve("shards/model-00002.safetensors");
        byte[] bytes = Files.readAllBytes(shard);
        System.arraycopy(TestRepos.random(7, 5_000), 0, bytes, 90_001, 5_000);
        Files.write(shard, bytes);
        Snapshot v2 = repo.backup(source);

        RestoreResult r = repo.restore(v2.id(), target, RestoreOptions.builder().replaceExisting(true).build());
        assertThat(TestRepos.sameTree(source, target)).isTrue();
        assertThat(r.bytesReused()).isGreaterThan(r.bytes() / 2);
        assertThat(r.bytesDownloaded()).isLessThan(r.bytes() / 4);
    }

    @Test
    void transientStoreFailuresAreRetriedAndTheBackupSucceeds() throws IOException {
        store.failFraction(0.3, FailureKind.TRANSIENT, Operation.PUT, Operation.GET);
        Snapshot s = backupSmall();
        Path target = tmp.resolve("t");
        repo.restore(s.id(), target, RestoreOptions.defaults());
        store.clearFaults();
        assertThat(TestRepos.sameTree(tmp.resolve("ckpt"), target)).isTrue();
        assertThat(repo.verify(s.id(), VerifyLevel.DATA).ok()).isTrue();
    }

    @Test
    void permanentStoreFailureFailsTheBackupAndWritesNoSnapshot() throws IOException {
        store.failNthCall(3, FailureKind.PERMANENT, Operation.PUT);
        Path source = TestRepos.checkpoint(tmp.resolve("ckpt"), 8);
        assertThatThrownBy(() -> repo.backup(source)).isInstanceOf(Dr4jException.class)
                .hasMessageContaining("injected permanent failure");
        assertThat(count("snapshots")).isZero();
        assertThat(count("locks")).isZero();
        Snapshot s = repo.backup(source);
        assertThat(repo.verify(s.id(), VerifyLevel.DATA).ok()).isTrue();
    }

    @Test
    void cancelledBackupWritesNoSnapshotAndTheNextOneSucceeds() throws IOException {
        Path source = TestRepos.checkpoint(tmp.resolve("ckpt"), 9);
        CancellationToken token = new CancellationToken();
        ProgressListener cancelling = new ProgressListener() {
            @Override
            public void onProgress(long done, long total) {
                if (done > 0) {
                    token.cancel();
                }
            }
        };
        assertThatThrownBy(() -> repo.backup(source, BackupOptions.builder().progress(cancelling).cancellation(token).build()))
                .isInstanceOf(OperationCancelledException.class);
        assertThat(count("snapshots")).isZero();
        Snapshot s = repo.backup(source);
        assertThat(repo.verify(s.id(), VerifyLevel.DATA).ok()).isTrue();
    }

    @Test
    void cancelledRestoreLeavesTheTargetAsItWas() throws IOException {
        Snapshot s = backupSmall();
        Path target = Files.createDirectories(tmp.resolve("target"));
        Files.writeString(target.resolve("old"), "old model");
        CancellationToken token = new CancellationToken();
        ProgressListener cancelling = new ProgressListener() {
            @Override
            public void onProgress(long done, long total) {
                if (done > 0) {
                    token.cancel();
                }
            }
        };
        assertThatThrownBy(() -> repo.restore(s.id(), target,
                RestoreOptions.builder().replaceExisting(true).progress(cancelling).cancellation(token).build()))
                .isInstanceOf(OperationCancelledException.class);
        assertThat(TestRepos.contents(target)).containsOnlyKeys("old");
    }

    @Test
    void progressReportsAllBytes() throws IOException {
        AtomicLong last = new AtomicLong();
        AtomicLong total = new AtomicLong();
        AtomicLong files = new AtomicLong();
        ProgressListener listener = new ProgressListener() {
            @Override
            public void onProgress(long done, long all) {
                last.accumulateAndGet(done, Math::max);
                total.set(all);
            }

            @Override
            public void onFileDone(Path path, long size) {
                files.incrementAndGet();
            }
        };
        Snapshot s = repo.backup(TestRepos.checkpoint(tmp.resolve("ckpt"), 10), BackupOptions.builder().progress(listener).build());
        assertThat(last.get()).isEqualTo(total.get()).isEqualTo(s.stats().bytesRead());
        assertThat(files.get()).isEqualTo(5);
    }

    @Test
    void snapshotsCanBeFilteredResolvedAndRestoredByTag() throws IOException {
        Path source = TestRepos.checkpoint(tmp.resolve("ckpt"), 11);
        Snapshot a = repo.backup(source, BackupOptions.builder().tag("candidate").label("step", "1").build());
        Files.writeString(source.resolve("config.json"), "changed");
        Snapshot b = repo.backup(source, BackupOptions.builder().tag("release").label("step", "2").build());
        assertThat(repo.snapshots()).extracting(Snapshot::id).containsExactly(a.id(), b.id());
        assertThat(repo.latest(SnapshotFilter.withTags("candidate"))).map(Snapshot::id).contains(a.id());
        assertThat(repo.snapshots(SnapshotFilter.ALL.andLabel("step", "2"))).extracting(Snapshot::id).containsExactly(b.id());
        assertThat(repo.resolve(a.id().value().substring(0, 8))).isEqualTo(a.id());
        assertThatThrownBy(() -> repo.resolve("zz")).isInstanceOf(SnapshotNotFoundException.class);
        assertThatThrownBy(() -> repo.snapshot(SnapshotId.of("ffffffffffffffffffffffffffffffff")))
                .isInstanceOf(SnapshotNotFoundException.class);
        repo.restoreLatest(SnapshotFilter.withTags("candidate"), tmp.resolve("t"), RestoreOptions.defaults());
        assertThat(tmp.resolve("t/config.json")).content().startsWith("{");
        assertThatThrownBy(() -> repo.restoreLatest(SnapshotFilter.withTags("nope"), tmp.resolve("u"), RestoreOptions.defaults()))
                .isInstanceOf(SnapshotNotFoundException.class);
    }

    @Test
    void forgetAppliesThePolicyAndPruneReclaimsOnlyUnreferencedChunks() throws IOException {
        Path source = TestRepos.checkpoint(tmp.resolve("ckpt"), 12);
        Snapshot first = repo.backup(source);
        Files.write(source.resolve("shards/model-00001.safetensors"), TestRepos.random(1234, 300_000));
        Snapshot second = repo.backup(source);
        long packsBefore = count("packs");
        long bytesBefore = bytes("packs");

        ForgetResult dry = repo.forget(RetentionPolicy.builder().keepLast(1).build(), true);
        assertThat(dry.removed()).extracting(Snapshot::id).containsExactly(first.id());
        assertThat(count("snapshots")).isEqualTo(2);

        ForgetResult real = repo.forget(RetentionPolicy.builder().keepLast(1).build(), false);
        assertThat(real.kept()).singleElement().satisfies(k -> assertThat(k.reasons()).containsExactly("last 1"));
        assertThat(count("snapshots")).isEqualTo(1);

        PruneResult pruneDry = repo.prune(true);
        assertThat(pruneDry.deletedChunks()).isPositive();
        assertThat(count("packs")).isEqualTo(packsBefore);
        assertThat(bytes("packs")).isEqualTo(bytesBefore);
        PruneResult pruned = repo.prune(false);
        assertThat(pruned.deletedChunks()).isEqualTo(pruneDry.deletedChunks());
        assertThat(pruned.packsRepacked() + pruned.packsDeleted()).isPositive();
        assertThat(bytes("packs")).isEqualTo(bytesBefore - pruned.deletedBytes()).isLessThan(bytesBefore);
        assertThat(count("packs")).isEqualTo(packsBefore - pruned.packsDeleted() + pruned.packsWritten());
        PruneResult again = repo.prune(false);
        assertThat(again.deletedChunks()).as("a second prune finds nothing left to free").isZero();
        assertThat(repo.verify(second.id(), VerifyLevel.DATA).ok()).isTrue();
        repo.restore(second.id(), tmp.resolve("t"), RestoreOptions.defaults());
        assertThat(TestRepos.sameTree(source, tmp.resolve("t"))).isTrue();
    }

    @Test
    void pruneRespectsTheGracePeriod() throws IOException {
        repo.close();
        repo = Repository.open(store, KeyProvider.rawKey(TestRepos.RAW_KEY), RepositoryOptions.builder().noCache()
                .pruneGracePeriod(java.time.Duration.ofHours(1)).build());
        Snapshot s = backupSmall();
        repo.forget(RetentionPolicy.builder().keepTags("none").build(), false);
        PruneResult r = repo.prune(false);
        assertThat(r.deletedChunks()).isZero();
        assertThat(r.youngUnreferencedChunks()).isEqualTo(s.stats().newChunks());
    }

    private static final String OTHER_LOCK = "0123456789abcdef0123456789abcdef";

    @Test
    void pruneRefusesWhileABackupHoldsALockAndBackupRefusesDuringPrune() throws IOException {
        backupSmall();
        String now = java.time.Instant.now().toString();
        local.put(BlobKey.of("locks/" + OTHER_LOCK), ("{\"mode\":\"shared\",\"host\":\"gpu-7\",\"pid\":42,\"purpose\":\"backup\","
                + "\"created\":\"" + now + "\",\"refreshed\":\"" + now + "\"}").getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> repo.prune(false)).isInstanceOf(RepositoryLockedException.class)
                .hasMessageContaining("gpu-7").hasMessageContaining("pid 42");
        local.put(BlobKey.of("locks/" + OTHER_LOCK), ("{\"mode\":\"exclusive\",\"host\":\"ops-1\",\"pid\":7,\"purpose\":\"prune\","
                + "\"created\":\"" + now + "\",\"refreshed\":\"" + now + "\"}").getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> repo.backup(tmp.resolve("ckpt"))).isInstanceOf(RepositoryLockedException.class)
                .hasMessageContaining("ops-1");
        String old = java.time.Instant.now().minus(java.time.Duration.ofHours(2)).toString();
        local.put(BlobKey.of("locks/" + OTHER_LOCK), ("{\"mode\":\"exclusive\",\"host\":\"dead\",\"pid\":7,\"purpose\":\"prune\","
                + "\"created\":\"" + old + "\",\"refreshed\":\"" + old + "\"}").getBytes(StandardCharsets.UTF_8));
        // staleness is the store's modification time (the fields inside are the holder's clock, informational)
        assertThatThrownBy(() -> repo.backup(tmp.resolve("ckpt"))).isInstanceOf(RepositoryLockedException.class)
                .hasMessageContaining("dead");
        Files.setLastModifiedTime(tmp.resolve("repo/locks/" + OTHER_LOCK),
                java.nio.file.attribute.FileTime.from(java.time.Instant.now().minus(java.time.Duration.ofHours(2))));
        repo.backup(tmp.resolve("ckpt"));
        repo.prune(false);
        assertThat(count("locks")).isZero();
    }

    @Test
    void indexCacheIsUsedAndAPackGoneFromTheStoreIsNeverDeduplicatedAgainst() throws IOException {
        repo.close();
        Path cache = tmp.resolve("cache");
        RepositoryOptions withCache = RepositoryOptions.builder().cacheDirectory(cache).pruneGracePeriod(java.time.Duration.ZERO)
                .build();
        repo = Repository.open(store, KeyProvider.rawKey(TestRepos.RAW_KEY), withCache);
        Path source = TestRepos.checkpoint(tmp.resolve("ckpt"), 13);
        repo.backup(source);
        try (Stream<Path> cached = Files.list(cache.resolve(repo.id()).resolve("index"))) {
            assertThat(cached.count()).isEqualTo(count("index"));
        }
        Snapshot again = repo.backup(source, BackupOptions.builder().rereadUnchanged(true).build());
        assertThat(again.stats().newChunks()).isZero();

        repo.forget(RetentionPolicy.builder().keepTags("none").build(), false);
        repo.prune(false);
        assertThat(count("packs")).isZero();
        // the cache still holds the old index files, but the store no longer lists them: nothing is skipped wrongly
        Snapshot fresh = repo.backup(source);
        assertThat(fresh.stats().newChunks()).isPositive();
        assertThat(repo.verify(fresh.id(), VerifyLevel.DATA).ok()).isTrue();

        // a pack lost behind the repository's back (its index file still names it): its chunks are stored again
        BlobKey lost = somePack();
        local.delete(lost);
        Snapshot healed = repo.backup(source, BackupOptions.builder().rereadUnchanged(true).build());
        assertThat(healed.stats().newChunks()).isPositive();
        assertThat(repo.verify(healed.id(), VerifyLevel.DATA).ok()).isTrue();
        repo.restore(healed.id(), tmp.resolve("healed"), RestoreOptions.defaults());
        assertThat(TestRepos.sameTree(source, tmp.resolve("healed"))).isTrue();
        assertThat(repo.verify(fresh.id(), VerifyLevel.METADATA).ok()).as("either copy serves the older snapshot").isTrue();
    }

    @Test
    void snapshotCatalogServesListingsWithoutReadingManifestsAndRebuildsADamagedEntry() throws IOException {
        repo.close();
        Path cache = tmp.resolve("cache");
        repo = Repository.open(store, KeyProvider.rawKey(TestRepos.RAW_KEY), RepositoryOptions.builder().cacheDirectory(cache).build());
        Snapshot s = backupSmall();
        Path entry = cache.resolve(repo.id()).resolve("snapshots").resolve(s.id().value());
        assertThat(entry).exists();
        long gets = store.calls(FaultInjectingBlobStore.Operation.GET);
        assertThat(repo.snapshots()).extracting(Snapshot::id).containsExactly(s.id());
        assertThat(store.calls(FaultInjectingBlobStore.Operation.GET)).as("no manifest read").isEqualTo(gets);
        byte[] damaged = Files.readAllBytes(entry);
        damaged[damaged.length - 1] ^= 1;
        Files.write(entry, damaged);
        assertThat(repo.snapshots()).singleElement().satisfies(x -> assertThat(x.entries()).isEqualTo(s.entries()));
        assertThat(Files.readAllBytes(entry)).isNotEqualTo(damaged);
    }

    @Test
    void closedRepositoryRefusesWork() {
        repo.close();
        assertThatThrownBy(() -> repo.snapshots()).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }
}
