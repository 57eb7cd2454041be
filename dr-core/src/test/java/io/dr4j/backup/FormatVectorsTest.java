package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.luben.zstd.Zstd;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.LocalBlobStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worked examples of FORMAT.md §Test vectors, shipped as {@code format-vectors.json}.
 *
 * <p>The vectors are rebuilt here from the spec alone (JDK AES-GCM, HMAC-SHA-256 and SHA-256 with
 * the fixed nonces the vectors publish; a reference FastCDC written from the spec's text), compared
 * byte for byte with the resource file, and then fed to the production code: it must open the
 * blobs, parse the pack, decode the index, unwrap the key slots, compute the same file hash and
 * chunk boundaries, encode the same header and index bytes, and open, restore and verify the
 * whole tiny repository the vectors make up. Objects the production code seals (with random
 * nonces) are opened with the reference opener, so a change of layout on either side fails here.
 *
 * <p>The only inputs not derived here are the two zstd frames (compressor output is not part of
 * the format); they are read from the resource file. Every run writes what it built to
 * {@code target/format-vectors.generated.json}, to regenerate the resource after a deliberate
 * format change (which also means a new format version and a FORMAT.md update).
 */
class FormatVectorsTest {

    private static final HexFormat HEX = HexFormat.of();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String RESOURCE = "/format-vectors.json";

    // ------------------------------------------------------------------ fixed inputs (FORMAT.md §Test vectors)

    static final byte[] MASTER = range(0x00, 96);
    static final byte[] K_ENC = Arrays.copyOfRange(MASTER, 0, 32);
    static final byte[] K_ID = Arrays.copyOfRange(MASTER, 32, 64);
    static final byte[] K_CDC = Arrays.copyOfRange(MASTER, 64, 96);
    static final byte[] PLAIN1 = ascii("The quick brown fox jumps over the lazy dog.");
    static final byte[] PLAIN2 = ascii("dr4j ".repeat(32));
    /** A 516-byte BF16 chunk starting one byte into an element (phase 1), see {@link Reference#tensorPlain()}. */
    static final byte[] PLAIN3;
    static {
        try {
            PLAIN3 = Reference.tensorPlain();
        } catch (GeneralSecurityException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    static final byte[] PACK_ID = range(0x80, 32);
    static final byte[] INDEX_ID = range(0xc0, 32);
    static final String REPO_ID = "00112233445566778899aabbccddeeff";
    static final String CREATED = "2026-12-01T12:00:00Z";
    static final String SNAPSHOT_ID = "fedcba9876543210fedcba9876543210";
    static final byte[] KEK = range(0xe0, 32);
    static final String PASSWORD = "correct horse battery staple";
    static final byte[] SALT = range(0x10, 16);
    static final int KDF_MEMORY_KIB = 256;
    static final int KDF_ITERATIONS = 2;
    static final int KDF_PARALLELISM = 1;
    static final ChunkerParameters CDC_VECTOR = new ChunkerParameters(256, 1024, 4096);

    static byte[] nonce(int k) {
        byte[] n = new byte[12];
        Arrays.fill(n, (byte) k);
        return n;
    }

    private static Map<String, String> shipped;
    private static Map<String, String> built;

    @TempDir
    Path tmp;

    @BeforeAll
    static void build() throws Exception {
        try (InputStream in = FormatVectorsTest.class.getResourceAsStream(RESOURCE)) {
            shipped = in == null ? Map.of() : JSON.readValue(in, new TypeReference<LinkedHashMap<String, String>>() { });
        }
        built = new Reference(shipped).build();
        Path out = Path.of("target", "format-vectors.generated.json");
        Files.createDirectories(out.getParent());
        Files.write(out, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(built));
    }

    // ------------------------------------------------------------------ the vectors equal the spec's construction

    @Test
    void shippedVectorsEqualTheSpecsConstruction() {
        assertThat(shipped).as("resource " + RESOURCE + " (regenerate from target/format-vectors.generated.json)").isNotEmpty();
        assertThat(shipped.keySet()).containsExactlyElementsOf(built.keySet());
        for (Map.Entry<String, String> e : built.entrySet()) {
            assertEquals(shipped.get(e.getKey()), e.getValue(), "vector " + e.getKey());
        }
    }

    // ------------------------------------------------------------------ the production code reads the vectors

    @Test
    void cryptoOpensTheVectorBlobs() {
        Crypto crypto = new Crypto(bytes("masterKey"));
        byte[] pack = bytes("pack.bytes");
        byte[] out = new byte[(1 << 20) + 64];
        ChunkId id1 = ChunkId.wrap(bytes("chunk1.id"));
        ChunkId id2 = ChunkId.wrap(bytes("chunk2.id"));
        assertEquals(id1, crypto.chunkId(PLAIN1, 0, PLAIN1.length));
        assertEquals(id2, crypto.chunkId(PLAIN2, 0, PLAIN2.length));

        int n = crypto.openChunkInto(id1, pack, integer("chunk1.offset"), bytes("chunk1.blob").length, 1 << 20, out, "v1");
        assertArrayEquals(PLAIN1, Arrays.copyOf(out, n));
        n = crypto.openChunkInto(id2, pack, integer("chunk2.offset"), bytes("chunk2.blob").length, 1 << 20, out, "v2");
        assertArrayEquals(PLAIN2, Arrays.copyOf(out, n));
        assertArrayEquals(PLAIN1, crypto.openChunk(id1, bytes("chunk1.blob"), 1 << 20, "v1"));
        assertArrayEquals(PLAIN2, crypto.openChunk(id2, bytes("chunk2.blob"), 1 << 20, "v2"));

        // the name is bound: chunk 1's blob does not open as chunk 2, and a flipped byte fails
        assertThatThrownBy(() -> crypto.openChunk(id2, bytes("chunk1.blob"), 1 << 20, "swap"))
                .isInstanceOf(CorruptObjectException.class);
        byte[] flipped = bytes("chunk1.blob");
        flipped[20] ^= 1;
        assertThatThrownBy(() -> crypto.openChunk(id1, flipped, 1 << 20, "flip")).isInstanceOf(CorruptObjectException.class);
        byte[] flags = bytes("chunk1.blob");
        flags[1] = 1; // the flags byte is authenticated
        assertThatThrownBy(() -> crypto.openChunk(id1, flags, 1 << 20, "flags")).isInstanceOf(CorruptObjectException.class);
    }

    @Test
    void cryptoOpensTheTensorCodedVectorBlob() {
        Crypto crypto = new Crypto(bytes("masterKey"));
        ChunkId id3 = ChunkId.wrap(bytes("chunk3.id"));
        assertEquals(id3, crypto.chunkId(PLAIN3, 0, PLAIN3.length));
        byte[] blob = bytes("chunk3.blob");
        assertEquals(2, blob[1]);
        byte[] out = new byte[(1 << 20) + 64];
        int n = crypto.openChunkInto(id3, blob, 0, blob.length, 1 << 20, out, "v3");
        assertArrayEquals(PLAIN3, Arrays.copyOf(out, n));
        assertArrayEquals(PLAIN3, crypto.openChunk(id3, blob, 1 << 20, "v3"));
        try (TensorCodec.Scratch scratch = TensorCodec.defaults().newScratch()) {
            byte[] encoding = bytes("chunk3.encoding");
            byte[] decoded = new byte[PLAIN3.length];
            TensorCodec.defaults().decode(encoding, 0, encoding.length, decoded, 0, PLAIN3.length, scratch);
            assertArrayEquals(PLAIN3, decoded);
            byte[] v2 = bytes("chunk3.v2.encoding");
            byte[] decoded2 = new byte[PLAIN3.length];
            TensorCodec.defaults().decode(v2, 0, v2.length, decoded2, 0, PLAIN3.length, scratch);
            assertArrayEquals(PLAIN3, decoded2);
        }
        // bounded by maxSize before decoding, the flags byte is authenticated, and flags 3 (zstd and tensor) is refused
        assertThatThrownBy(() -> crypto.openChunkInto(id3, blob, 0, blob.length, PLAIN3.length - 1, out, "bound"))
                .isInstanceOf(CorruptObjectException.class);
        byte[] flags = blob.clone();
        flags[1] = 1;
        assertThatThrownBy(() -> crypto.openChunkInto(id3, flags, 0, flags.length, 1 << 20, out, "flags"))
                .isInstanceOf(CorruptObjectException.class).hasMessageContaining("failed authentication");
        flags[1] = 3;
        assertThatThrownBy(() -> crypto.openChunk(id3, flags, 1 << 20, "flags 3"))
                .isInstanceOf(CorruptObjectException.class).hasMessageContaining("unknown flags");
        PackFormat.checkBlob(0, blob.length, PLAIN3.length, 2, blob.length, 1 << 20, "v3");
        assertThatThrownBy(() -> PackFormat.checkBlob(0, blob.length, PLAIN3.length, 3, blob.length, 1 << 20, "v3"))
                .isInstanceOf(CorruptObjectException.class);
        // only chunks may carry the tensor flag: an index file or manifest with it is refused
        assertThatThrownBy(() -> crypto.openObject(IndexFile.DOMAIN, bytes("index.id"), flags, 1 << 20, "index"))
                .isInstanceOf(CorruptObjectException.class);
    }

    /** What the production sealer writes for a tensor chunk opens and decodes with the spec's reference code. */
    @Test
    void productionTensorBlobsFollowTheSpec() throws Exception {
        Crypto crypto = new Crypto(MASTER);
        ChunkId id3 = crypto.chunkId(PLAIN3, 0, PLAIN3.length);
        byte[] pack = new byte[4096];
        int r = crypto.sealChunkInto(id3, PLAIN3, 0, PLAIN3.length, 3,
                new SafetensorsHeader.CodecHint(TensorCodec.Dtype.BF16, 1), pack, 0);
        assertEquals(Crypto.FLAG_TENSOR, Crypto.sealedFlags(r));
        byte[] blob = Arrays.copyOf(pack, Crypto.sealedLength(r));
        assertEquals(2, blob[1]);
        byte[] encoding = Reference.open(K_ENC, ascii("dr4j/chunk/v1"), id3.bytes(), blob);
        assertEquals(TensorCodec.VERSION, encoding[0], "dr4j writes codec version 2");
        assertArrayEquals(PLAIN3, Reference.tensorDecode(encoding));
        // without a hint the same chunk gets the zstd-or-raw choice of any chunk
        int plain = crypto.sealChunkInto(id3, PLAIN3, 0, PLAIN3.length, 3, pack, 0);
        assertThat(Crypto.sealedFlags(plain)).isNotEqualTo(Crypto.FLAG_TENSOR);
        // a hint for bytes the codec cannot shrink falls back to the zstd-or-raw choice
        int text = crypto.sealChunkInto(id3, PLAIN2, 0, PLAIN2.length, 3,
                new SafetensorsHeader.CodecHint(TensorCodec.Dtype.F32, 0), pack, 0);
        assertEquals(Crypto.FLAG_ZSTD, Crypto.sealedFlags(text));
    }

    @Test
    void tensorCodecSwitchIsBoundIntoTheKeySlots() {
        RepositoryConfig off = RepositoryConfig.fromJson(text("config.json").getBytes(StandardCharsets.UTF_8), "v");
        assertThat(off.tensorCodec()).isFalse();
        // a config written before the switch existed (no codec field) reads as off, with the same context
        String legacy = text("config.json").replaceAll("\\s*\"codec\" : \\{\\s*\"tensor\" : false\\s*},", "");
        assertThat(legacy).doesNotContain("codec");
        RepositoryConfig old = RepositoryConfig.fromJson(legacy.getBytes(StandardCharsets.UTF_8), "v");
        assertThat(old.tensorCodec()).isFalse();
        assertArrayEquals(off.context(), old.context());
        // switching it on in the stored config changes the context: every slot fails
        RepositoryConfig on = RepositoryConfig.fromJson(text("config.json").replace("\"tensor\" : false", "\"tensor\" : true")
                .getBytes(StandardCharsets.UTF_8), "v");
        assertThat(on.tensorCodec()).isTrue();
        assertEquals(text("keySlot.context") + "|codec:tensor", new String(on.context(), StandardCharsets.UTF_8));
        assertThat(Crypto.unwrap(bytes("keySlot.raw.kek"), bytes("keySlot.raw.wrapped"), on.context())).isNull();
        assertThatThrownBy(() -> RepositoryConfig.fromJson(text("config.json").replace("\"tensor\" : false", "\"tensor\" : 1")
                .getBytes(StandardCharsets.UTF_8), "v")).isInstanceOf(io.dr4j.backup.UnsupportedFormatException.class);
    }

    @Test
    void packFormatParsesTheVectorPack() {
        Crypto crypto = new Crypto(bytes("masterKey"));
        byte[] pack = bytes("pack.bytes");
        int headerLength = PackFormat.readTrailer(pack, pack.length - PackFormat.TRAILER, pack.length, "v");
        assertEquals(bytes("pack.header.sealed").length, headerLength);
        int headerStart = pack.length - PackFormat.TRAILER - headerLength;
        assertEquals(integer("pack.dataLength"), headerStart);
        byte[] sealed = Arrays.copyOfRange(pack, headerStart, headerStart + headerLength);
        byte[] plain = crypto.openObject(PackFormat.HEADER_DOMAIN, bytes("pack.id"), sealed, PackHeaders.MAX_HEADER, "v");
        assertArrayEquals(bytes("pack.header.plain"), plain);
        List<PackFormat.Blob> blobs = PackFormat.decodeHeader(plain, headerStart, 1 << 20, "v");
        assertThat(blobs).containsExactlyElementsOf(vectorBlobs());
        assertArrayEquals(plain, PackFormat.encodeHeader(blobs));
        assertEquals(text("pack.key"), PackFormat.key(bytes("pack.id")).value());

        // the header is bound to its pack id
        assertThatThrownBy(() -> crypto.openObject(PackFormat.HEADER_DOMAIN, bytes("index.id"), sealed, PackHeaders.MAX_HEADER, "v"))
                .isInstanceOf(CorruptObjectException.class);
        // a header whose blobs do not fit the data area is refused
        assertThatThrownBy(() -> PackFormat.decodeHeader(plain, headerStart - 1, 1 << 20, "v"))
                .isInstanceOf(CorruptObjectException.class);
        // a trailer with a wrong magic is refused
        byte[] bad = pack.clone();
        bad[bad.length - 1] = '3';
        assertThatThrownBy(() -> PackFormat.readTrailer(bad, bad.length - PackFormat.TRAILER, bad.length, "v"))
                .isInstanceOf(CorruptObjectException.class);
    }

    @Test
    void indexFileDecodesTheVectorIndex() {
        Crypto crypto = new Crypto(bytes("masterKey"));
        byte[] plain = crypto.openObject(IndexFile.DOMAIN, bytes("index.id"), bytes("index.sealed"), IndexFile.MAX_PLAIN, "v");
        assertArrayEquals(bytes("index.plain"), plain);
        List<IndexFile.PackEntry> packs = IndexFile.decode(plain, 1 << 20, "v");
        assertThat(packs).hasSize(1);
        assertArrayEquals(bytes("pack.id"), packs.get(0).packId());
        assertThat(packs.get(0).blobs()).containsExactlyElementsOf(vectorBlobs());
        assertArrayEquals(plain, IndexFile.encode(packs));
        assertEquals(text("index.key"), IndexFile.key(bytes("index.id")).value());
        // one byte too many or too few is refused
        assertThatThrownBy(() -> IndexFile.decode(Arrays.copyOf(plain, plain.length + 1), 1 << 20, "v"))
                .isInstanceOf(CorruptObjectException.class);
        assertThatThrownBy(() -> IndexFile.decode(Arrays.copyOf(plain, plain.length - 1), 1 << 20, "v"))
                .isInstanceOf(CorruptObjectException.class);
    }

    @Test
    void configAndKeySlotsUnwrap() throws Exception {
        RepositoryConfig config = RepositoryConfig.fromJson(text("config.json").getBytes(StandardCharsets.UTF_8), "v");
        assertEquals(text("keySlot.context"), new String(config.context(), StandardCharsets.UTF_8));
        assertEquals(text("config.json"), new String(config.toJson(), StandardCharsets.UTF_8));
        assertThat(config.slots()).hasSize(2);
        assertArrayEquals(bytes("keySlot.raw.wrapped"), config.slots().get(0).wrapped());
        assertArrayEquals(bytes("keySlot.password.wrapped"), config.slots().get(1).wrapped());
        assertArrayEquals(bytes("masterKey"), Crypto.unwrap(bytes("keySlot.raw.kek"), bytes("keySlot.raw.wrapped"), config.context()));
        assertArrayEquals(bytes("masterKey"),
                Crypto.unwrap(bytes("keySlot.password.kek"), bytes("keySlot.password.wrapped"), config.context()));
        // any change of a bound setting, or a wrong key, makes the slot fail
        byte[] other = (text("keySlot.context").replace("zstd:3", "zstd:4")).getBytes(StandardCharsets.UTF_8);
        assertThat(Crypto.unwrap(bytes("keySlot.raw.kek"), bytes("keySlot.raw.wrapped"), other)).isNull();
        assertThat(Crypto.unwrap(bytes("keySlot.password.kek"), bytes("keySlot.raw.wrapped"), config.context())).isNull();
    }

    @Test
    void fileHashAndManifest() {
        List<Manifest.ChunkRef> chunks = List.of(new Manifest.ChunkRef(ChunkId.wrap(bytes("chunk1.id")), PLAIN1.length),
                new Manifest.ChunkRef(ChunkId.wrap(bytes("chunk2.id")), PLAIN2.length));
        assertEquals(text("fileHash.hash"), Manifest.fileHash(PLAIN1.length + PLAIN2.length, chunks));
        assertEquals(text("fileHash.emptyFile"), Manifest.fileHash(0, List.of()));

        Crypto crypto = new Crypto(bytes("masterKey"));
        byte[] json = crypto.openManifest(SNAPSHOT_ID, bytes("manifest.sealed"), Context.MAX_MANIFEST_SIZE, "v");
        assertEquals(text("manifest.json"), new String(json, StandardCharsets.UTF_8));
        Manifest m = Manifest.fromJson(SnapshotId.of(SNAPSHOT_ID), json, "v");
        assertThat(m.entries()).hasSize(3);
        assertThat(m.entries().get(2).chunks()).containsExactlyElementsOf(chunks);
        // what dr4j writes for this manifest is byte for byte the vector's JSON
        assertEquals(text("manifest.json"), new String(m.toJson(), StandardCharsets.UTF_8));
    }

    @Test
    void chunkerCutsWhereTheSpecSays() throws Exception {
        Crypto crypto = new Crypto(bytes("masterKey"));
        FastCdc cdc = crypto.chunker(CDC_VECTOR);
        Field f = FastCdc.class.getDeclaredField("gear");
        f.setAccessible(true);
        long[] gear = (long[]) f.get(cdc);
        assertEquals(text("chunker.gear"), gearSample(gear));
        byte[] data = Reference.chunkerData();
        List<String> cuts = new ArrayList<>();
        for (int at = 0; at < data.length; ) {
            int n = cdc.cut(data, at, data.length - at);
            cuts.add(Integer.toString(n));
            at += n;
        }
        assertEquals(text("chunker.cuts"), String.join(",", cuts));
    }

    /** What the production code writes (random nonces) opens with the spec's reference opener. */
    @Test
    void productionWritersFollowTheSpec() throws Exception {
        Crypto crypto = new Crypto(MASTER);
        ChunkId id1 = crypto.chunkId(PLAIN1, 0, PLAIN1.length);
        ChunkId id2 = crypto.chunkId(PLAIN2, 0, PLAIN2.length);
        byte[] sealed = crypto.sealChunk(id1, PLAIN1, 0, PLAIN1.length, 3);
        assertArrayEquals(PLAIN1, Reference.open(K_ENC, ascii("dr4j/chunk/v1"), id1.bytes(), sealed));

        PackWriter w = new PackWriter(new byte[1 << 16], 4 << 20, Crypto.maxSealedLength(1 << 20));
        w.append(crypto, id1, PLAIN1, 0, PLAIN1.length, 3);
        w.append(crypto, id2, PLAIN2, 0, PLAIN2.length, 3);
        int length = w.finish(crypto);
        byte[] pack = Arrays.copyOf(w.buffer, length);
        assertArrayEquals(ascii("dr4jpak2"), Arrays.copyOfRange(pack, length - 8, length));
        int headerLength = ByteBuffer.wrap(pack, length - 12, 4).getInt();
        int headerStart = length - 12 - headerLength;
        byte[] header = Reference.open(K_ENC, ascii("dr4j/pack/v2"), w.packId, Arrays.copyOfRange(pack, headerStart, length - 12));
        ByteBuffer h = ByteBuffer.wrap(header);
        assertEquals(2, h.getInt());
        int end = 0;
        for (byte[] plain : List.of(PLAIN1, PLAIN2)) {
            byte[] id = new byte[32];
            h.get(id);
            int offset = h.getInt();
            int blobLength = h.getInt();
            assertEquals(end, offset);
            assertEquals(plain.length, h.getInt());
            int flags = h.get();
            byte[] payload = Reference.open(K_ENC, ascii("dr4j/chunk/v1"), id, Arrays.copyOfRange(pack, offset, offset + blobLength));
            assertEquals(flags, pack[offset + 1]);
            assertArrayEquals(plain, flags == 1 ? Zstd.decompress(payload, plain.length) : payload);
            end = offset + blobLength;
        }
        assertEquals(headerStart, end);
        assertEquals(1, pack[PLAIN1.length + Crypto.OVERHEAD + 1]); // the repetitive chunk was compressed

        byte[] indexId = Crypto.randomBytes(32);
        byte[] index = crypto.sealObject(IndexFile.DOMAIN, indexId, false,
                IndexFile.encode(List.of(new IndexFile.PackEntry(w.packId, w.blobs()))));
        assertEquals(0, index[1]);
        Reference.open(K_ENC, ascii("dr4j/index/v2"), indexId, index);

        byte[] manifest = crypto.sealManifest(SNAPSHOT_ID, ascii("{}"));
        assertEquals(1, manifest[1]);
        assertArrayEquals(ascii("{}"), Zstd.decompress(Reference.open(K_ENC, ascii("dr4j/snapshot/v1"), ascii(SNAPSHOT_ID), manifest), 2));

        byte[] context = ascii(text("keySlot.context"));
        byte[] wrapped = Crypto.wrap(KEK, MASTER, context);
        assertEquals(2 + 12 + 96 + 16, wrapped.length);
        assertArrayEquals(MASTER, Reference.open(KEK, context, new byte[0], wrapped));
    }

    /** The vectors make up a whole repository: the public API opens, lists, verifies and restores it. */
    @Test
    void theVectorRepositoryRestores() throws Exception {
        LocalBlobStore store = LocalBlobStore.open(tmp.resolve("repo"));
        store.put(BlobKey.of("config"), text("config.json").getBytes(StandardCharsets.UTF_8));
        store.put(BlobKey.of(text("pack.key")), bytes("pack.bytes"));
        store.put(BlobKey.of(text("index.key")), bytes("index.sealed"));
        store.put(BlobKey.of(text("manifest.key")), bytes("manifest.sealed"));
        RepositoryOptions options = RepositoryOptions.builder().noCache().workers(2).ioConcurrency(2).inFlightBytes(8 << 20)
                .host("vector-host").build();
        try (Repository repo = Repository.open(store, KeyProvider.password(PASSWORD.toCharArray()), options)) {
            assertEquals(REPO_ID, repo.id());
        }
        assertThatThrownBy(() -> Repository.open(store, KeyProvider.password("wrong".toCharArray()), options))
                .isInstanceOf(WrongKeyException.class);
        try (Repository repo = Repository.open(store, KeyProvider.rawKey(KEK), options)) {
            List<Snapshot> snapshots = repo.snapshots();
            assertThat(snapshots).hasSize(1);
            SnapshotId id = snapshots.get(0).id();
            assertEquals(SNAPSHOT_ID, id.value());
            VerifyReport report = repo.verify(id, VerifyLevel.DATA);
            assertThat(report.problems()).isEmpty();
            Path target = tmp.resolve("restored");
            repo.restore(id, target, RestoreOptions.defaults());
            byte[] expected = new byte[PLAIN1.length + PLAIN2.length];
            System.arraycopy(PLAIN1, 0, expected, 0, PLAIN1.length);
            System.arraycopy(PLAIN2, 0, expected, PLAIN1.length, PLAIN2.length);
            assertArrayEquals(expected, Files.readAllBytes(target.resolve("model/weights.bin")));
            assertThat(Files.size(target.resolve("model/empty"))).isZero();
        }
    }

    /** FORMAT.md (next to dr-core in the source tree) shows the same bytes as the resource file. */
    @Test
    void formatMdShowsTheVectors() throws IOException {
        Path spec = Path.of("..", "FORMAT.md");
        Assumptions.assumeTrue(Files.exists(spec), "FORMAT.md is not next to dr-core");
        String doc = Files.readString(spec).replaceAll("\\s+", "");
        for (String key : List.of("masterKey", "chunk1.id", "chunk1.aad", "chunk1.blob", "chunk2.id", "chunk2.zstdFrame",
                "chunk2.aad", "chunk2.blob", "chunk3.plaintext", "chunk3.id", "chunk3.plane0.zstdFrame", "chunk3.encoding",
                "chunk3.blob", "pack.key", "pack.header.plain", "pack.header.sealed", "pack.trailer", "pack.bytes",
                "index.key", "index.plain", "index.sealed", "keySlot.context", "keySlot.raw.aad", "keySlot.raw.wrapped",
                "keySlot.password.kek", "keySlot.password.wrapped", "config.json", "fileHash.input", "fileHash.hash",
                "fileHash.emptyFile", "manifest.json", "chunker.cuts")) {
            String value = key.equals("masterKey")
                    ? "K_enc=" + text(key).substring(0, 64) + "K_id=" + text(key).substring(64, 128) + "K_cdc=" + text(key).substring(128)
                    : text(key);
            assertThat(doc).as("FORMAT.md shows vector " + key).contains(value.replaceAll("\\s+", ""));
        }
        Path codecSpec = Path.of("..", "docs", "tensor-codec.md");
        assertThat(Files.readString(codecSpec).replaceAll("\\s+", "")).as("docs/tensor-codec.md shows vector chunk3.v2.encoding")
                .contains(text("chunk3.v2.encoding"));
        for (String gear : text("chunker.gear").split(",")) {
            String[] g = gear.split(":");
            assertThat(doc).as("FORMAT.md shows G[" + g[0] + "]").contains("G[" + g[0] + "]=" + g[1]);
        }
    }

    // ------------------------------------------------------------------ helpers

    private static List<PackFormat.Blob> vectorBlobs() {
        return List.of(
                new PackFormat.Blob(ChunkId.wrap(bytes("chunk1.id")), integer("chunk1.offset"), bytes("chunk1.blob").length,
                        PLAIN1.length, 0),
                new PackFormat.Blob(ChunkId.wrap(bytes("chunk2.id")), integer("chunk2.offset"), bytes("chunk2.blob").length,
                        PLAIN2.length, 1));
    }

    private static String text(String key) {
        String v = shipped.get(key);
        assertThat(v).as("vector " + key).isNotNull();
        return v;
    }

    private static byte[] bytes(String key) {
        return HEX.parseHex(text(key));
    }

    private static int integer(String key) {
        return Integer.parseInt(text(key));
    }

    static byte[] range(int from, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (from + i);
        }
        return b;
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static String gearSample(long[] gear) {
        List<String> s = new ArrayList<>();
        for (int i : new int[] {0, 1, 2, 3, 4, 255}) {
            s.add(i + ":" + HEX.toHexDigits(gear[i]));
        }
        return String.join(",", s);
    }

    /**
     * The spec's constructions, written from FORMAT.md with JDK primitives only (no production
     * class is called here).
     */
    static final class Reference {

        private final Map<String, String> shipped;
        private final Map<String, String> v = new LinkedHashMap<>();

        Reference(Map<String, String> shipped) {
            this.shipped = shipped;
        }

        static byte[] hmac(byte[] key, byte[] data) throws GeneralSecurityException {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        }

        static byte[] sha256(byte[] data) throws GeneralSecurityException {
            return MessageDigest.getInstance("SHA-256").digest(data);
        }

        /** The sealed envelope: {@code 01 ‖ flags ‖ nonce ‖ AES-256-GCM(payload) ‖ tag}, aad = domain ‖ name ‖ 01 ‖ flags. */
        static byte[] seal(byte[] key, byte[] domain, byte[] name, int flags, byte[] nonce, byte[] payload)
                throws GeneralSecurityException {
            byte[] head = {1, (byte) flags};
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, nonce));
            c.updateAAD(concat(domain, name, head));
            return concat(head, nonce, c.doFinal(payload));
        }

        static byte[] open(byte[] key, byte[] domain, byte[] name, byte[] sealed) throws GeneralSecurityException {
            assertEquals(1, sealed[0], "envelope version");
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, sealed, 2, 12));
            c.updateAAD(concat(domain, name, Arrays.copyOf(sealed, 2)));
            return c.doFinal(sealed, 14, sealed.length - 14);
        }

        static byte[] record(byte[] id, int offset, int length, int plainLength, int flags) {
            return ByteBuffer.allocate(45).put(id).putInt(offset).putInt(length).putInt(plainLength).put((byte) flags).array();
        }

        static byte[] be32(int n) {
            return ByteBuffer.allocate(4).putInt(n).array();
        }

        /** 16 KiB of test data: SHA-256(be32(0)) ‖ SHA-256(be32(1)) ‖ … ‖ SHA-256(be32(511)). */
        static byte[] chunkerData() throws GeneralSecurityException {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (int j = 0; j < 512; j++) {
                out.writeBytes(sha256(be32(j)));
            }
            return out.toByteArray();
        }

        /**
         * The tensor vector's chunk: one byte {@code 3f}, 257 BF16 values, one byte {@code bf} (516
         * bytes, so phase 1 and a 1-byte tail). Value {@code i} is {@code rotr16(e_i << 8 | m_i, 1)}
         * stored little-endian, with {@code m_i} byte {@code i} and {@code e_i = 0x78 + (byte 257+i mod 4)}
         * of the chunker's SHA-256 test data: random sign and mantissa, exponents of 2 bits' entropy.
         */
        static byte[] tensorPlain() throws GeneralSecurityException {
            byte[] random = chunkerData();
            byte[] plain = new byte[516];
            plain[0] = 0x3f;
            for (int i = 0; i < 257; i++) {
                int r = (0x78 + (random[257 + i] & 3)) << 8 | (random[i] & 0xff);
                int v = (r >>> 1 | r << 15) & 0xffff;
                plain[1 + 2 * i] = (byte) v;
                plain[2 + 2 * i] = (byte) (v >>> 8);
            }
            plain[515] = (byte) 0xbf;
            return plain;
        }

        static byte[] le32(long n) {
            return ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt((int) n).array();
        }

        /** docs/tensor-codec.md's layout for BF16, split 1, phase 1, plane 0 as the given zstd frame, plane 1 raw. */
        static byte[] tensorEncoding(byte[] plain, byte[] plane0Frame, byte[] plane1) {
            java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            crc.update(plain);
            return concat(new byte[] {1, 1, 2, 1, 1}, le32(plain.length), le32(crc.getValue()),
                    new byte[] {1}, le32(plane0Frame.length), new byte[] {0}, le32(plane1.length),
                    new byte[] {plain[0]}, new byte[] {plain[plain.length - 1]}, plane0Frame, plane1);
        }

        /** The planes of {@link #tensorPlain}'s 257 elements (split 1: rotate left by one bit, top byte first). */
        static byte[][] tensorPlanes(byte[] plain) {
            byte[][] planes = new byte[2][257];
            for (int i = 0; i < 257; i++) {
                int v = (plain[1 + 2 * i] & 0xff) | (plain[2 + 2 * i] & 0xff) << 8;
                int r = (v << 1 | v >>> 15) & 0xffff;
                planes[0][i] = (byte) (r >>> 8);
                planes[1][i] = (byte) r;
            }
            return planes;
        }

        /** docs/tensor-codec.md's grouped order of version 2: the element plane byte {@code i} of {@code n} holds. */
        static int tensorElementOf(int version, int w, int n, int i) {
            int[] pi = w == 2 ? new int[] {0, 4, 1, 5, 2, 6, 3, 7} : new int[] {0, 4, 2, 6, 1, 5, 3, 7};
            return version == 1 || i >= n - n % 8 ? i : i - i % 8 + pi[i % 8];
        }

        /** {@link #tensorPlain}'s encoding as version 2, both planes raw, by the spec's text. */
        static byte[] tensorEncodingV2(byte[] plain) {
            byte[][] planes = tensorPlanes(plain);
            byte[][] grouped = new byte[2][257];
            for (int k = 0; k < 2; k++) {
                for (int i = 0; i < 257; i++) {
                    grouped[k][i] = planes[k][tensorElementOf(2, 2, 257, i)];
                }
            }
            java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            crc.update(plain);
            return concat(new byte[] {2, 1, 2, 1, 1}, le32(plain.length), le32(crc.getValue()),
                    new byte[] {0}, le32(257), new byte[] {0}, le32(257),
                    new byte[] {plain[0]}, new byte[] {plain[plain.length - 1]}, grouped[0], grouped[1]);
        }

        /** A decoder of docs/tensor-codec.md's layout written from the text (versions 1 and 2, any dtype, split, phase). */
        static byte[] tensorDecode(byte[] e) {
            ByteBuffer b = ByteBuffer.wrap(e).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            int version = b.get();
            assertThat(version).as("codec version").isIn(1, 2);
            int dtype = b.get();
            int w = b.get();
            assertEquals(dtype == 3 ? 4 : 2, w);
            int split = b.get();
            int phase = b.get();
            int length = b.getInt();
            int crc = b.getInt();
            int[] flags = new int[w];
            int[] stored = new int[w];
            for (int k = 0; k < w; k++) {
                flags[k] = b.get();
                stored[k] = b.getInt();
            }
            int head = Math.min(phase, length);
            int n = (length - head) / w;
            int tail = length - head - n * w;
            byte[] plain = new byte[length];
            b.get(plain, 0, head);
            b.get(plain, length - tail, tail);
            byte[][] planes = new byte[w][];
            for (int k = 0; k < w; k++) {
                byte[] p = new byte[stored[k]];
                b.get(p);
                planes[k] = flags[k] == 0 ? p : Zstd.decompress(p, n);
                assertEquals(n, planes[k].length);
            }
            assertEquals(0, b.remaining(), "nothing after the planes");
            int bits = 8 * w;
            long mask = bits == 32 ? 0xffffffffL : 0xffffL;
            for (int i = 0; i < n; i++) {
                long r = 0;
                for (int k = 0; k < w; k++) {
                    r = r << 8 | (planes[k][i] & 0xff);
                }
                long v = split == 1 ? (r >>> 1 | r << (bits - 1)) & mask : r;
                int element = tensorElementOf(version, w, n, i);
                for (int j = 0; j < w; j++) {
                    plain[head + w * element + j] = (byte) (v >>> (8 * j));
                }
            }
            java.util.zip.CRC32C c = new java.util.zip.CRC32C();
            c.update(plain);
            assertEquals(crc, (int) c.getValue(), "CRC-32C");
            return plain;
        }

        private void put(String key, byte[] value) {
            v.put(key, HEX.formatHex(value));
        }

        private byte[] zstdFrame(String key, byte[] plain) {
            String s = shipped.get(key);
            byte[] frame = s != null ? HEX.parseHex(s) : Zstd.compress(plain, 3);
            assertArrayEquals(plain, Zstd.decompress(frame, plain.length), key + " decompresses to the plaintext");
            assertEquals(plain.length, Zstd.getFrameContentSize(frame), key + " declares its content size");
            return frame;
        }

        Map<String, String> build() throws Exception {
            put("masterKey", MASTER);

            // (1) chunk blobs
            byte[] chunkDomain = ascii("dr4j/chunk/v1");
            byte[] id1 = hmac(K_ID, PLAIN1);
            byte[] blob1 = seal(K_ENC, chunkDomain, id1, 0, nonce(1), PLAIN1);
            v.put("chunk1.plaintextAscii", new String(PLAIN1, StandardCharsets.US_ASCII));
            put("chunk1.plaintext", PLAIN1);
            put("chunk1.id", id1);
            put("chunk1.nonce", nonce(1));
            put("chunk1.aad", concat(chunkDomain, id1, new byte[] {1, 0}));
            put("chunk1.blob", blob1);
            byte[] id2 = hmac(K_ID, PLAIN2);
            byte[] frame2 = zstdFrame("chunk2.zstdFrame", PLAIN2);
            byte[] blob2 = seal(K_ENC, chunkDomain, id2, 1, nonce(2), frame2);
            v.put("chunk2.plaintextAscii", new String(PLAIN2, StandardCharsets.US_ASCII));
            put("chunk2.plaintext", PLAIN2);
            put("chunk2.id", id2);
            put("chunk2.zstdFrame", frame2);
            put("chunk2.nonce", nonce(2));
            put("chunk2.aad", concat(chunkDomain, id2, new byte[] {1, 1}));
            put("chunk2.blob", blob2);
            // (1b) a tensor-coded blob (flags 02) of a BF16 chunk, encoded as docs/tensor-codec.md lays out
            byte[] id3 = hmac(K_ID, PLAIN3);
            byte[][] planes = tensorPlanes(PLAIN3);
            String shippedFrame = shipped.get("chunk3.plane0.zstdFrame");
            byte[] frame3 = shippedFrame != null ? HEX.parseHex(shippedFrame) : Zstd.compress(planes[0], 1);
            assertArrayEquals(planes[0], Zstd.decompress(frame3, planes[0].length), "chunk3.plane0.zstdFrame decompresses");
            byte[] encoding3 = tensorEncoding(PLAIN3, frame3, planes[1]);
            assertArrayEquals(PLAIN3, tensorDecode(encoding3));
            byte[] blob3 = seal(K_ENC, chunkDomain, id3, 2, nonce(8), encoding3);
            put("chunk3.plaintext", PLAIN3);
            put("chunk3.id", id3);
            put("chunk3.plane0", planes[0]);
            put("chunk3.plane0.zstdFrame", frame3);
            put("chunk3.plane1", planes[1]);
            put("chunk3.encoding", encoding3);
            put("chunk3.nonce", nonce(8));
            put("chunk3.aad", concat(chunkDomain, id3, new byte[] {1, 2}));
            put("chunk3.blob", blob3);
            // (1c) the same chunk as codec version 2 (docs/tensor-codec.md: grouped plane order), planes raw
            byte[] encoding3v2 = tensorEncodingV2(PLAIN3);
            assertArrayEquals(PLAIN3, tensorDecode(encoding3v2));
            put("chunk3.v2.encoding", encoding3v2);
            v.put("chunk1.offset", "0");
            v.put("chunk2.offset", Integer.toString(blob1.length));

            // (2) pack
            byte[] rec1 = record(id1, 0, blob1.length, PLAIN1.length, 0);
            byte[] rec2 = record(id2, blob1.length, blob2.length, PLAIN2.length, 1);
            byte[] headerPlain = concat(be32(2), rec1, rec2);
            byte[] headerSealed = seal(K_ENC, ascii("dr4j/pack/v2"), PACK_ID, 0, nonce(3), headerPlain);
            byte[] trailer = concat(be32(headerSealed.length), ascii("dr4jpak2"));
            byte[] pack = concat(blob1, blob2, headerSealed, trailer);
            String packHex = HEX.formatHex(PACK_ID);
            put("pack.id", PACK_ID);
            v.put("pack.key", "packs/" + packHex.substring(0, 2) + "/" + packHex);
            v.put("pack.dataLength", Integer.toString(blob1.length + blob2.length));
            put("pack.header.plain", headerPlain);
            put("pack.header.nonce", nonce(3));
            put("pack.header.sealed", headerSealed);
            put("pack.trailer", trailer);
            put("pack.bytes", pack);

            // (3) index file
            byte[] indexPlain = concat(be32(1), PACK_ID, be32(2), rec1, rec2);
            byte[] indexSealed = seal(K_ENC, ascii("dr4j/index/v2"), INDEX_ID, 0, nonce(4), indexPlain);
            put("index.id", INDEX_ID);
            v.put("index.key", "index/" + HEX.formatHex(INDEX_ID));
            put("index.plain", indexPlain);
            put("index.nonce", nonce(4));
            put("index.sealed", indexSealed);

            // (4) key slots and config
            String context = "dr4j/key/v2|dr4j-repository|2|" + REPO_ID + "|65536|262144|1048576|zstd:3|pack:16777216";
            byte[] ctx = context.getBytes(StandardCharsets.UTF_8);
            v.put("keySlot.context", context);
            put("keySlot.raw.kek", KEK);
            put("keySlot.raw.nonce", nonce(5));
            put("keySlot.raw.aad", concat(ctx, new byte[] {1, 0}));
            byte[] rawWrapped = seal(KEK, ctx, new byte[0], 0, nonce(5), MASTER);
            put("keySlot.raw.wrapped", rawWrapped);
            byte[] passwordKek = argon2(PASSWORD.getBytes(StandardCharsets.UTF_8), SALT);
            v.put("keySlot.password.password", PASSWORD);
            put("keySlot.password.salt", SALT);
            v.put("keySlot.password.kdf", "argon2id v=0x13 memoryKiB=" + KDF_MEMORY_KIB + " iterations=" + KDF_ITERATIONS
                    + " parallelism=" + KDF_PARALLELISM + " length=32");
            put("keySlot.password.kek", passwordKek);
            put("keySlot.password.nonce", nonce(6));
            byte[] passwordWrapped = seal(passwordKek, ctx, new byte[0], 0, nonce(6), MASTER);
            put("keySlot.password.wrapped", passwordWrapped);
            Base64.Encoder b64 = Base64.getEncoder();
            v.put("config.json", "{\n"
                    + "  \"format\" : \"dr4j-repository\",\n"
                    + "  \"version\" : 2,\n"
                    + "  \"id\" : \"" + REPO_ID + "\",\n"
                    + "  \"created\" : \"" + CREATED + "\",\n"
                    + "  \"chunker\" : {\n"
                    + "    \"algorithm\" : \"fastcdc\",\n"
                    + "    \"minSize\" : 65536,\n"
                    + "    \"avgSize\" : 262144,\n"
                    + "    \"maxSize\" : 1048576\n"
                    + "  },\n"
                    + "  \"compression\" : {\n"
                    + "    \"algorithm\" : \"zstd\",\n"
                    + "    \"level\" : 3\n"
                    + "  },\n"
                    + "  \"pack\" : {\n"
                    + "    \"targetSize\" : 16777216\n"
                    + "  },\n"
                    + "  \"codec\" : {\n"
                    + "    \"tensor\" : false\n"
                    + "  },\n"
                    + "  \"keys\" : [ {\n"
                    + "    \"kind\" : \"raw\",\n"
                    + "    \"wrapped\" : \"" + b64.encodeToString(rawWrapped) + "\"\n"
                    + "  }, {\n"
                    + "    \"kind\" : \"password\",\n"
                    + "    \"kdf\" : {\n"
                    + "      \"algorithm\" : \"argon2id\",\n"
                    + "      \"memoryKiB\" : " + KDF_MEMORY_KIB + ",\n"
                    + "      \"iterations\" : " + KDF_ITERATIONS + ",\n"
                    + "      \"parallelism\" : " + KDF_PARALLELISM + "\n"
                    + "    },\n"
                    + "    \"salt\" : \"" + b64.encodeToString(SALT) + "\",\n"
                    + "    \"wrapped\" : \"" + b64.encodeToString(passwordWrapped) + "\"\n"
                    + "  } ]\n"
                    + "}");

            // (5) file hash of the two-chunk file p1 ‖ p2, and of an empty file
            long size = PLAIN1.length + PLAIN2.length;
            byte[] hashInput = concat(ascii("dr4j/file/v1"), ByteBuffer.allocate(8).putLong(size).array(), id1,
                    be32(PLAIN1.length), id2, be32(PLAIN2.length));
            put("fileHash.input", hashInput);
            String fileHash = HEX.formatHex(sha256(hashInput));
            v.put("fileHash.hash", fileHash);
            v.put("fileHash.emptyFile", HEX.formatHex(sha256(concat(ascii("dr4j/file/v1"), new byte[8]))));

            // (6) the manifest of a snapshot holding that file: the vectors make a whole repository
            String chunks = b64.encodeToString(concat(id1, be32(PLAIN1.length), id2, be32(PLAIN2.length)));
            String json = "{\"version\":1,\"id\":\"" + SNAPSHOT_ID + "\",\"time\":\"2026-12-01T12:00:00Z\","
                    + "\"host\":\"vector-host\",\"source\":\"/data/ckpt\",\"tags\":[\"nightly\"],\"labels\":{\"model\":\"tiny\"},"
                    + "\"stats\":{\"files\":2,\"directories\":2,\"totalBytes\":" + size + ",\"bytesRead\":" + size
                    + ",\"newBytesStored\":" + pack.length + ",\"newChunks\":2,\"reusedChunks\":0,\"unchangedFiles\":0,"
                    + "\"durationMillis\":5},\"entries\":["
                    + "{\"path\":\"model\",\"type\":\"dir\",\"mode\":493,\"mtime\":\"2026-12-01T11:59:58Z\"},"
                    + "{\"path\":\"model/empty\",\"type\":\"file\",\"mode\":420,\"mtime\":\"2026-12-01T11:59:57.500Z\","
                    + "\"size\":0,\"hash\":\"" + v.get("fileHash.emptyFile") + "\",\"chunks\":\"\"},"
                    + "{\"path\":\"model/weights.bin\",\"type\":\"file\",\"mode\":420,"
                    + "\"mtime\":\"2026-12-01T11:59:58.123456789Z\",\"size\":" + size + ",\"hash\":\"" + fileHash
                    + "\",\"chunks\":\"" + chunks + "\"}]}";
            v.put("manifest.id", SNAPSHOT_ID);
            v.put("manifest.key", "snapshots/" + SNAPSHOT_ID);
            v.put("manifest.json", json);
            byte[] manifestFrame = zstdFrame("manifest.zstdFrame", json.getBytes(StandardCharsets.UTF_8));
            put("manifest.zstdFrame", manifestFrame);
            put("manifest.nonce", nonce(7));
            put("manifest.sealed", seal(K_ENC, ascii("dr4j/snapshot/v1"), ascii(SNAPSHOT_ID), 1, nonce(7), manifestFrame));

            // (7) chunker: gear table sample and the cuts of the test data
            long[] gear = new long[256];
            for (int i = 0; i < 256; i += 4) {
                ByteBuffer b = ByteBuffer.wrap(hmac(K_CDC, ascii("dr4j/gear/" + i)));
                for (int j = 0; j < 4; j++) {
                    gear[i + j] = b.getLong();
                }
            }
            v.put("chunker.parameters", "minSize=256 avgSize=1024 maxSize=4096");
            v.put("chunker.data", "SHA-256(be32(0)) || SHA-256(be32(1)) || ... || SHA-256(be32(511)), 16384 bytes");
            v.put("chunker.gear", gearSample(gear));
            v.put("chunker.cuts", String.join(",", referenceCuts(gear, chunkerData(), 256, 1024, 4096)));
            return v;
        }

        private static byte[] argon2(byte[] password, byte[] salt) {
            Argon2Parameters params = new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
                    .withVersion(Argon2Parameters.ARGON2_VERSION_13).withSalt(salt).withMemoryAsKB(KDF_MEMORY_KIB)
                    .withIterations(KDF_ITERATIONS).withParallelism(KDF_PARALLELISM).build();
            Argon2BytesGenerator g = new Argon2BytesGenerator();
            g.init(params);
            byte[] out = new byte[32];
            g.generateBytes(password, out);
            return out;
        }

        /** FastCDC as FORMAT.md §Chunking states it. */
        static List<String> referenceCuts(long[] gear, byte[] data, int min, int avg, int max) {
            int bits = Integer.numberOfTrailingZeros(avg);
            long maskS = -1L << (64 - (bits + 2));
            long maskL = -1L << (64 - (bits - 2));
            List<String> cuts = new ArrayList<>();
            int at = 0;
            while (at < data.length) {
                int n = data.length - at;
                int len;
                if (n <= min) {
                    len = n;
                } else {
                    len = Math.min(n, max);
                    long fp = 0;
                    int i = min;
                    boolean cut = false;
                    for (; i < Math.min(avg, Math.min(n, max)) && !cut; i++) {
                        fp = (fp << 1) + gear[data[at + i] & 0xff];
                        if ((fp & maskS) == 0) {
                            len = i + 1;
                            cut = true;
                        }
                    }
                    for (; i < Math.min(n, max) && !cut; i++) {
                        fp = (fp << 1) + gear[data[at + i] & 0xff];
                        if ((fp & maskL) == 0) {
                            len = i + 1;
                            cut = true;
                        }
                    }
                }
                cuts.add(Integer.toString(len));
                at += len;
            }
            return cuts;
        }
    }
}
