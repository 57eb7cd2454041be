package io.dr4j.drill;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dr4j.backup.SnapshotId;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * JSON and text rendering of {@link io.dr4j.drill.DrillReport}. The JSON is built field by field
 * (not by reflection) so that its shape is exactly the documented schema and cannot drift with a
 * record component's name. Not API. Thread-safe.
 */
final class ReportCodec {

    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ReportCodec() {
    }

    public static String toJson(DrillReport r) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("schemaVersion", DrillReport.SCHEMA_VERSION);
        root.put("drillId", r.drillId());
        root.put("outcome", r.outcome().name());
        root.put("checkpointSet", r.checkpointSet());
        putOptional(root, "region", r.region());
        root.put("store", r.store());
        if (r.snapshot().isPresent()) {
            ObjectNode s = root.putObject("snapshot");
            s.put("id", r.snapshot().get().value());
            putOptional(s, "time", r.snapshotTime().map(Instant::toString));
        } else {
            root.putNull("snapshot");
        }
        root.put("startedAt", r.startedAt().toString());
        root.put("finishedAt", r.finishedAt().toString());
        ObjectNode o = root.putObject("objectives");
        o.put("rpoMillis", r.objectives().rpo().toMillis());
        o.put("rtoMillis", r.objectives().rto().toMillis());
        DrillReport.Figures f = r.figures();
        ObjectNode fig = root.putObject("figures");
        putMillis(fig, "snapshotAgeMillis", f.snapshotAge());
        putMillis(fig, "verifyMillis", f.verifyTime());
        putMillis(fig, "restoreMillis", f.restoreTime());
        putMillis(fig, "smokeCheckMillis", f.smokeCheckTime());
        putMillis(fig, "recoveryMillis", f.recoveryTime());
        fig.put("files", f.files());
        fig.put("bytesRestored", f.bytesRestored());
        fig.put("chunksVerified", f.chunksVerified());
        fig.put("bytesVerified", f.bytesVerified());
        ArrayNode findings = root.putArray("findings");
        for (DrillReport.Finding finding : r.findings()) {
            ObjectNode n = findings.addObject();
            n.put("code", finding.code().name());
            n.put("message", finding.message());
            putOptional(n, "object", finding.object());
        }
        try {
            return MAPPER.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render a drill report as JSON", e);
        }
    }

    public static DrillReport fromJson(String json) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not a drill report: invalid JSON (" + e.getOriginalMessage() + ")", e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("not a drill report: expected a JSON object");
        }
        int version = required(root, "schemaVersion").asInt(-1);
        if (version < 1) {
            throw new IllegalArgumentException("not a drill report: schemaVersion must be a positive integer");
        }
        if (version > DrillReport.SCHEMA_VERSION) {
            throw new IllegalArgumentException("drill report schema version " + version + " is newer than this library's "
                    + DrillReport.SCHEMA_VERSION);
        }
        try {
            JsonNode snapshot = root.path("snapshot");
            Optional<SnapshotId> id = snapshot.isObject() ? Optional.of(SnapshotId.of(text(snapshot, "id"))) : Optional.empty();
            Optional<Instant> time = snapshot.isObject() ? optionalText(snapshot, "time").map(Instant::parse) : Optional.empty();
            JsonNode o = required(root, "objectives");
            JsonNode f = required(root, "figures");
            DrillReport.Figures figures = new DrillReport.Figures(millis(f, "snapshotAgeMillis"), millis(f, "verifyMillis"),
                    millis(f, "restoreMillis"), millis(f, "smokeCheckMillis"), millis(f, "recoveryMillis"),
                    required(f, "files").asLong(), required(f, "bytesRestored").asLong(),
                    required(f, "chunksVerified").asLong(), required(f, "bytesVerified").asLong());
            List<DrillReport.Finding> findings = new ArrayList<>();
            for (JsonNode n : required(root, "findings")) {
                findings.add(new DrillReport.Finding(DrillReport.Code.valueOf(text(n, "code")), text(n, "message"),
                        optionalText(n, "object")));
            }
            return new DrillReport(text(root, "drillId"), text(root, "checkpointSet"), optionalText(root, "region"),
                    text(root, "store"), DrillReport.Outcome.valueOf(text(root, "outcome")), findings, id, time,
                    Instant.parse(text(root, "startedAt")), Instant.parse(text(root, "finishedAt")),
                    new RecoveryObjectives.Target(Duration.ofMillis(required(o, "rpoMillis").asLong()),
                            Duration.ofMillis(required(o, "rtoMillis").asLong())),
                    figures);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("not a drill report: bad timestamp '" + e.getParsedString() + "'", e);
        }
    }

    public static String toText(DrillReport r) {
        StringBuilder b = new StringBuilder();
        b.append("DR drill ").append(r.outcome()).append(": ").append(r.checkpointSet()).append(" from ").append(r.store());
        r.region().ifPresent(region -> b.append(" (region ").append(region).append(')'));
        b.append('\n');
        DrillReport.Figures f = r.figures();
        if (r.snapshot().isPresent()) {
            b.append("  snapshot   ").append(r.snapshot().get().value());
            r.snapshotTime().ifPresent(t -> b.append(" taken ").append(t));
            b.append('\n');
        }
        b.append("  RPO        ").append(f.snapshotAge().map(a -> "snapshot age " + duration(a)).orElse("snapshot age unknown"))
                .append(" (objective ").append(duration(r.objectives().rpo())).append(")\n");
        b.append("  RTO        ").append(f.recoveryTime().map(t -> "recovered in " + duration(t)).orElse("not recovered"))
                .append(" (objective ").append(duration(r.objectives().rto())).append(")");
        List<String> phases = new ArrayList<>();
        f.verifyTime().ifPresent(t -> phases.add("verify " + duration(t)));
        f.restoreTime().ifPresent(t -> phases.add("restore " + duration(t)));
        f.smokeCheckTime().ifPresent(t -> phases.add("smoke check " + duration(t)));
        if (!phases.isEmpty()) {
            b.append(": ").append(String.join(", ", phases));
        }
        b.append('\n');
        if (f.files() > 0 || f.chunksVerified() > 0) {
            b.append("  data       ").append(f.files()).append(" files, ").append(bytes(f.bytesRestored())).append(" restored, ")
                    .append(bytes(f.bytesVerified())).append(" authenticated");
            if (f.chunksVerified() > 0) {
                b.append(" (").append(f.chunksVerified()).append(" chunks verified before the restore)");
            }
            b.append('\n');
        }
        if (r.findings().isEmpty()) {
            b.append("  findings   none\n");
        } else {
            for (DrillReport.Finding finding : r.findings()) {
                b.append("  ").append(finding.code()).append(": ").append(finding.message()).append('\n');
            }
        }
        return b.toString();
    }

    /** A duration the way people read one: {@code 850 ms}, {@code 12.4 s}, {@code 3 min 5 s}, {@code 2 h 10 min}, {@code 3 d 4 h}. */
    public static String duration(Duration d) {
        long ms = d.toMillis();
        if (ms < 1_000) {
            return ms + " ms";
        }
        if (ms < 60_000) {
            return String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
        }
        long s = d.toSeconds();
        if (s < 3_600) {
            return (s / 60) + " min " + (s % 60) + " s";
        }
        if (s < 86_400) {
            return (s / 3_600) + " h " + (s % 3_600 / 60) + " min";
        }
        return (s / 86_400) + " d " + (s % 86_400 / 3_600) + " h";
    }

    /** Bytes in binary units: {@code 512 B}, {@code 1.5 KiB}, {@code 12.3 MiB}, {@code 2.0 GiB}. */
    public static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    private static void putOptional(ObjectNode node, String field, Optional<String> value) {
        if (value.isPresent()) {
            node.put(field, value.get());
        } else {
            node.putNull(field);
        }
    }

    private static void putMillis(ObjectNode node, String field, Optional<Duration> value) {
        if (value.isPresent()) {
            node.put(field, value.get().toMillis());
        } else {
            node.putNull(field);
        }
    }

    private static JsonNode required(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            throw new IllegalArgumentException("not a drill report: field '" + field + "' is missing");
        }
        return v;
    }

    private static String text(JsonNode node, String field) {
        return required(node, field).asText();
    }

    private static Optional<String> optionalText(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? Optional.empty() : Optional.of(v.asText());
    }

    private static Optional<Duration> millis(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? Optional.empty() : Optional.of(Duration.ofMillis(v.asLong()));
    }
}
