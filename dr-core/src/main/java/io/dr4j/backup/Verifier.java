package io.dr4j.backup;

import io.dr4j.Dr4jException;
import io.dr4j.storage.BlobInfo;
import io.dr4j.storage.BlobKey;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Checks a snapshot against the store. {@link VerifyLevel#METADATA}: every chunk is in the index
 * and its pack exists and is long enough. {@link VerifyLevel#DATA}: also every needed blob is
 * read (by pack, in ranges, as a restore reads), authenticated and checked against its id, and
 * each pack's own header is read and compared with the index. Collects problems rather than
 * stopping at the first.
 */
final class Verifier {

    private final Context ctx;
    private final CancellationToken token;

    public Verifier(Context ctx, CancellationToken token) {
        this.ctx = ctx;
        this.token = token;
    }

    private record Needed(ChunkId id, int offset, int length, int plainLength, Set<String> files) {
    }

    public VerifyReport verify(Manifest manifest, VerifyLevel level) {
        return verify(manifest, level, PackSubset.ALL);
    }

    /** As {@link #verify(Manifest, VerifyLevel)}, reading at {@link VerifyLevel#DATA} only the packs {@code subset} selects. */
    public VerifyReport verify(Manifest manifest, VerifyLevel level, PackSubset subset) {
        RepositoryIndex index;
        try {
            index = RepositoryIndex.load(ctx);
        } catch (IOException e) {
            throw new Dr4jException("reading the index of " + ctx.store().name() + " failed: " + e.getMessage(), e);
        }
        Map<ChunkId, Integer> lengths = new LinkedHashMap<>();
        Map<ChunkId, Set<String>> users = new HashMap<>();
        for (Manifest.Entry e : manifest.entries()) {
            for (Manifest.ChunkRef ref : e.chunks()) {
                lengths.put(ref.id(), ref.length());
                users.computeIfAbsent(ref.id(), k -> new LinkedHashSet<>()).add(e.entry().path());
            }
        }
        List<VerifyReport.Problem> problems = Collections.synchronizedList(new ArrayList<>());
        Map<Integer, List<Needed>> byPack = new LinkedHashMap<>();
        for (Map.Entry<ChunkId, Integer> c : lengths.entrySet()) {
            ChunkId id = c.getKey();
            int e = index.chunks.find(id);
            if (e < 0) {
                problems.add(problem("chunk " + id, "is in no index file" + index.whyMissing(), users.get(id)));
                continue;
            }
            if (index.chunks.plainLength(e) != c.getValue()) {
                problems.add(problem("chunk " + id, "the index gives it " + index.chunks.plainLength(e) + " bytes, the snapshot "
                        + c.getValue(), users.get(id)));
                continue;
            }
            byPack.computeIfAbsent(index.chunks.pack(e), k -> new ArrayList<>()).add(new Needed(id, index.chunks.offset(e),
                    index.chunks.length(e), c.getValue(), users.get(id)));
        }
        // one problem per missing or short pack, naming every file that needs it
        for (java.util.Iterator<Map.Entry<Integer, List<Needed>>> it = byPack.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Integer, List<Needed>> p = it.next();
            byte[] packId = index.chunks.packId(p.getKey());
            String key = PackFormat.key(packId).value();
            BlobInfo info = index.storedPacks.get(PackFormat.hex(packId));
            long end = p.getValue().stream().mapToLong(n -> (long) n.offset() + n.length()).max().orElse(0);
            if (info == null) {
                problems.add(problem(key, "missing", files(p.getValue())));
                it.remove();
            } else if (info.size() < end + PackFormat.TRAILER) {
                problems.add(problem(key, "truncated or replaced: its stored size " + info.size() + " ends before byte " + end
                        + " where the index places a blob", files(p.getValue())));
                it.remove();
            }
        }
        AtomicLong bytes = new AtomicLong();
        AtomicLong storedRead = new AtomicLong();
        long storedTotal = 0;
        for (List<Needed> blobs : byPack.values()) {
            for (Needed n : blobs) {
                storedTotal += n.length();
            }
        }
        long packsTotal = byPack.size();
        long packsRead = 0;
        if (level == VerifyLevel.DATA && !subset.isAll()) {
            List<Integer> packs = new ArrayList<>(byPack.keySet());
            Set<Integer> chosen = new java.util.HashSet<>();
            for (int i : subset.select(packs.stream().map(index.chunks::packId).toList())) {
                chosen.add(packs.get(i));
            }
            byPack.keySet().retainAll(chosen);
        }
        if (level == VerifyLevel.DATA) {
            packsRead = byPack.size();
            Pipeline pipeline = new Pipeline(Long.MAX_VALUE, token, "verify of snapshot " + manifest.snapshot().id().shortId());
            BufferPool rangePool = new BufferPool(ctx.packBufferSize(), PackFetch.rangeBuffers(ctx));
            BufferPool plainPool = new BufferPool(ctx.chunkBufferSize(), rangePool.capacity());
            List<CompletableFuture<Void>> futures = new ArrayList<>();
            for (Map.Entry<Integer, List<Needed>> pack : byPack.entrySet()) {
                futures.add(pipeline.submitRange(ctx.io(), rangePool, plainPool, (buffer, plain) -> {
                    verifyPack(index, pack.getKey(), pack.getValue(), buffer, plain, problems, bytes);
                    pack.getValue().forEach(n -> storedRead.addAndGet(n.length()));
                }));
            }
            pipeline.awaitAll(futures);
        }
        List<VerifyReport.Problem> sorted = new ArrayList<>(problems);
        sorted.sort(Comparator.comparing(VerifyReport.Problem::object));
        return new VerifyReport(manifest.snapshot().id(), level, lengths.size(), bytes.get(), sorted,
                level == VerifyLevel.DATA ? subset : PackSubset.ALL, packsRead, packsTotal, storedRead.get(), storedTotal);
    }

    /** Reads every needed blob of one pack (one range per buffer-full), then the pack's header. */
    private void verifyPack(RepositoryIndex index, int pack, List<Needed> needed, byte[] buffer, byte[] plain,
            List<VerifyReport.Problem> problems, AtomicLong bytes) {
        BlobKey key = PackFormat.key(index.chunks.packId(pack));
        List<Needed> sorted = new ArrayList<>(needed);
        sorted.sort(Comparator.comparingInt(Needed::offset));
        int from = 0;
        while (from < sorted.size()) {
            long start = sorted.get(from).offset();
            int to = from;
            while (to < sorted.size() && (long) sorted.get(to).offset() + sorted.get(to).length() - start <= buffer.length) {
                to++;
            }
            List<Needed> range = sorted.subList(from, Math.max(to, from + 1));
            Needed last = range.get(range.size() - 1);
            int length = (int) ((long) last.offset() + last.length() - start);
            List<VerifyReport.Problem> attempt = new ArrayList<>();
            try {
                ctx.store().readVerified(key, start, ByteBuffer.wrap(buffer, 0, length), view -> {
                    attempt.clear();
                    for (Needed n : range) {
                        String where = ctx.where(key) + " blob at offset " + n.offset() + " (chunk " + n.id() + ")";
                        try {
                            int got = ctx.crypto().openChunkInto(n.id(), buffer, (int) (n.offset() - start), n.length(),
                                    ctx.maxChunk(), plain, where);
                            if (got != n.plainLength()) {
                                attempt.add(problem(key.value(), "chunk " + n.id() + " holds " + got + " bytes, the snapshot says "
                                        + n.plainLength(), n.files()));
                            }
                        } catch (CorruptObjectException e) {
                            attempt.add(problem(key.value(), e.getMessage(), n.files()));
                        }
                    }
                    return attempt.isEmpty();
                });
                range.forEach(n -> bytes.addAndGet(n.plainLength()));
            } catch (io.dr4j.storage.PermanentBlobStoreException e) {
                if (attempt.isEmpty()) {
                    problems.add(problem(key.value(), e.getMessage(), files(range)));
                } else {
                    problems.addAll(attempt);
                }
            } catch (NoSuchFileException e) {
                problems.add(problem(key.value(), "missing", files(range)));
                return;
            } catch (EOFException e) {
                problems.add(problem(key.value(), "truncated: " + e.getMessage(), files(range)));
                return;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            from = Math.max(to, from + 1);
        }
        checkHeader(index, pack, key, needed, problems);
    }

    /** Compares the pack's own header with what the index says of the blobs the snapshot needs. */
    private void checkHeader(RepositoryIndex index, int pack, BlobKey key, List<Needed> needed, List<VerifyReport.Problem> problems) {
        try {
            List<PackFormat.Blob> header = PackHeaders.read(ctx, key, index.storedPacks.get(key.name()));
            Map<ChunkId, PackFormat.Blob> byId = new HashMap<>();
            header.forEach(b -> byId.put(b.id(), b));
            for (Needed n : needed) {
                PackFormat.Blob b = byId.get(n.id());
                if (b == null || b.offset() != n.offset() || b.length() != n.length() || b.plainLength() != n.plainLength()) {
                    problems.add(problem(key.value(), "the pack's header disagrees with the index about chunk " + n.id()
                            + (b == null ? " (not in the header)" : " (header: offset " + b.offset() + ", length " + b.length() + ")"),
                            n.files()));
                }
            }
        } catch (CorruptObjectException e) {
            problems.add(problem(key.value(), e.getMessage(), files(needed)));
        } catch (IOException e) {
            problems.add(problem(key.value(), "its header cannot be read: " + e.getMessage(), files(needed)));
        }
    }

    private static List<String> files(List<Needed> needed) {
        Set<String> all = new LinkedHashSet<>();
        needed.forEach(n -> all.addAll(n.files()));
        return new ArrayList<>(all);
    }

    private static VerifyReport.Problem problem(String key, String reason, Set<String> files) {
        return new VerifyReport.Problem(key, reason, new ArrayList<>(files));
    }

    private static VerifyReport.Problem problem(String key, String reason, List<String> files) {
        return new VerifyReport.Problem(key, reason, files);
    }
}
