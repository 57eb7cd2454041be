package io.dr4j.backup;

import io.dr4j.Dr4jException;
import io.dr4j.backup.Manifest.ChunkRef;
import io.dr4j.backup.RestoredFile.Use;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One restore, all or nothing. Every path in the manifest is checked before anything is written;
 * the snapshot is rebuilt in a staging directory beside the target ({@code .<name>.dr4j-restore-*}),
 * chunks fetched in parallel and written at their offsets, each authenticated and checked against
 * its id; files are forced to disk, and only then is the staging directory renamed onto the
 * target. A failed, cancelled or killed restore leaves the target as it was (a killed one also
 * leaves a staging directory, which the next restore into the same target removes).
 *
 * <p>Replacing an existing target takes two renames (target aside, staging in). A journal file
 * {@code .<name>.dr4j-swap} names both; if the process dies between them, the next restore
 * into that target (or {@code Repository.recoverRestore}) moves the old target back first.
 *
 * <p>The parts: {@link RestoreChecks} (paths and target, before anything is written),
 * {@link DeltaRestore} (chunks the old target already holds), {@link PackFetch} (ranged pack
 * reads, authentication), {@link RestoredFile} (one file's channel) and {@link RestoreStaging}
 * (staging directory, swap, recovery). This class plans the run and joins them.
 */
final class RestoreRun {

    private final Context ctx;
    private final Manifest manifest;
    private final Path target;
    private final RestoreOptions options;
    private final Pipeline pipeline;
    private final AtomicLong done = new AtomicLong();
    private final boolean durable;
    private final DeltaRestore delta;
    private RepositoryIndex index;
    private PackFetch packs;

    public RestoreRun(Context ctx, Manifest manifest, Path target, RestoreOptions options) {
        this.ctx = ctx;
        this.durable = options.durability() == RestoreOptions.Durability.POWER_LOSS;
        this.manifest = manifest;
        this.target = target.toAbsolutePath().normalize();
        this.options = options;
        this.pipeline = new Pipeline(ctx.options().inFlightBytes(), options.cancellation(),
                "restore of snapshot " + manifest.snapshot().id().shortId() + " to " + this.target);
        this.delta = new DeltaRestore(ctx, manifest, this.target, pipeline, this::writeUses);
    }

    /** Runs the restore. */
    public RestoreResult run() {
        long start = System.nanoTime();
        Path parent = target.getParent();
        if (parent == null) {
            throw new RestoreTargetException("cannot restore onto the file-system root " + target);
        }
        String name = target.getFileName().toString();
        recover(target);
        RestoreChecks.checkTarget(target, parent, manifest.snapshot().totalBytes(), options.replaceExisting());
        Path staging = RestoreStaging.stagingFor(parent, name);
        RestoreStaging.removeStaleStaging(parent, name);
        Map<String, Path> paths = RestoreChecks.checkPaths(manifest, staging, options.allowNonPortablePaths());
        boolean success = false;
        try {
            index = RepositoryIndex.load(ctx);
            Files.createDirectory(staging);
            Map<ChunkId, DeltaRestore.LocalChunk> local = options.delta() && Files.isDirectory(target) ? delta.indexTarget() : Map.of();
            writeAll(staging, paths, local);
            pipeline.checkRunning();
            RestoreStaging.swapIn(staging, target, parent, name, durable);
            success = true;
        } catch (IOException e) {
            throw new Dr4jException("restore into " + target + " failed: " + e.getMessage(), e);
        } finally {
            if (!success) {
                RestoreStaging.deleteTree(staging);
            }
        }
        long files = manifest.entries().stream().filter(e -> e.entry().type() == SnapshotEntry.Type.FILE).count();
        return new RestoreResult(manifest.snapshot().id(), target, files, manifest.snapshot().totalBytes(), packs.downloaded(),
                delta.reused(), Duration.ofNanos(System.nanoTime() - start), packs.storeReads());
    }

    private void writeAll(Path staging, Map<String, Path> paths, Map<ChunkId, DeltaRestore.LocalChunk> local) throws IOException {
        List<Manifest.Entry> entries = new ArrayList<>(manifest.entries());
        entries.sort(Comparator.comparing(e -> e.entry().path()));
        List<RestoredFile> outs = new ArrayList<>();
        for (Manifest.Entry e : entries) {
            Path p = paths.get(e.entry().path());
            if (e.entry().type() == SnapshotEntry.Type.DIRECTORY) {
                Files.createDirectories(p);
            } else {
                Files.createDirectories(p.getParent());
                try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    if (e.entry().size() > 0) {
                        // sparse pre-size: positional writes may land in any order
                        ch.write(ByteBuffer.wrap(new byte[1]), e.entry().size() - 1);
                    }
                }
                outs.add(new RestoredFile(e, p, durable, options.progress()));
            }
        }
        long total = manifest.snapshot().totalBytes();
        options.progress().onProgress(0, total);
        try {
            Map<ChunkId, List<Use>> uses = new java.util.LinkedHashMap<>();
            for (RestoredFile out : outs) {
                if (out.entry.chunks().isEmpty()) {
                    out.finish();
                    continue;
                }
                long offset = 0;
                for (ChunkRef ref : out.entry.chunks()) {
                    uses.computeIfAbsent(ref.id(), k -> new ArrayList<>(1)).add(new Use(out, offset, ref.length()));
                    offset += ref.length();
                }
            }
            Set<ChunkId> fromStore = local.isEmpty() ? uses.keySet() : delta.restoreLocal(uses, local);
            packs = new PackFetch(ctx, manifest, index, pipeline, this::writeUses);
            packs.fetch(uses, fromStore);
        } finally {
            outs.forEach(RestoredFile::closeQuietly);
        }
        // metadata last: a directory's mtime changes while its children are created
        for (int i = entries.size() - 1; i >= 0; i--) {
            Manifest.Entry e = entries.get(i);
            RestoreStaging.applyMetadata(paths.get(e.entry().path()), e.entry(), options);
        }
        if (durable) {
            RestoreStaging.forceTree(staging);
        }
    }

    private void writeUses(List<Use> targets, byte[] plain, int length) throws IOException {
        for (Use use : targets) {
            use.out().write(plain, length, use.offset());
            use.out().chunkWritten();
            options.progress().onProgress(done.addAndGet(length), manifest.snapshot().totalBytes());
        }
    }
    /**
     * Completes the bookkeeping of a swap interrupted by a crash; see {@link RestoreStaging#recover}.
     */
    public static void recover(Path target) {
        RestoreStaging.recover(target);
    }
}
