package io.dr4j.replication;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The durable repair log of a replicated store: append-only journal objects in a designated
 * {@link BlobStore} under {@code <prefix>/journal-<seq>}, each holding one batch of
 * {@link RepairEntry entries} as JSON, plus an occasional {@code <prefix>/snapshot-<seq>} holding
 * every entry still pending at that point, after which older objects are deleted (compaction).
 *
 * <p>Each append is one atomic put, so a crash leaves whole batches only. Replay reads the newest
 * snapshot and the journals after it; for each key the entry with the highest sequence number
 * wins. One writer per log: two processes appending to one log would reuse sequence numbers.
 *
 * <p>Thread-safe: appends and compactions are serialized.
 */
final class RepairJournal {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int FORMAT = 1;

    private final BlobStore store;
    private final String prefix;
    private long nextSeq;
    private final List<BlobKey> liveObjects = new ArrayList<>();
    private long appendsSinceSnapshot;

    private RepairJournal(BlobStore store, String prefix) {
        this.store = store;
        this.prefix = prefix;
    }

    /**
     * Opens the log under {@code prefix} in {@code store} and returns it with the pending entries
     * it holds (highest sequence per key).
     *
     * @throws IOException if the log cannot be listed or an object in it cannot be read or parsed;
     *     an unreadable log is an error rather than silently forgotten owed writes
     */
    public static Opened open(BlobStore store, String prefix) throws IOException {
        RepairJournal journal = new RepairJournal(store, prefix);
        List<long[]> objects = new ArrayList<>(); // {seq, isSnapshot}
        try (Stream<BlobInfo> listing = store.list(prefix)) {
            for (BlobInfo info : (Iterable<BlobInfo>) listing::iterator) {
                String name = info.key().name();
                if (name.startsWith("journal-")) {
                    objects.add(new long[] {parseSeq(info.key(), "journal-"), 0});
                } else if (name.startsWith("snapshot-")) {
                    objects.add(new long[] {parseSeq(info.key(), "snapshot-"), 1});
                } else {
                    throw new IOException(store.name() + ": unexpected object " + info.key() + " in the repair log");
                }
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        objects.sort(Comparator.comparingLong(o -> o[0]));
        long snapshot = -1;
        for (long[] o : objects) {
            if (o[1] == 1) {
                snapshot = o[0];
            }
        }
        Map<BlobKey, RepairEntry> pending = new HashMap<>();
        long maxSeq = 0;
        for (long[] o : objects) {
            maxSeq = Math.max(maxSeq, o[0]);
            if (o[0] < snapshot) {
                continue;
            }
            BlobKey key = journal.objectKey(o[0], o[1] == 1);
            journal.liveObjects.add(key);
            for (RepairEntry e : decode(key, store.getBytes(key))) {
                maxSeq = Math.max(maxSeq, e.seq());
                pending.merge(e.key(), e, (a, b) -> a.seq() >= b.seq() ? a : b);
            }
        }
        journal.nextSeq = maxSeq + 1;
        return new Opened(journal, pending);
    }

    /** A journal together with the entries replayed from it. */
    public record Opened(RepairJournal journal, Map<BlobKey, RepairEntry> pending) {
    }

    /** Reserves the next sequence number, for an entry about to be appended. */
    public synchronized long nextSeq() {
        return nextSeq++;
    }

    /** Durably appends {@code entries} as one journal object. */
    public synchronized void append(Collection<RepairEntry> entries) throws IOException {
        if (entries.isEmpty()) {
            return;
        }
        BlobKey key = objectKey(nextSeq++, false);
        store.put(key, encode(entries));
        liveObjects.add(key);
        appendsSinceSnapshot++;
    }

    /** Journal objects appended since the last snapshot; a hint for when to compact. */
    public synchronized long appendsSinceSnapshot() {
        return appendsSinceSnapshot;
    }

    /**
     * Writes the entries {@code pending} supplies as a snapshot, then deletes every older journal
     * and snapshot object. {@code pending} is read under the journal's lock, so an entry appended
     * before the snapshot is either in it or still pending in the caller's view. A crash in
     * between leaves the snapshot and some older objects, which replay handles.
     */
    public synchronized void compact(java.util.function.Supplier<Collection<RepairEntry>> pending) throws IOException {
        BlobKey snapshot = objectKey(nextSeq++, true);
        store.put(snapshot, encode(pending.get()));
        List<BlobKey> older = new ArrayList<>(liveObjects);
        liveObjects.clear();
        liveObjects.add(snapshot);
        appendsSinceSnapshot = 0;
        for (BlobKey old : older) {
            store.delete(old);
        }
    }

    /** The store holding the log, for messages. */
    public String storeName() {
        return store.name();
    }

    private BlobKey objectKey(long seq, boolean snapshot) {
        return BlobKey.of(prefix + "/" + (snapshot ? "snapshot-" : "journal-") + String.format("%020d", seq));
    }

    private static long parseSeq(BlobKey key, String stem) throws IOException {
        try {
            return Long.parseLong(key.name().substring(stem.length()));
        } catch (NumberFormatException e) {
            throw new IOException("malformed repair log object name " + key, e);
        }
    }

    private static byte[] encode(Collection<RepairEntry> entries) {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        ArrayNode array = root.putArray("entries");
        for (RepairEntry e : entries) {
            ObjectNode n = array.addObject();
            n.put("seq", e.seq());
            n.put("kind", e.kind().name());
            n.put("key", e.key().value());
            ArrayNode sources = n.putArray("sources");
            e.sources().forEach(sources::add);
            ArrayNode targets = n.putArray("targets");
            e.targets().forEach(targets::add);
            n.put("size", e.size());
            n.put("recordedAt", e.recordedAt().toString());
        }
        try {
            return JSON.writeValueAsBytes(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot encode repair entries", e);
        }
    }

    private static List<RepairEntry> decode(BlobKey object, byte[] bytes) throws IOException {
        try {
            JsonNode root = JSON.readTree(new String(bytes, StandardCharsets.UTF_8));
            if (root == null || root.path("format").asInt() != FORMAT) {
                throw new IOException("repair log object " + object + " has unsupported format " + (root == null ? "none" : root.path("format")));
            }
            List<RepairEntry> entries = new ArrayList<>();
            for (JsonNode n : root.path("entries")) {
                entries.add(new RepairEntry(n.get("seq").asLong(), RepairEntry.Kind.valueOf(n.get("kind").asText()),
                        BlobKey.of(n.get("key").asText()), strings(n.get("sources")), strings(n.get("targets")),
                        n.get("size").asLong(), Instant.parse(n.get("recordedAt").asText())));
            }
            return entries;
        } catch (RuntimeException e) {
            throw new IOException("repair log object " + object + " is malformed: " + e, e);
        }
    }

    private static Set<String> strings(JsonNode array) {
        Set<String> out = new LinkedHashSet<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
