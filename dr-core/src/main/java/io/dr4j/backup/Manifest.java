package io.dr4j.backup;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * A snapshot manifest: the snapshot's metadata and, for each file, its ordered chunk list.
 * Encoded as JSON (FORMAT.md §Snapshots), then sealed. Immutable.
 */
final class Manifest {

    /** Manifest schema version. */
    public static final int VERSION = 1;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HexFormat HEX = HexFormat.of();

    /** One chunk of a file: its id and plaintext length. */
    public record ChunkRef(ChunkId id, int length) {
    }

    /** A file or directory with, for a file, its chunks. */
    public record Entry(SnapshotEntry entry, List<ChunkRef> chunks) {
        public Entry {
            chunks = List.copyOf(chunks);
        }
    }

    private final Snapshot snapshot;
    private final List<Entry> entries;

    public Manifest(Snapshot snapshot, List<Entry> entries) {
        this.snapshot = snapshot;
        this.entries = List.copyOf(entries);
    }

    public Snapshot snapshot() {
        return snapshot;
    }

    public List<Entry> entries() {
        return entries;
    }

    /**
     * The file hash of FORMAT.md: SHA-256 over {@code "dr4j/file/v1"}, the size as 8 bytes big-endian,
     * then each chunk's 32-byte id and 4-byte big-endian length. Chunk ids authenticate the
     * content, so this pins the whole file without a second pass over its bytes.
     */
    public static String fileHash(long size, List<ChunkRef> chunks) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update("dr4j/file/v1".getBytes(StandardCharsets.US_ASCII));
            digest.update(ByteBuffer.allocate(8).putLong(size).array());
            byte[] record = new byte[ChunkId.LENGTH + 4];
            for (ChunkRef ref : chunks) {
                ref.id().copyTo(record, 0);
                ByteBuffer.wrap(record, ChunkId.LENGTH, 4).putInt(ref.length());
                digest.update(record);
            }
            return HEX.formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    /** Encodes as JSON bytes. */
    public byte[] toJson() {
        return encode(false);
    }

    /**
     * The snapshot catalog's entry: the manifest without chunk lists (each file gives its chunk
     * count instead), a small fraction of the manifest's size.
     */
    public byte[] summaryJson() {
        return encode(true);
    }

    /** Decodes a {@link #summaryJson()} into the snapshot it describes. */
    public static Snapshot summaryFromJson(SnapshotId expectedId, byte[] json, String where) {
        return decode(expectedId, json, where, true).snapshot();
    }

    private byte[] encode(boolean summary) {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", VERSION);
        root.put("id", snapshot.id().value());
        root.put("time", snapshot.time().toString());
        root.put("host", snapshot.host());
        root.put("source", snapshot.source());
        ArrayNode tags = root.putArray("tags");
        new TreeSet<>(snapshot.tags()).forEach(tags::add);
        ObjectNode labels = root.putObject("labels");
        new java.util.TreeMap<>(snapshot.labels()).forEach(labels::put);
        snapshot.parent().ifPresent(p -> root.put("parent", p.value()));
        if (!snapshot.excludes().isEmpty()) {
            ArrayNode excludes = root.putArray("excludes");
            snapshot.excludes().forEach(excludes::add);
        }
        SnapshotStats s = snapshot.stats();
        ObjectNode stats = root.putObject("stats");
        stats.put("files", s.files());
        stats.put("directories", s.directories());
        stats.put("totalBytes", s.totalBytes());
        stats.put("bytesRead", s.bytesRead());
        stats.put("newBytesStored", s.newBytesStored());
        stats.put("newChunks", s.newChunks());
        stats.put("reusedChunks", s.reusedChunks());
        stats.put("unchangedFiles", s.unchangedFiles());
        stats.put("durationMillis", s.duration().toMillis());
        if (!s.byDtype().isEmpty()) {
            ObjectNode byDtype = stats.putObject("byDtype");
            s.byDtype().forEach((dtype, d) -> byDtype.putObject(dtype).put("bytesRead", d.bytesRead())
                    .put("bytesStored", d.bytesStored()));
        }
        ArrayNode files = root.putArray("entries");
        for (Entry e : entries) {
            SnapshotEntry se = e.entry();
            ObjectNode f = files.addObject();
            f.put("path", se.path());
            f.put("type", se.type() == SnapshotEntry.Type.FILE ? "file" : "dir");
            se.mode().ifPresent(m -> f.put("mode", m));
            f.put("mtime", se.modified().toString());
            if (se.type() == SnapshotEntry.Type.FILE) {
                f.put("size", se.size());
                f.put("hash", se.hash().orElseThrow());
                if (summary) {
                    f.put("chunkCount", e.chunks().size());
                    continue;
                }
                byte[] packed = new byte[e.chunks().size() * (ChunkId.LENGTH + 4)];
                ByteBuffer buffer = ByteBuffer.wrap(packed);
                for (ChunkRef ref : e.chunks()) {
                    buffer.put(ref.id().unsafeBytes()).putInt(ref.length());
                }
                f.put("chunks", Base64.getEncoder().encodeToString(packed));
            }
        }
        try {
            return JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("manifest encoding failed", e);
        }
    }

    /**
     * Decodes and checks a manifest: schema, the id it claims, entry fields, chunk list lengths
     * against file sizes, and file hashes. Paths are checked for safety by the restorer.
     *
     * @throws CorruptObjectException naming {@code where} and the first problem found
     */
    public static Manifest fromJson(SnapshotId expectedId, byte[] json, String where) {
        return decode(expectedId, json, where, false);
    }

    private static Manifest decode(SnapshotId expectedId, byte[] json, String where, boolean summary) {
        try {
            JsonNode root = JSON.readTree(json);
            int version = required(root, "version", where).asInt();
            if (version != VERSION) {
                throw new CorruptObjectException(where + ": unsupported manifest version " + version);
            }
            SnapshotId id = SnapshotId.of(text(root, "id", where));
            if (!id.equals(expectedId)) {
                throw new CorruptObjectException(where + ": manifest claims id " + id + " but is stored as " + expectedId);
            }
            List<String> tags = new ArrayList<>();
            required(root, "tags", where).forEach(t -> tags.add(t.asText()));
            Map<String, String> labels = new LinkedHashMap<>();
            Iterator<Map.Entry<String, JsonNode>> fields = required(root, "labels", where).fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> field = fields.next();
                labels.put(field.getKey(), field.getValue().asText());
            }
            Optional<SnapshotId> parent = root.hasNonNull("parent") ? Optional.of(SnapshotId.of(root.get("parent").asText()))
                    : Optional.empty();
            List<String> excludes = new ArrayList<>();
            root.path("excludes").forEach(x -> excludes.add(x.asText())); // absent before excludes existed
            JsonNode st = required(root, "stats", where);
            SnapshotStats stats = new SnapshotStats(st.path("files").asLong(), st.path("directories").asLong(),
                    st.path("totalBytes").asLong(), st.path("bytesRead").asLong(), st.path("newBytesStored").asLong(),
                    st.path("newChunks").asLong(), st.path("reusedChunks").asLong(), st.path("unchangedFiles").asLong(),
                    Duration.ofMillis(st.path("durationMillis").asLong()), byDtype(st.path("byDtype")));
            List<Entry> entries = new ArrayList<>();
            List<SnapshotEntry> views = new ArrayList<>();
            for (JsonNode f : required(root, "entries", where)) {
                String path = text(f, "path", where);
                String type = text(f, "type", where);
                Optional<Integer> mode = f.has("mode") ? Optional.of(f.get("mode").asInt()) : Optional.empty();
                Instant mtime = Instant.parse(text(f, "mtime", where));
                if (type.equals("dir")) {
                    SnapshotEntry view = new SnapshotEntry(path, SnapshotEntry.Type.DIRECTORY, 0, mode, mtime, Optional.empty(), 0);
                    views.add(view);
                    entries.add(new Entry(view, List.of()));
                } else if (type.equals("file")) {
                    long size = required(f, "size", where).asLong();
                    String hash = text(f, "hash", where);
                    if (summary) {
                        SnapshotEntry view = new SnapshotEntry(path, SnapshotEntry.Type.FILE, size, mode, mtime, Optional.of(hash),
                                required(f, "chunkCount", where).asInt());
                        views.add(view);
                        entries.add(new Entry(view, List.of()));
                        continue;
                    }
                    byte[] packed = Base64.getDecoder().decode(text(f, "chunks", where));
                    if (packed.length % (ChunkId.LENGTH + 4) != 0) {
                        throw new CorruptObjectException(where + ": chunk list of '" + path + "' has a partial record");
                    }
                    List<ChunkRef> chunks = new ArrayList<>(packed.length / (ChunkId.LENGTH + 4));
                    ByteBuffer buffer = ByteBuffer.wrap(packed);
                    long total = 0;
                    while (buffer.hasRemaining()) {
                        ChunkId chunk = ChunkId.copyOf(packed, buffer.position());
                        buffer.position(buffer.position() + ChunkId.LENGTH);
                        int length = buffer.getInt();
                        if (length <= 0) {
                            throw new CorruptObjectException(where + ": chunk of '" + path + "' has length " + length);
                        }
                        total += length;
                        chunks.add(new ChunkRef(chunk, length));
                    }
                    if (total != size) {
                        throw new CorruptObjectException(where + ": chunks of '" + path + "' add up to " + total
                                + " bytes but the file has " + size);
                    }
                    if (!fileHash(size, chunks).equals(hash)) {
                        throw new CorruptObjectException(where + ": file hash of '" + path + "' does not match its chunk list");
                    }
                    SnapshotEntry view = new SnapshotEntry(path, SnapshotEntry.Type.FILE, size, mode, mtime, Optional.of(hash),
                            chunks.size());
                    views.add(view);
                    entries.add(new Entry(view, chunks));
                } else {
                    throw new CorruptObjectException(where + ": entry '" + path + "' has unknown type '" + type + "'");
                }
            }
            Snapshot snapshot = new Snapshot(id, Instant.parse(text(root, "time", where)), text(root, "host", where),
                    text(root, "source", where), new java.util.HashSet<>(tags), labels, parent, views, stats, excludes);
            return new Manifest(snapshot, entries);
        } catch (CorruptObjectException e) {
            throw e;
        } catch (java.io.IOException | RuntimeException e) {
            throw new CorruptObjectException(where + ": manifest cannot be decoded: " + e.getMessage(), e);
        }
    }

    /** The optional per-dtype figures (absent in manifests written before they existed). */
    private static Map<String, SnapshotStats.DtypeStats> byDtype(JsonNode node) {
        Map<String, SnapshotStats.DtypeStats> out = new java.util.TreeMap<>();
        Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> f = fields.next();
            out.put(f.getKey(), new SnapshotStats.DtypeStats(f.getValue().path("bytesRead").asLong(),
                    f.getValue().path("bytesStored").asLong()));
        }
        return out;
    }

    private static JsonNode required(JsonNode node, String field, String where) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            throw new CorruptObjectException(where + ": manifest lacks field '" + field + "'");
        }
        return value;
    }

    private static String text(JsonNode node, String field, String where) {
        JsonNode value = required(node, field, where);
        if (!value.isTextual()) {
            throw new CorruptObjectException(where + ": manifest field '" + field + "' is not a string");
        }
        return value.asText();
    }
}
