package io.dr4j.backup.internal;

import io.dr4j.backup.CancellationToken;
import io.dr4j.backup.CorruptObjectException;
import io.dr4j.backup.VerifyLevel;
import io.dr4j.backup.VerifyReport;
import io.dr4j.storage.BlobInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Checks a snapshot's chunks: presence and plausible size (metadata), or full read, authenticate
 * and id check (data), in parallel with the repository's in-flight budget. Collects problems
 * rather than stopping at the first.
 */
public final class Verifier {

    private final Context ctx;
    private final CancellationToken token;

    public Verifier(Context ctx, CancellationToken token) {
        this.ctx = ctx;
        this.token = token;
    }

    public VerifyReport verify(Manifest manifest, VerifyLevel level) {
        Map<ChunkId, Integer> lengths = new LinkedHashMap<>();
        Map<ChunkId, Set<String>> users = new HashMap<>();
        for (Manifest.Entry e : manifest.entries()) {
            for (Manifest.ChunkRef ref : e.chunks()) {
                lengths.put(ref.id(), ref.length());
                users.computeIfAbsent(ref.id(), k -> new LinkedHashSet<>()).add(e.entry().path());
            }
        }
        Map<String, Long> present = new HashMap<>();
        try (Stream<BlobInfo> listing = ctx.store().list("chunks")) {
            listing.forEach(info -> present.put(info.key().value(), info.size()));
        } catch (IOException | UncheckedIOException e) {
            throw new io.dr4j.Dr4jException("listing chunks in " + ctx.store().name() + " failed: " + e.getMessage(), e);
        }
        List<VerifyReport.Problem> problems = Collections.synchronizedList(new ArrayList<>());
        List<ChunkId> toRead = new ArrayList<>();
        for (Map.Entry<ChunkId, Integer> c : lengths.entrySet()) {
            String key = c.getKey().key().value();
            Long size = present.get(key);
            if (size == null) {
                problems.add(problem(key, "missing", users.get(c.getKey())));
            } else if (size < Crypto.OVERHEAD || size > (long) c.getValue() + Crypto.OVERHEAD + 64) {
                problems.add(problem(key, "stored size " + size + " is impossible for a " + c.getValue()
                        + "-byte chunk (truncated or replaced)", users.get(c.getKey())));
            } else {
                toRead.add(c.getKey());
            }
        }
        AtomicLong bytes = new AtomicLong();
        if (level == VerifyLevel.DATA) {
            Pipeline pipeline = new Pipeline(ctx.options().inFlightBytes(), token,
                    "verify of snapshot " + manifest.snapshot().id().shortId());
            List<CompletableFuture<Void>> futures = new ArrayList<>();
            for (ChunkId id : toRead) {
                int length = lengths.get(id);
                pipeline.acquire(length);
                futures.add(CompletableFuture.runAsync(() -> {
                    if (pipeline.stopped()) {
                        throw new java.util.concurrent.CancellationException("stopped");
                    }
                    String key = id.key().value();
                    try {
                        byte[] plain = ctx.readChunk(id);
                        if (plain.length != length) {
                            problems.add(problem(key, "holds " + plain.length + " bytes, manifest says " + length, users.get(id)));
                        } else {
                            bytes.addAndGet(plain.length);
                        }
                    } catch (NoSuchFileException e) {
                        problems.add(problem(key, "missing", users.get(id)));
                    } catch (CorruptObjectException e) {
                        problems.add(problem(key, e.getMessage(), users.get(id)));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }, ctx.io()).whenComplete((v, e) -> {
                    pipeline.release(length);
                    if (e != null) {
                        pipeline.fail(e);
                    }
                }));
            }
            pipeline.awaitAll(futures);
        }
        List<VerifyReport.Problem> sorted = new ArrayList<>(problems);
        sorted.sort(java.util.Comparator.comparing(VerifyReport.Problem::object));
        return new VerifyReport(manifest.snapshot().id(), level, lengths.size(), bytes.get(), sorted);
    }

    private static VerifyReport.Problem problem(String key, String reason, Set<String> files) {
        return new VerifyReport.Problem(key, reason, new ArrayList<>(files));
    }
}
