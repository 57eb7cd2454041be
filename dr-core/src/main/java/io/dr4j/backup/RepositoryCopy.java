package io.dr4j.backup;

import io.dr4j.Dr4jException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * {@link Repository#copyTo(Repository, List, CopyOptions)} between two open repositories: the
 * checks, both shared locks, the {@link Copier} run over the manifests the destination lacks, and
 * the manifests written last.
 */
final class RepositoryCopy {

    private RepositoryCopy() {
    }

    static CopyResult run(Repository source, Repository destination, List<SnapshotId> snapshots, CopyOptions options) {
        Objects.requireNonNull(options, "options");
        String from = source.store().name();
        String to = destination.store().name();
        if (destination.id().equals(source.id())) {
            throw new IllegalArgumentException("cannot copy repository " + source.id() + " into itself (" + to
                    + " holds the same repository as " + from + "); copy into another repository");
        }
        if (snapshots.isEmpty()) {
            throw new SnapshotNotFoundException("no snapshot selected in " + from + "; nothing was copied");
        }
        ChunkerParameters mine = source.chunkerParameters();
        if (mine.maxSize() > destination.chunkerParameters().maxSize()) {
            throw new Dr4jException("cannot copy from " + from + " to " + to
                    + ": the source's chunks reach " + mine.maxSize() + " bytes, the destination takes at most "
                    + destination.chunkerParameters().maxSize() + "; create the destination with a maximum chunk size of at least "
                    + mine.maxSize());
        }
        long startNanos = System.nanoTime();
        String where = "copy to " + to;
        try (LockHandle read = source.lock(RepositoryLock.Mode.SHARED, where);
                LockHandle write = destination.lock(RepositoryLock.Mode.SHARED, "copy from " + from)) {
            Set<SnapshotId> present = new HashSet<>(destination.manifestStore().ids());
            List<Manifest> toCopy = new ArrayList<>();
            List<SnapshotId> skipped = new ArrayList<>();
            for (SnapshotId id : new java.util.LinkedHashSet<>(snapshots)) {
                if (present.contains(id)) {
                    skipped.add(id);
                } else {
                    toCopy.add(source.manifestStore().load(id));
                }
            }
            toCopy.sort(Comparator.comparing((Manifest m) -> m.snapshot().time()).thenComparing(m -> m.snapshot().id()));
            Copier.Result r = new Copier(source.context(), destination.context(), options.cancellation(), options.progress())
                    .run(toCopy);
            List<SnapshotId> copied = new ArrayList<>();
            for (Manifest m : r.manifests()) {
                if (options.cancellation().isCancelled() || Thread.currentThread().isInterrupted()) {
                    throw new OperationCancelledException(where + " was cancelled; " + copied.size()
                            + " snapshot(s) were written, the chunks of the others are stored for the next copy");
                }
                destination.manifestStore().write(m);
                copied.add(m.snapshot().id());
            }
            return new CopyResult(copied, skipped, r.chunksCopied(), r.chunksPresent(), r.chunksSkipped(), r.bytesRead(),
                    r.bytesWritten(), r.storeReads(), r.objectsWritten() + copied.size(),
                    java.time.Duration.ofNanos(System.nanoTime() - startNanos));
        } catch (IOException e) {
            throw new Dr4jException(where + " failed: " + e.getMessage(), e);
        }
    }
}
