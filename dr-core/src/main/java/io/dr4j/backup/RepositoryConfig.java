package io.dr4j.backup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The repository's {@code config} object (FORMAT.md §Config): format name and version, id,
 * chunker, compression and codec settings, and key slots. Plain JSON, so that a wrong key can be told
 * apart from a missing or unknown repository; its settings are authenticated because they are
 * bound into every key slot's associated data ({@link #context()}).
 */
final class RepositoryConfig {

    /** The value of the {@code format} field. */
    public static final String FORMAT = "dr4j-repository";
    /** The format version this library reads and writes. */
    public static final int VERSION = 2;
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final Pattern SLOT_ID = Pattern.compile("[0-9a-f]{8}");
    private static final Pattern KIND = Pattern.compile("[a-z][a-z0-9._:-]{0,63}");

    /**
     * A key slot: how to recover its key-encryption key, and the master key wrapped by it.
     *
     * @param storedId the slot's id as stored (8 hex digits), or null for a slot written before slots had ids
     * @param kind {@code password}, {@code raw} or an application's provider kind
     * @param label a free-form label ({@code ""} for none); informational, not authenticated
     * @param created when the slot was written, or null if not recorded; informational, not authenticated
     * @param kdf the Argon2id settings of a password slot, else null
     * @param parameters what the provider needs to recover the KEK (a password slot: {@code salt} in base64)
     * @param wrapped the sealed master key
     */
    public record KeySlot(String storedId, String kind, String label, Instant created, KdfParameters kdf,
            Map<String, String> parameters, byte[] wrapped) {
        public KeySlot {
            parameters = Map.copyOf(parameters);
        }

        /** The slot's id: as stored, or for a slot without one, the first 8 hex digits of SHA-256(wrapped) (stable while the slot is). */
        public String id() {
            if (storedId != null) {
                return storedId;
            }
            try {
                return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(wrapped), 0, 4);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        /** Whether {@code kind} is well formed (FORMAT.md §Config). */
        public static boolean validKind(String kind) {
            return kind != null && KIND.matcher(kind).matches();
        }
    }

    private final String id;
    private final Instant created;
    private final ChunkerParameters chunker;
    private final int compressionLevel;
    private final int packSize;
    private final boolean tensorCodec;
    private final List<KeySlot> slots;

    /** @param tensorCodec whether backups offer chunks of floating-point tensors to the {@link TensorCodec} */
    public RepositoryConfig(String id, Instant created, ChunkerParameters chunker, int compressionLevel, int packSize,
            boolean tensorCodec, List<KeySlot> slots) {
        this.id = id;
        this.created = created;
        this.chunker = chunker;
        this.compressionLevel = compressionLevel;
        this.packSize = packSize;
        this.tensorCodec = tensorCodec;
        this.slots = List.copyOf(slots);
    }

    /**
     * Whether backups encode chunks of BF16/F16/F32 safetensors data with the {@link TensorCodec}
     * (blob flag 2). Readers decode such blobs whatever this says: it only steers writing.
     */
    public boolean tensorCodec() {
        return tensorCodec;
    }

    /** Target size of a pack in bytes. */
    public int packSize() {
        return packSize;
    }

    public String id() {
        return id;
    }

    public Instant created() {
        return created;
    }

    public ChunkerParameters chunker() {
        return chunker;
    }

    public int compressionLevel() {
        return compressionLevel;
    }

    public List<KeySlot> slots() {
        return slots;
    }

    /** These settings with another slot list. */
    public RepositoryConfig withSlots(List<KeySlot> newSlots) {
        return new RepositoryConfig(id, created, chunker, compressionLevel, packSize, tensorCodec, newSlots);
    }

    /**
     * The associated data of every key slot: the settings, so that changing any of them in the
     * stored config makes every slot fail to unwrap.
     */
    public byte[] context() {
        return ("dr4j/key/v2|" + FORMAT + "|" + VERSION + "|" + id + "|" + chunker.minSize() + "|" + chunker.avgSize()
                + "|" + chunker.maxSize() + "|zstd:" + compressionLevel + "|pack:" + packSize
                // appended only when on, so a config written before the switch existed (which reads
                // as off) keeps the context its slots were wrapped with
                + (tensorCodec ? "|codec:tensor" : "")).getBytes(StandardCharsets.UTF_8);
    }

    public byte[] toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("version", VERSION);
        root.put("id", id);
        root.put("created", created.toString());
        ObjectNode c = root.putObject("chunker");
        c.put("algorithm", "fastcdc");
        c.put("minSize", chunker.minSize());
        c.put("avgSize", chunker.avgSize());
        c.put("maxSize", chunker.maxSize());
        ObjectNode z = root.putObject("compression");
        z.put("algorithm", "zstd");
        z.put("level", compressionLevel);
        root.putObject("pack").put("targetSize", packSize);
        root.putObject("codec").put("tensor", tensorCodec);
        ArrayNode keys = root.putArray("keys");
        for (KeySlot slot : slots) {
            ObjectNode k = keys.addObject();
            k.put("kind", slot.kind());
            if (slot.storedId() != null) {
                k.put("id", slot.storedId());
            }
            if (!slot.label().isEmpty()) {
                k.put("label", slot.label());
            }
            if (slot.created() != null) {
                k.put("created", slot.created().toString());
            }
            if (slot.kind().equals("password")) {
                ObjectNode kdf = k.putObject("kdf");
                kdf.put("algorithm", "argon2id");
                kdf.put("memoryKiB", slot.kdf().memoryKiB());
                kdf.put("iterations", slot.kdf().iterations());
                kdf.put("parallelism", slot.kdf().parallelism());
                k.put("salt", slot.parameters().get("salt"));
            } else if (!slot.kind().equals("raw")) {
                ObjectNode params = k.putObject("params");
                new java.util.TreeMap<>(slot.parameters()).forEach(params::put);
            }
            k.put("wrapped", Base64.getEncoder().encodeToString(slot.wrapped()));
        }
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
        } catch (IOException e) {
            throw new IllegalStateException("config encoding failed", e);
        }
    }

    /**
     * Parses a config.
     *
     * @throws UnsupportedFormatException if it is not a dr4j config or has an unknown version
     */
    public static RepositoryConfig fromJson(byte[] json, String where) {
        return fromJson(json, where, ReaderLimits.defaults());
    }

    /**
     * Whether {@code json} is a config as written whole by some dr4j version: valid JSON naming
     * the dr4j format and an integer version, whatever that version and its settings. A copy that
     * fails this is damaged; one that passes but that {@link #fromJson} refuses (a newer version, a
     * heavier KDF than the reader's limits) is genuine but unusable by this reader.
     */
    static boolean isWrittenWhole(byte[] json) {
        try {
            JsonNode root = JSON.readTree(json);
            return root != null && FORMAT.equals(root.path("format").asText(null)) && root.path("version").isInt();
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Parses a config, refusing one whose key slots or KDF parameters exceed {@code limits} before
     * any key is derived.
     *
     * @throws UnsupportedFormatException if it is not a dr4j config or has an unknown version
     * @throws io.dr4j.backup.ReaderLimitException if it asks for more than {@code limits} allow
     */
    public static RepositoryConfig fromJson(byte[] json, String where, ReaderLimits limits) {
        if (json.length > limits.maxConfigBytes()) {
            throw Ceilings.refused(where, "size", json.length + " bytes", limits.maxConfigBytes() + " bytes", "maxConfigBytes");
        }
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            throw new UnsupportedFormatException(where + ": config is not valid JSON; this is not a dr4j repository or its config is damaged", e);
        }
        if (root == null || !FORMAT.equals(root.path("format").asText(null))) {
            throw new UnsupportedFormatException(where + ": config is not a dr4j repository config (format '"
                    + (root == null ? null : root.path("format").asText(null)) + "')");
        }
        int version = root.path("version").asInt(-1);
        if (version != VERSION) {
            throw new UnsupportedFormatException(where + ": repository format version " + version
                    + " is not supported; this dr4j reads version " + VERSION
                    + (version > VERSION ? " (upgrade dr4j)"
                    : version == 1 ? " (a version 1 repository stores one object per chunk; back the checkpoints up into a"
                            + " new repository created by this dr4j)" : ""));
        }
        try {
            JsonNode c = root.get("chunker");
            if (!"fastcdc".equals(c.path("algorithm").asText())) {
                throw new UnsupportedFormatException(where + ": unknown chunker '" + c.path("algorithm").asText() + "'");
            }
            ChunkerParameters chunker = new ChunkerParameters(c.get("minSize").asInt(), c.get("avgSize").asInt(),
                    c.get("maxSize").asInt());
            JsonNode z = root.get("compression");
            if (!"zstd".equals(z.path("algorithm").asText())) {
                throw new UnsupportedFormatException(where + ": unknown compression '" + z.path("algorithm").asText() + "'");
            }
            int packSize = root.path("pack").path("targetSize").asInt(-1);
            if (packSize < io.dr4j.backup.InitOptions.MIN_PACK_SIZE || packSize > io.dr4j.backup.InitOptions.MAX_PACK_SIZE) {
                throw new UnsupportedFormatException(where + ": pack targetSize " + packSize + " is missing or outside "
                        + io.dr4j.backup.InitOptions.MIN_PACK_SIZE + " to " + io.dr4j.backup.InitOptions.MAX_PACK_SIZE);
            }
            JsonNode codec = root.path("codec").path("tensor");
            if (!codec.isMissingNode() && !codec.isBoolean()) {
                throw new UnsupportedFormatException(where + ": codec.tensor must be true or false, was " + codec);
            }
            boolean tensorCodec = codec.asBoolean(false);
            JsonNode keys = root.get("keys");
            if (!keys.isArray()) {
                throw new UnsupportedFormatException(where + ": keys must be an array");
            }
            if (keys.size() > limits.maxKeySlots()) {
                throw Ceilings.refused(where, "number of key slots", keys.size(), limits.maxKeySlots(), "maxKeySlots");
            }
            List<KeySlot> slots = new ArrayList<>();
            Set<String> ids = new HashSet<>();
            for (JsonNode k : keys) {
                String kind = k.get("kind").asText();
                if (!KeySlot.validKind(kind)) {
                    throw new UnsupportedFormatException(where + ": key slot kind '" + kind + "' is not well formed");
                }
                String id = k.hasNonNull("id") ? k.get("id").asText() : null;
                if (id != null && !SLOT_ID.matcher(id).matches()) {
                    throw new UnsupportedFormatException(where + ": key slot id '" + id + "' is not 8 hex digits");
                }
                String label = k.path("label").asText("");
                Instant slotCreated = k.hasNonNull("created") ? Instant.parse(k.get("created").asText()) : null;
                KdfParameters kdf = null;
                Map<String, String> params = new LinkedHashMap<>();
                if (kind.equals("password")) {
                    JsonNode p = k.get("kdf");
                    if (!"argon2id".equals(p.path("algorithm").asText())) {
                        throw new UnsupportedFormatException(where + ": unknown KDF '" + p.path("algorithm").asText() + "'");
                    }
                    long memory = p.get("memoryKiB").asLong();
                    long iterations = p.get("iterations").asLong();
                    String slotName = "key slot " + (slots.size() + 1);
                    if (memory > limits.maxKdfMemoryKiB()) {
                        throw Ceilings.refused(where, slotName + " kdf.memoryKiB", memory, limits.maxKdfMemoryKiB(),
                                "maxKdfMemoryKiB");
                    }
                    if (iterations > limits.maxKdfIterations()) {
                        throw Ceilings.refused(where, slotName + " kdf.iterations", iterations, limits.maxKdfIterations(),
                                "maxKdfIterations");
                    }
                    kdf = new KdfParameters((int) memory, (int) iterations, p.get("parallelism").asInt());
                    String salt = k.get("salt").asText();
                    if (Base64.getDecoder().decode(salt).length != 16) {
                        throw new UnsupportedFormatException(where + ": a password key slot's salt must be 16 bytes");
                    }
                    params.put("salt", salt);
                } else if (!kind.equals("raw") && k.has("params")) {
                    k.get("params").fields().forEachRemaining(f -> params.put(f.getKey(), f.getValue().asText()));
                }
                KeySlot slot = new KeySlot(id, kind, label, slotCreated, kdf, params,
                        Base64.getDecoder().decode(k.get("wrapped").asText()));
                if (!ids.add(slot.id())) {
                    throw new UnsupportedFormatException(where + ": two key slots have the id " + slot.id());
                }
                slots.add(slot);
            }
            if (slots.isEmpty()) {
                throw new UnsupportedFormatException(where + ": config has no key slot");
            }
            return new RepositoryConfig(root.get("id").asText(), Instant.parse(root.get("created").asText()), chunker,
                    z.get("level").asInt(), packSize, tensorCodec, slots);
        } catch (UnsupportedFormatException | io.dr4j.backup.ReaderLimitException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new UnsupportedFormatException(where + ": config is damaged: " + e, e);
        }
    }
}
