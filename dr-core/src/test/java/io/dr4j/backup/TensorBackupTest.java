package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.LocalBlobStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tensor codec and tensor-aligned chunking through the public API, on a small but realistic
 * safetensors checkpoint (the distributions of dr-bench's {@code WeightsWorkload}, scaled down to
 * ~4.6 MiB): bit-exact round trips with the codec on and off, fewer bytes stored with it on,
 * tensor-coded (flags 2) blobs in the packs, files with broken headers backed up as plain bytes, a
 * whole-tensor rewrite that changes only that tensor's chunks (and a delta restore that finds the
 * rest), verification, and a tampered tensor-coded blob that fails authentication.
 */
class TensorBackupTest {

    /** Chunks of 16 / 64 / 256 KiB: several chunks per tensor, and norms smaller than the minimum. */
    static final ChunkerParameters CHUNKS = new ChunkerParameters(16 << 10, 64 << 10, 256 << 10);
    static final String REWRITTEN = "model.layers.1.self_attn.v_proj.weight";

    @TempDir
    Path tmp;

    /** One tensor of the fixture: values drawn from N(mean, sigma), as WeightsWorkload draws them. */
    record Spec(String name, String dtype, int rows, int cols, double mean, double sigma) {
        int bytes() {
            return rows * cols * (dtype.equals("F32") ? 4 : 2);
        }
    }

    /** A Llama-style decoder, hidden size 256, 3 layers: BF16 weights, F32 norms (1 KiB, below minSize) and head. */
    static List<Spec> specs() {
        List<Spec> s = new ArrayList<>();
        s.add(new Spec("model.embed_tokens.weight", "BF16", 2000, 256, 0, 0.02));
        for (int l = 0; l < 3; l++) {
            String p = "model.layers." + l + ".";
            s.add(new Spec(p + "input_layernorm.weight", "F32", 1, 256, 1.0, 0.05));
            for (String m : List.of("q_proj", "k_proj", "v_proj", "o_proj")) {
                s.add(new Spec(p + "self_attn." + m + ".weight", "BF16", 256, 256, 0, 0.02 / Math.sqrt(l + 1)));
            }
            s.add(new Spec(p + "mlp.up_proj.weight", "BF16", 688, 256, 0, 0.015));
            s.add(new Spec(p + "mlp.down_proj.weight", "BF16", 256, 688, 0, 0.01));
        }
        s.add(new Spec("lm_head.weight", "F32", 128, 256, 0, 0.02));
        return s;
    }

    /**
     * Writes a safetensors file of {@link #specs()} (8-byte little-endian header length, JSON header,
     * tensors back to back in spec order); tensors named in {@code redrawn} get values from another seed.
     *
     * @return each tensor's absolute [start, end) in the file
     */
    static Map<String, long[]> writeSafetensors(Path file, long seed, Set<String> redrawn) throws IOException {
        StringBuilder json = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        for (Spec t : specs()) {
            json.append(",\"").append(t.name()).append("\":{\"dtype\":\"").append(t.dtype()).append("\",\"shape\":[")
                    .append(t.rows()).append(',').append(t.cols()).append("],\"data_offsets\":[").append(offset).append(',')
                    .append(offset + t.bytes()).append("]}");
            offset += t.bytes();
        }
        byte[] header = json.append('}').toString().getBytes(StandardCharsets.UTF_8);
        long dataStart = 8 + header.length;
        Map<String, long[]> ranges = new LinkedHashMap<>();
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer head = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(header.length).put(header).flip();
            out.write(head);
            long at = dataStart;
            for (Spec t : specs()) {
                long tensorSeed = seed * 31 + t.name().hashCode() + (redrawn.contains(t.name()) ? 1_000_003 : 0);
                ByteBuffer b = ByteBuffer.allocate(t.bytes()).order(ByteOrder.LITTLE_ENDIAN);
                SplittableRandom r = new SplittableRandom(tensorSeed);
                while (b.hasRemaining()) {
                    float v = (float) (t.mean() + t.sigma() * gaussian(r));
                    if (t.dtype().equals("F32")) {
                        b.putFloat(v);
                    } else {
                        b.putShort((short) (Float.floatToRawIntBits(v) >>> 16)); // BF16: the top half of an F32
                    }
                }
                b.flip();
                out.write(b, at);
                ranges.put(t.name(), new long[] {at, at + t.bytes()});
                at += t.bytes();
            }
        }
        return ranges;
    }

    private static double gaussian(SplittableRandom r) {
        double u = 1 - r.nextDouble();
        double v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    /** A checkpoint directory: one safetensors shard, a config, and files whose headers are broken or hostile. */
    static Path checkpoint(Path dir) throws IOException {
        Files.createDirectories(dir);
        writeSafetensors(dir.resolve("model.safetensors"), 1, Set.of());
        Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": 256, \"num_hidden_layers\": 3}\n");
        // a header length far beyond the file
        ByteBuffer hostile = ByteBuffer.allocate(300_000).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE / 3);
        Files.write(dir.resolve("hostile.safetensors"), hostile.array());
        // a plausible length, then JSON that is not a header, then weights-like bytes
        byte[] notJson = "{\"w\":{\"dtype\":\"BF16\",\"shape\":[9],\"data_offsets\":[0,999999999]}}".getBytes(StandardCharsets.UTF_8);
        ByteBuffer broken = ByteBuffer.allocate(8 + notJson.length + 200_000).order(ByteOrder.LITTLE_ENDIAN);
        broken.putLong(notJson.length).put(notJson);
        SplittableRandom r = new SplittableRandom(5);
        while (broken.remaining() >= 2) {
            broken.putShort((short) (Float.floatToRawIntBits((float) (0.02 * gaussian(r))) >>> 16));
        }
        Files.write(dir.resolve("broken.safetensors"), broken.array());
        return dir;
    }

    private static InitOptions init(boolean codec) {
        return TestRepos.init().withChunker(CHUNKS).withTensorCodec(codec);
    }

    private static Repository create(LocalBlobStore store, boolean codec) {
        return Repository.init(store, KeyProvider.rawKey(TestRepos.RAW_KEY), init(codec), TestRepos.options());
    }

    private static Crypto crypto(LocalBlobStore store) throws IOException {
        RepositoryConfig config = RepositoryConfig.fromJson(store.getBytes(BlobKey.of("config")), "config");
        return new Crypto(Crypto.unwrap(TestRepos.RAW_KEY, config.slots().get(0).wrapped(), config.context()));
    }

    private static List<BlobInfo> packs(LocalBlobStore store) throws IOException {
        try (Stream<BlobInfo> s = store.list("packs")) {
            return new ArrayList<>(s.toList());
        }
    }

    private static long storedPackBytes(LocalBlobStore store) throws IOException {
        return packs(store).stream().mapToLong(BlobInfo::size).sum();
    }

    /** Every blob of every pack, from the packs' own headers. */
    private static Map<BlobKey, List<PackFormat.Blob>> blobs(LocalBlobStore store, Crypto crypto) throws IOException {
        Map<BlobKey, List<PackFormat.Blob>> out = new LinkedHashMap<>();
        for (BlobInfo pack : packs(store)) {
            byte[] body = store.getBytes(pack.key());
            int headerLength = PackFormat.readTrailer(body, body.length - PackFormat.TRAILER, body.length, "t");
            int headerStart = body.length - PackFormat.TRAILER - headerLength;
            byte[] plain = crypto.openObject(PackFormat.HEADER_DOMAIN, PackFormat.parseName(pack.key().name()),
                    Arrays.copyOfRange(body, headerStart, headerStart + headerLength), PackHeaders.MAX_HEADER, "t");
            out.put(pack.key(), PackFormat.decodeHeader(plain, headerStart, CHUNKS.maxSize(), "t"));
        }
        return out;
    }

    private static long flagged(Map<BlobKey, List<PackFormat.Blob>> blobs, int flags) {
        return blobs.values().stream().flatMap(List::stream).filter(b -> b.flags() == flags).count();
    }

    /** A file's chunks in a snapshot: file offset to chunk id. */
    private static Map<Long, ChunkId> chunkMap(LocalBlobStore store, Crypto crypto, SnapshotId id, String path) throws IOException {
        byte[] json = crypto.openManifest(id.value(), store.getBytes(BlobKey.of("snapshots/" + id.value())),
                Context.MAX_MANIFEST_SIZE, "t");
        Manifest m = Manifest.fromJson(id, json, "t");
        Map<Long, ChunkId> out = new LinkedHashMap<>();
        long at = 0;
        for (Manifest.Entry e : m.entries()) {
            if (e.entry().path().equals(path)) {
                for (Manifest.ChunkRef c : e.chunks()) {
                    out.put(at, c.id());
                    at += c.length();
                }
            }
        }
        return out;
    }

    @Test
    void aCheckpointRoundTripsBitExactAndStoresLessWithTheCodecOn() throws IOException {
        Path source = checkpoint(tmp.resolve("ckpt"));
        long weights = Files.size(source.resolve("model.safetensors"));
        Map<Boolean, Long> stored = new LinkedHashMap<>();
        Map<Boolean, SnapshotStats> stats = new LinkedHashMap<>();
        for (boolean codec : List.of(true, false)) {
            LocalBlobStore store = LocalBlobStore.open(tmp.resolve("repo-" + codec));
            try (Repository repo = create(store, codec)) {
                Snapshot s = repo.backup(source);
                assertThat(repo.verify(s.id(), VerifyLevel.DATA).problems()).as("verify --data, codec " + codec).isEmpty();
                Path target = tmp.resolve("restored-" + codec);
                repo.restore(s.id(), target, RestoreOptions.defaults());
                assertThat(TestRepos.sameTree(source, target)).as("bit-exact restore, codec " + codec).isTrue();
                stats.put(codec, s.stats());
            }
            // a reopened repository reads the switch from its config, and its snapshots carry the per-dtype figures
            try (Repository repo = TestRepos.open(store)) {
                assertThat(repo.snapshots().get(0).stats().byDtype()).isEqualTo(stats.get(codec).byDtype());
            }
            Map<BlobKey, List<PackFormat.Blob>> blobs = blobs(store, crypto(store));
            if (codec) {
                assertThat(flagged(blobs, PackFormat.FLAG_TENSOR)).as("tensor-coded blobs").isGreaterThan(10);
            } else {
                assertThat(flagged(blobs, PackFormat.FLAG_TENSOR)).as("no tensor-coded blob with the codec off").isZero();
            }
            stored.put(codec, storedPackBytes(store));
        }
        assertThat(stored.get(true)).isLessThan(stored.get(false));
        // BF16 weights: the exponent plane is all the codec can shrink, ~0.70 of raw; zstd gets ~0.80
        SnapshotStats.DtypeStats on = stats.get(true).byDtype().get("BF16");
        SnapshotStats.DtypeStats off = stats.get(false).byDtype().get("BF16");
        assertThat(on.ratio()).isLessThan(0.75).isLessThan(off.ratio());
        assertThat(stats.get(true).byDtype()).containsKeys("BF16", "F32", "other");
        assertThat(stats.get(true).byDtype().values().stream().mapToLong(SnapshotStats.DtypeStats::bytesRead).sum())
                .isEqualTo(stats.get(true).bytesRead());
        assertThat(on.bytesRead()).isGreaterThan(weights / 2);
    }

    @Test
    void filesWithBadHeadersBackUpAsPlainBytes() throws IOException {
        Path source = checkpoint(tmp.resolve("ckpt"));
        Files.delete(source.resolve("model.safetensors"));
        // a valid header whose tensor runs past the end of the file (the file was truncated)
        Map<String, long[]> ranges = writeSafetensors(source.resolve("truncated.safetensors"), 3, Set.of());
        try (FileChannel ch = FileChannel.open(source.resolve("truncated.safetensors"), StandardOpenOption.WRITE)) {
            ch.truncate(ranges.get("model.embed_tokens.weight")[1] + 1000);
        }
        LocalBlobStore store = LocalBlobStore.open(tmp.resolve("repo"));
        try (Repository repo = create(store, true)) {
            Snapshot s = repo.backup(source);
            assertThat(s.stats().byDtype().keySet()).containsExactly("other");
            assertThat(repo.verify(s.id(), VerifyLevel.DATA).problems()).isEmpty();
            repo.restore(s.id(), tmp.resolve("restored"), RestoreOptions.defaults());
            assertThat(TestRepos.sameTree(source, tmp.resolve("restored"))).isTrue();
        }
        assertThat(flagged(blobs(store, crypto(store)), PackFormat.FLAG_TENSOR)).isZero();
    }

    @Test
    void aWholeTensorRewriteChangesOnlyThatTensorsChunksAndDeltaRestoreFindsTheRest() throws IOException {
        Path source = tmp.resolve("ckpt");
        Files.createDirectories(source);
        Path shard = source.resolve("model.safetensors");
        Map<String, long[]> ranges = writeSafetensors(shard, 1, Set.of());
        long[] t = ranges.get(REWRITTEN);
        LocalBlobStore store = LocalBlobStore.open(tmp.resolve("repo"));
        try (Repository repo = create(store, true)) {
            Crypto crypto = crypto(store);
            Snapshot v1 = repo.backup(source);
            Path restored = tmp.resolve("restored");
            repo.restore(v1.id(), restored, RestoreOptions.defaults());

            writeSafetensors(shard, 1, Set.of(REWRITTEN));
            Files.setLastModifiedTime(shard, FileTime.from(Instant.parse("2030-01-01T00:00:00Z")));
            Snapshot v2 = repo.backup(source, BackupOptions.builder().build());
            Map<Long, ChunkId> before = chunkMap(store, crypto, v1.id(), "model.safetensors");
            Map<Long, ChunkId> after = chunkMap(store, crypto, v2.id(), "model.safetensors");

            // the tensor's start and end are cuts in both snapshots
            assertThat(before).containsKeys(t[0], t[1]);
            assertThat(after).containsKeys(t[0], t[1]);
            // every chunk outside the tensor is the same chunk at the same offset
            for (Map.Entry<Long, ChunkId> c : before.entrySet()) {
                if (c.getKey() < t[0] || c.getKey() >= t[1]) {
                    assertThat(after.get(c.getKey())).as("chunk at " + c.getKey()).isEqualTo(c.getValue());
                }
            }
            Set<ChunkId> old = new HashSet<>(before.values());
            after.forEach((offset, id) -> {
                if (!old.contains(id)) {
                    assertThat(offset).as("new chunk at " + offset + " lies in the tensor").isBetween(t[0], t[1] - 1);
                }
            });
            // what the incremental stored is about the tensor's size (its chunks, sealed), not the file's
            long tensorBytes = t[1] - t[0];
            assertThat(v2.stats().newBytesStored()).isLessThan(tensorBytes + 64 * 1024);

            // delta restore over the old restore cuts the old file on the same tensor boundaries
            RestoreResult r = repo.restore(v2.id(), restored, RestoreOptions.builder().replaceExisting(true).build());
            assertThat(r.bytesReused()).isGreaterThanOrEqualTo(Files.size(shard) - tensorBytes);
            assertThat(r.bytesDownloaded()).isLessThanOrEqualTo(tensorBytes);
            assertThat(TestRepos.sameTree(source, restored)).isTrue();
            assertThat(repo.verify(v2.id(), VerifyLevel.DATA).problems()).isEmpty();
        }
    }

    @Test
    void aTamperedTensorCodedBlobFailsAuthentication() throws IOException {
        Path source = tmp.resolve("ckpt");
        Files.createDirectories(source);
        writeSafetensors(source.resolve("model.safetensors"), 2, Set.of());
        LocalBlobStore store = LocalBlobStore.open(tmp.resolve("repo"));
        try (Repository repo = create(store, true)) {
            Snapshot s = repo.backup(source);
            Map<BlobKey, List<PackFormat.Blob>> blobs = blobs(store, crypto(store));
            BlobKey key = null;
            PackFormat.Blob victim = null;
            for (Map.Entry<BlobKey, List<PackFormat.Blob>> e : blobs.entrySet()) {
                for (PackFormat.Blob b : e.getValue()) {
                    if (victim == null && b.flags() == PackFormat.FLAG_TENSOR) {
                        key = e.getKey();
                        victim = b;
                    }
                }
            }
            assertThat(victim).isNotNull();
            byte[] body = store.getBytes(key);
            body[victim.offset() + victim.length() / 2] ^= 0x10; // inside the encrypted encoding
            store.put(key, body);

            assertThat(repo.verify(s.id(), VerifyLevel.DATA).problems()).isNotEmpty()
                    .anySatisfy(p -> assertThat(p.reason()).contains("failed authentication"));
            Path target = tmp.resolve("restored");
            assertThatThrownBy(() -> repo.restore(s.id(), target, RestoreOptions.defaults()))
                    .isInstanceOf(CorruptObjectException.class).hasMessageContaining("failed authentication");
            assertThat(target).doesNotExist();
        }
    }

    /** The same file is always cut the same way, and a tensor of at least minSize starts and ends on a cut. */
    @Test
    void tensorAlignedCutsAreDeterministic() throws IOException {
        Path file = tmp.resolve("m.safetensors");
        Map<String, long[]> ranges = writeSafetensors(file, 4, Set.of());
        FastCdc cdc = new Crypto(new byte[Crypto.MASTER_LENGTH]).chunker(CHUNKS);
        List<List<Long>> runs = new ArrayList<>();
        for (int run = 0; run < 2; run++) {
            List<Long> cuts = new ArrayList<>();
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                SafetensorsHeader header = BackupRun.safetensorsHeader(ch, file);
                assertThat(header).isNotNull();
                new FileChunker(cdc).chunk(ch, header, (buf, off, len, pos) -> {
                    assertThat(len).isLessThanOrEqualTo(CHUNKS.maxSize());
                    cuts.add(pos + len);
                }, () -> false);
            }
            runs.add(cuts);
        }
        assertThat(runs.get(0)).isEqualTo(runs.get(1));
        for (Map.Entry<String, long[]> r : ranges.entrySet()) {
            if (r.getValue()[1] - r.getValue()[0] >= CHUNKS.minSize()) {
                assertThat(runs.get(0)).as(r.getKey()).contains(r.getValue()[1]);
            }
        }
    }
}
