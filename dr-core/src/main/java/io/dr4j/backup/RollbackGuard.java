package io.dr4j.backup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * Rollback detection: a local high-water mark per checkpoint set (snapshots of one host and
 * source, as retention groups them), the newest snapshot this client has seen there, kept in
 * {@code <cache>/<repository id>/high-water.json}. Marks only rise as snapshots are seen, except
 * through this client's own {@code forget} (which lowers the marks of the snapshots it removed)
 * and an explicit {@link #reset}. When the store's newest snapshot of a set is older than its
 * mark, or the set is gone, {@link #check} throws {@link RollbackDetectedException}.
 *
 * <p>What it cannot see: a client with no cache (first run, a wiped or disabled cache) has no
 * mark and trusts what it finds; a store that withholds snapshots the client never saw. The mark
 * file is as trustworthy as the local disk. Thread-safe; concurrent processes merge their marks
 * (read, raise, atomic rename), so the higher mark wins, save for a forget racing a backup.
 */
final class RollbackGuard {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Comparator<Mark> ORDER = Comparator.comparing(Mark::time).thenComparing(Mark::id);

    /** The newest snapshot seen of one checkpoint set. */
    record Mark(String host, String source, String id, Instant time, Set<String> tags, Map<String, String> labels) {
        static Mark of(Snapshot s) {
            return new Mark(s.host(), s.source(), s.id().value(), s.time(), new TreeSet<>(s.tags()), new TreeMap<>(s.labels()));
        }

        String group() {
            return host + "\u0000" + source;
        }

        /** A snapshot summary with this mark's fields, to test against a filter. */
        Snapshot asSnapshot() {
            return new Snapshot(SnapshotId.of(id), time, host, source, tags, labels, Optional.empty(), List.of(),
                    new SnapshotStats(0, 0, 0, 0, 0, 0, 0, 0, Duration.ZERO));
        }
    }

    private final Optional<Path> file;
    private final String storeName;

    /** @param directory this repository's cache folder; empty disables detection */
    public RollbackGuard(Optional<Path> directory, String storeName) {
        this.file = directory.map(d -> d.resolve("high-water.json"));
        this.storeName = storeName;
    }

    /** Whether marks are kept at all (a cache directory is configured). */
    public boolean enabled() {
        return file.isPresent();
    }

    /**
     * Refuses if, for a checkpoint set whose mark matches {@code filter}, the store's newest
     * snapshot ({@code all}, every snapshot now in the store) is older than the mark.
     */
    public synchronized void check(List<Snapshot> all, Predicate<Snapshot> filter) {
        if (file.isEmpty()) {
            return;
        }
        Map<String, Mark> newest = newestByGroup(all);
        for (Mark mark : read().values()) {
            if (!filter.test(mark.asSnapshot())) {
                continue;
            }
            Mark now = newest.get(mark.group());
            if (now == null || ORDER.compare(now, mark) < 0) {
                throw new RollbackDetectedException("rollback detected in " + storeName + ": the newest snapshot of "
                        + mark.source() + " from " + mark.host() + " is "
                        + (now == null ? "gone" : now.id().substring(0, 8) + " of " + now.time())
                        + ", but this client has seen " + mark.id().substring(0, 8) + " of " + mark.time()
                        + " there; snapshots were deleted from the store (an attacker, a store restored from an old copy,"
                        + " or another client's forget). Refusing to serve an older snapshot as the latest; if the deletion"
                        + " was intended, accept it (Repository.acceptRollback(), dr4j accept-rollback)");
            }
        }
    }

    /** Raises the marks to the newest of {@code seen}. */
    public synchronized void observe(Collection<Snapshot> seen) {
        if (file.isEmpty() || seen.isEmpty()) {
            return;
        }
        Map<String, Mark> marks = read();
        boolean changed = false;
        for (Snapshot s : seen) {
            Mark candidate = Mark.of(s);
            Mark old = marks.get(candidate.group());
            if (old == null || ORDER.compare(candidate, old) > 0) {
                marks.put(candidate.group(), candidate);
                changed = true;
            }
        }
        if (changed) {
            write(marks);
        }
    }

    /**
     * After this client's forget: the marks that named a removed snapshot fall to the newest
     * snapshot left in their set (or go, when the set is empty).
     */
    public synchronized void forgot(Collection<Snapshot> removed, List<Snapshot> remaining) {
        if (file.isEmpty() || removed.isEmpty()) {
            return;
        }
        Set<String> gone = new HashSet<>();
        removed.forEach(s -> gone.add(s.id().value()));
        Map<String, Mark> newest = newestByGroup(remaining);
        Map<String, Mark> marks = read();
        boolean changed = false;
        for (Iterator<Map.Entry<String, Mark>> it = marks.entrySet().iterator(); it.hasNext();) {
            Map.Entry<String, Mark> e = it.next();
            if (gone.contains(e.getValue().id())) {
                Mark replacement = newest.get(e.getKey());
                if (replacement == null) {
                    it.remove();
                } else {
                    e.setValue(replacement);
                }
                changed = true;
            }
        }
        if (changed) {
            write(marks);
        }
    }

    /** Accepts the store as it is: the marks become the newest snapshot of each set in {@code all}. */
    public synchronized void reset(List<Snapshot> all) {
        if (file.isPresent()) {
            write(new HashMap<>(newestByGroup(all)));
        }
    }

    private static Map<String, Mark> newestByGroup(Collection<Snapshot> all) {
        Map<String, Mark> newest = new HashMap<>();
        for (Snapshot s : all) {
            Mark m = Mark.of(s);
            newest.merge(m.group(), m, (a, b) -> ORDER.compare(a, b) >= 0 ? a : b);
        }
        return newest;
    }

    private Map<String, Mark> read() {
        Map<String, Mark> marks = new HashMap<>();
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file.get());
        } catch (NoSuchFileException e) {
            return marks;
        } catch (IOException e) {
            throw new io.dr4j.Dr4jException("cannot read the rollback high-water marks " + file.get() + ": " + e.getMessage(), e);
        }
        try {
            for (JsonNode n : JSON.readTree(bytes).get("sets")) {
                Set<String> tags = new TreeSet<>();
                n.get("tags").forEach(t -> tags.add(t.asText()));
                Map<String, String> labels = new TreeMap<>();
                n.get("labels").fields().forEachRemaining(f -> labels.put(f.getKey(), f.getValue().asText()));
                Mark m = new Mark(n.get("host").asText(), n.get("source").asText(), SnapshotId.of(n.get("id").asText()).value(),
                        Instant.parse(n.get("time").asText()), tags, labels);
                marks.put(m.group(), m);
            }
        } catch (IOException | RuntimeException e) {
            // a damaged mark file must not pass for "no marks": that would switch detection off silently
            throw new io.dr4j.Dr4jException("the rollback high-water marks " + file.get() + " are damaged (" + e
                    + "); delete the file to start over (this client then trusts the store as it finds it)", e);
        }
        return marks;
    }

    private void write(Map<String, Mark> marks) {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", "dr4j-high-water");
        ArrayNode sets = root.putArray("sets");
        marks.values().stream().sorted(Comparator.comparing(Mark::group)).forEach(m -> {
            ObjectNode n = sets.addObject();
            n.put("host", m.host());
            n.put("source", m.source());
            n.put("id", m.id());
            n.put("time", m.time().toString());
            ArrayNode tags = n.putArray("tags");
            m.tags().forEach(tags::add);
            ObjectNode labels = n.putObject("labels");
            m.labels().forEach(labels::put);
        });
        Path target = file.get();
        try {
            Files.createDirectories(target.getParent());
            Path tmp = Files.createTempFile(target.getParent(), "high-water", ".tmp");
            try {
                Files.write(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new io.dr4j.Dr4jException("cannot write the rollback high-water marks " + target + ": " + e.getMessage(), e);
        }
    }
}
