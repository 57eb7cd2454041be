package io.dr4j.backup;

import io.dr4j.Dr4jException;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.PermanentBlobStoreException;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Single-file access to a snapshot: listing entries under a path, and writing one file's bytes
 * without restoring the rest. A file's chunks are read in file order, consecutive chunks of one
 * window at a time (up to half a pack buffer of plaintext): the window's blobs are grouped by
 * pack and read in ranges sorted by offset (split where a gap exceeds 1 MiB, as a restore does),
 * so a shard costs about its stored size, never whole packs. Every blob of a window is
 * authenticated before any of the window reaches the output, so what is written is always a
 * correct prefix of the file; on a failure the output ends early and an exception is thrown. {@link #dumpTo(Manifest, String, Path)}
 * writes through a temporary file renamed into place, so a failure leaves nothing at the
 * destination (or the file that was there).
 */
final class FileDump {

    /**
     * Largest gap one ranged read spans. Smaller than a restore's 1 MiB: a restore wants every
     * blob of a pack, while the gaps between one file's blobs are mostly other files' chunks.
     */
    private static final int MAX_GAP = 64 << 10;

    private final Context ctx;

    public FileDump(Context ctx) {
        this.ctx = ctx;
    }

    /** {@code path} without leading or trailing slashes; {@code ""} is the snapshot root. */
    public static String normalize(String path) {
        String p = path.strip();
        while (p.startsWith("/")) {
            p = p.substring(1);
        }
        while (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        return p.equals(".") ? "" : p;
    }

    /**
     * The entries at {@code path} and below it, in path order; the whole snapshot for {@code ""}.
     *
     * @throws PathNotFoundException if nothing is at or under {@code path}
     */
    public static List<SnapshotEntry> list(Manifest manifest, String path) {
        String p = normalize(path);
        List<SnapshotEntry> result = new ArrayList<>();
        for (Manifest.Entry e : manifest.entries()) {
            String q = e.entry().path();
            if (p.isEmpty() || q.equals(p) || q.startsWith(p + "/")) {
                result.add(e.entry());
            }
        }
        if (result.isEmpty() && !p.isEmpty()) {
            throw new PathNotFoundException("snapshot " + manifest.snapshot().id().shortId() + " has no entry '" + p + "'");
        }
        result.sort(java.util.Comparator.comparing(SnapshotEntry::path));
        return result;
    }

    /**
     * The file at {@code path}.
     *
     * @throws PathNotFoundException if there is none
     * @throws IllegalArgumentException if it is a directory
     */
    public static Manifest.Entry file(Manifest manifest, String path) {
        String p = normalize(path);
        for (Manifest.Entry e : manifest.entries()) {
            if (e.entry().path().equals(p)) {
                if (e.entry().type() == SnapshotEntry.Type.DIRECTORY) {
                    throw new IllegalArgumentException("'" + p + "' in snapshot " + manifest.snapshot().id().shortId()
                            + " is a directory; dump writes one file (list it with ls, restore it with restore)");
                }
                return e;
            }
        }
        throw new PathNotFoundException("snapshot " + manifest.snapshot().id().shortId() + " has no file '" + p + "'"
                + (p.isEmpty() ? " (give the path of a file)" : ""));
    }

    /** Writes the file at {@code path} to {@code out} (not closed); see the class comment for what a failure leaves. */
    public DumpResult dump(Manifest manifest, String path, OutputStream out) {
        Manifest.Entry entry = file(manifest, path);
        RepositoryIndex index;
        try {
            index = RepositoryIndex.load(ctx);
        } catch (IOException e) {
            throw new Dr4jException("reading the index of " + ctx.store().name() + " failed: " + e.getMessage(), e);
        }
        long[] reads = new long[2];
        long written = 0;
        List<Blob> blobs = locate(index, manifest, entry);
        byte[] sealed = new byte[ctx.packBufferSize()];
        int plainBudget = Math.max(ctx.maxChunk(), sealed.length / 2);
        byte[] window = new byte[plainBudget];
        Pipeline pipeline = new Pipeline(Long.MAX_VALUE, new io.dr4j.backup.CancellationToken(),
                "dump of '" + entry.entry().path() + "'");
        BufferPool plains = new BufferPool(ctx.chunkBufferSize(), Math.max(1, ctx.options().ioConcurrency()));
        int from = 0;
        while (from < blobs.size()) {
            // a window of the file, in file order, that fits the plaintext buffer ...
            int to = from;
            long sum = 0;
            while (to < blobs.size() && sum + blobs.get(to).plainLength() <= plainBudget) {
                sum += blobs.get(to).plainLength();
                to++;
            }
            to = Math.max(to, from + 1);
            // ... whose blobs, grouped by pack and sorted by offset, are read in ranges that fit the sealed buffer
            List<Range> ranges = ranges(blobs, from, to);
            while (to - from > 1 && ranges.stream().mapToLong(Range::length).sum() > sealed.length) {
                to = from + (to - from) / 2;
                ranges = ranges(blobs, from, to);
            }
            int[] at = new int[to - from];
            int length = 0;
            for (int i = from; i < to; i++) {
                at[i - from] = length;
                length += blobs.get(i).plainLength();
            }
            // the window's ranges are read in parallel: they fill disjoint parts of both buffers
            int position = 0;
            int first = from;
            List<java.util.concurrent.CompletableFuture<Void>> reading = new ArrayList<>();
            for (Range r : ranges) {
                int p = position;
                byte[] plain;
                try {
                    plain = plains.take(pipeline::stopped);
                } catch (RuntimeException e) {
                    pipeline.fail(e); // a range failed meanwhile: that first failure is what awaitAll throws
                    break;
                }
                reading.add(java.util.concurrent.CompletableFuture.runAsync(() -> {
                    try {
                        if (!pipeline.stopped()) {
                            readRange(index, manifest, entry, blobs, r, sealed, p, window, at, first, plain, reads);
                        }
                    } finally {
                        plains.give(plain);
                    }
                }, ctx.io()).whenComplete((v, e) -> {
                    if (e != null) {
                        pipeline.fail(e);
                    }
                }));
                position += (int) r.length();
            }
            pipeline.awaitAll(reading);
            // every blob of the window is authentic: only now does any of it reach the output
            try {
                out.write(window, 0, length);
            } catch (IOException e) {
                throw new Dr4jException("writing '" + entry.entry().path() + "' failed after " + written + " bytes: "
                        + e.getMessage(), e);
            }
            written += length;
            from = to;
        }
        if (written != entry.entry().size()) {
            throw new CorruptObjectException(ctx.store().name() + ": '" + entry.entry().path() + "' of snapshot "
                    + manifest.snapshot().id().shortId() + " has chunks of " + written + " bytes, its entry says "
                    + entry.entry().size());
        }
        return new DumpResult(manifest.snapshot().id(), entry.entry().path(), written, reads[0], reads[1]);
    }

    /**
     * Writes the file at {@code path} to {@code output}: into a temporary file beside it, forced
     * to disk, then renamed over {@code output}; a failure deletes the temporary file and leaves
     * {@code output} as it was. The file gets the entry's modification time.
     */
    public DumpResult dumpTo(Manifest manifest, String path, Path output) {
        Manifest.Entry entry = file(manifest, path);
        Path target = output.toAbsolutePath().normalize();
        if (Files.isDirectory(target)) {
            throw new IllegalArgumentException("output " + target + " is a directory; give a file name");
        }
        Path parent = target.getParent();
        Path tmp = parent.resolve("." + target.getFileName() + ".dr4j-dump-" + HexFormat.of().formatHex(Crypto.randomBytes(6)));
        boolean done = false;
        try {
            DumpResult result;
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                    OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16)) {
                result = dump(manifest, entry.entry().path(), out);
                out.flush();
                ch.force(true);
            }
            Files.setLastModifiedTime(tmp, FileTime.from(entry.entry().modified()));
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            done = true;
            return result;
        } catch (IOException e) {
            throw new Dr4jException("writing '" + entry.entry().path() + "' to " + target + " failed: " + e.getMessage(), e);
        } finally {
            if (!done) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // a leftover hidden temporary file holds only authenticated bytes
                }
            }
        }
    }

    private record Blob(ChunkId id, int pack, int offset, int length, int plainLength) {
    }

    private List<Blob> locate(RepositoryIndex index, Manifest manifest, Manifest.Entry entry) {
        List<Blob> blobs = new ArrayList<>(entry.chunks().size());
        for (Manifest.ChunkRef ref : entry.chunks()) {
            int e = index.chunks.find(ref.id());
            if (e < 0 || index.chunks.pack(e) == ChunkIndex.PENDING || !index.present(index.chunks.pack(e))) {
                throw new CorruptObjectException(ctx.store().name() + ": chunk " + ref.id() + " of '" + entry.entry().path()
                        + "' (snapshot " + manifest.snapshot().id().shortId() + ") is in no index file, or its pack is missing"
                        + index.whyMissing());
            }
            if (index.chunks.plainLength(e) != ref.length()) {
                throw new CorruptObjectException(ctx.store().name() + ": the index gives chunk " + ref.id() + " "
                        + index.chunks.plainLength(e) + " bytes, the snapshot " + ref.length());
            }
            blobs.add(new Blob(ref.id(), index.chunks.pack(e), index.chunks.offset(e), index.chunks.length(e), ref.length()));
        }
        return blobs;
    }

    /** A ranged read of one pack: the positions (in the file's blob list) of the blobs it covers. */
    private record Range(int pack, long start, long length, List<Integer> blobs) {
    }

    /** The ranges that read blobs {@code [from, to)}: by pack, by offset, split where a gap exceeds {@link #MAX_GAP}. */
    private static List<Range> ranges(List<Blob> blobs, int from, int to) {
        java.util.Map<Integer, List<Integer>> byPack = new java.util.LinkedHashMap<>();
        for (int i = from; i < to; i++) {
            byPack.computeIfAbsent(blobs.get(i).pack(), k -> new ArrayList<>()).add(i);
        }
        List<Range> ranges = new ArrayList<>();
        for (java.util.Map.Entry<Integer, List<Integer>> p : byPack.entrySet()) {
            List<Integer> sorted = new ArrayList<>(p.getValue());
            sorted.sort(java.util.Comparator.comparingInt(i -> blobs.get(i).offset()));
            List<Integer> current = new ArrayList<>();
            long start = -1;
            long end = -1;
            for (int i : sorted) {
                Blob b = blobs.get(i);
                if (start >= 0 && b.offset() - end > MAX_GAP) {
                    ranges.add(new Range(p.getKey(), start, end - start, current));
                    current = new ArrayList<>();
                    start = -1;
                }
                if (start < 0) {
                    start = b.offset();
                }
                end = Math.max(end, (long) b.offset() + b.length());
                current.add(i);
            }
            ranges.add(new Range(p.getKey(), start, end - start, current));
        }
        return ranges;
    }

    /**
     * Reads one range into {@code sealed} at {@code position} and opens each of its blobs into its
     * place in {@code window}; inside {@link io.dr4j.storage.BlobStore#readVerified}, so a store
     * holding several copies can serve the range from another copy when one fails.
     */
    private void readRange(RepositoryIndex index, Manifest manifest, Manifest.Entry entry, List<Blob> blobs, Range range,
            byte[] sealed, int position, byte[] window, int[] at, int from, byte[] plain, long[] reads) {
        BlobKey key = PackFormat.key(index.chunks.packId(range.pack()));
        AtomicReference<CorruptObjectException> rejected = new AtomicReference<>();
        try {
            synchronized (reads) {
                reads[0]++;
                reads[1] += range.length();
            }
            ctx.store().readVerified(key, range.start(), ByteBuffer.wrap(sealed, position, (int) range.length()), view -> {
                for (int i : range.blobs()) {
                    Blob b = blobs.get(i);
                    try {
                        int got = ctx.crypto().openChunkInto(b.id(), sealed, position + (int) (b.offset() - range.start()),
                                b.length(), ctx.maxChunk(), plain, ctx.where(key) + " blob at offset " + b.offset() + " (chunk "
                                        + b.id() + " of '" + entry.entry().path() + "')");
                        if (got != b.plainLength()) {
                            throw new CorruptObjectException(ctx.where(key) + ": chunk " + b.id() + " holds " + got
                                    + " bytes, the snapshot says " + b.plainLength());
                        }
                        System.arraycopy(plain, 0, window, at[i - from], got);
                    } catch (CorruptObjectException e) {
                        rejected.compareAndSet(null, e);
                        return false;
                    }
                }
                return true;
            });
        } catch (NoSuchFileException e) {
            throw new CorruptObjectException(ctx.where(key) + ": pack is missing (needed by '" + entry.entry().path()
                    + "' of snapshot " + manifest.snapshot().id().shortId() + ")", e);
        } catch (EOFException e) {
            throw new CorruptObjectException(ctx.where(key) + ": pack is truncated: it ends inside bytes [" + range.start() + ", "
                    + (range.start() + range.length()) + ") that the index places in it", e);
        } catch (PermanentBlobStoreException e) {
            if (rejected.get() != null) {
                throw new CorruptObjectException(rejected.get().getMessage(), e);
            }
            throw new Dr4jException("reading " + ctx.where(key) + " failed: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new Dr4jException("reading " + ctx.where(key) + " failed: " + e.getMessage(), e);
        }
    }
}
