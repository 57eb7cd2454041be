package io.dr4j.backup;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The Micrometer meters of a {@link Repository}'s operations ({@link RepositoryOptions#meterRegistry()}):
 * each backup, restore, verify, prune and copy records its wall time under its outcome, a failure
 * by the kind of exception it threw, and, when it succeeds, the byte and chunk figures of its
 * result object ({@link SnapshotStats}, {@link RestoreResult}, {@link VerifyReport},
 * {@link PruneResult}, {@link CopyResult}), so the meters and the results never disagree. The
 * names and tags are listed in {@code docs/guide.md} §Metrics; every meter of one name has the
 * same tag keys (as Prometheus requires).
 *
 * <p>Meters are registered when first used and left registered when the repository closes, so
 * the counts of a process that opens the repository once per backup accumulate. A dry-run prune
 * records nothing: it changed nothing. A cancellation is an outcome ({@code cancelled}), not a
 * failure. A disabled instance (no registry) does nothing. Thread-safe (Micrometer's meters are).
 */
final class RepositoryMetrics {

    static final String OPERATION = "dr4j.repository.operation";
    static final String FAILURES = "dr4j.repository.failures";
    static final String BYTES_READ = "dr4j.repository.bytes.read";
    static final String BYTES_STORED = "dr4j.repository.bytes.stored";
    static final String BYTES_RESTORED = "dr4j.repository.bytes.restored";
    static final String BYTES_REUSED = "dr4j.repository.bytes.reused";
    static final String BYTES_DELETED = "dr4j.repository.bytes.deleted";
    static final String CHUNKS_NEW = "dr4j.repository.chunks.new";
    static final String CHUNKS_REUSED = "dr4j.repository.chunks.reused";
    static final String CHUNKS_CHECKED = "dr4j.repository.chunks.checked";
    static final String CHUNKS_DELETED = "dr4j.repository.chunks.deleted";
    static final String PROBLEMS = "dr4j.repository.problems";

    static final String BACKUP = "backup";
    static final String RESTORE = "restore";
    static final String VERIFY = "verify";
    static final String PRUNE = "prune";
    static final String COPY = "copy";

    static final String SUCCESS = "success";
    static final String FAILURE = "failure";
    static final String CANCELLED = "cancelled";
    /** A verify that completed and reported problems. */
    static final String PROBLEMS_FOUND = "problems";

    private final MeterRegistry registry;
    private final Tags tags;

    private RepositoryMetrics(MeterRegistry registry, Tags tags) {
        this.registry = registry;
        this.tags = tags;
    }

    /** Meters of the repository {@code repositoryId} in the store named {@code store}; disabled without a registry. */
    static RepositoryMetrics of(Optional<MeterRegistry> registry, String repositoryId, String store) {
        return new RepositoryMetrics(registry.orElse(null), Tags.of("repository", repositoryId, "store", store));
    }

    Snapshot backup(Supplier<Snapshot> run) {
        return record(BACKUP, run, s -> {
            SnapshotStats st = s.stats();
            count(BYTES_READ, BACKUP, st.bytesRead());
            count(BYTES_STORED, BACKUP, st.newBytesStored());
            count(CHUNKS_NEW, BACKUP, st.newChunks());
            count(CHUNKS_REUSED, BACKUP, st.reusedChunks());
        });
    }

    RestoreResult restore(Supplier<RestoreResult> run) {
        return record(RESTORE, run, r -> {
            count(BYTES_READ, RESTORE, r.bytesDownloaded());
            count(BYTES_RESTORED, RESTORE, r.bytes());
            count(BYTES_REUSED, RESTORE, r.bytesReused());
        });
    }

    VerifyReport verify(Supplier<VerifyReport> run) {
        return record(VERIFY, run, r -> {
            count(BYTES_READ, VERIFY, r.storedBytesRead());
            count(CHUNKS_CHECKED, VERIFY, r.chunksChecked());
            count(PROBLEMS, VERIFY, r.problems().size());
        });
    }

    PruneResult prune(boolean dryRun, Supplier<PruneResult> run) {
        if (dryRun) {
            return run.get();
        }
        return record(PRUNE, run, r -> {
            count(BYTES_DELETED, PRUNE, r.deletedBytes());
            count(CHUNKS_DELETED, PRUNE, r.deletedChunks());
        });
    }

    CopyResult copy(Supplier<CopyResult> run) {
        return record(COPY, run, r -> {
            count(BYTES_READ, COPY, r.bytesRead());
            count(BYTES_STORED, COPY, r.bytesWritten());
            count(CHUNKS_NEW, COPY, r.chunksCopied());
            count(CHUNKS_REUSED, COPY, r.chunksPresent() + r.chunksSkipped());
        });
    }

    private <T> T record(String operation, Supplier<T> run, Consumer<T> figures) {
        if (registry == null) {
            return run.get();
        }
        Timer.Sample sample = Timer.start(registry);
        T result;
        try {
            result = run.get();
        } catch (OperationCancelledException e) {
            sample.stop(timer(operation, CANCELLED));
            throw e;
        } catch (RuntimeException | Error e) {
            sample.stop(timer(operation, FAILURE));
            Counter.builder(FAILURES).description("repository operations that threw, by the exception's class")
                    .tags(tags).tag("operation", operation).tag("exception", e.getClass().getSimpleName())
                    .register(registry).increment();
            throw e;
        }
        sample.stop(timer(operation, result instanceof VerifyReport r && !r.ok() ? PROBLEMS_FOUND : SUCCESS));
        figures.accept(result);
        return result;
    }

    private Timer timer(String operation, String outcome) {
        return Timer.builder(OPERATION).description("wall time of repository operations, by outcome")
                .tags(tags).tag("operation", operation).tag("outcome", outcome).register(registry);
    }

    private void count(String name, String operation, long amount) {
        Counter.builder(name).description(description(name)).baseUnit(name.contains(".bytes.") ? "bytes" : null)
                .tags(tags).tag("operation", operation).register(registry).increment(Math.max(0, amount));
    }

    private static String description(String name) {
        return switch (name) {
            case BYTES_READ -> "bytes read: by a backup from its source, by a restore (plaintext), verify or copy (sealed) from the store";
            case BYTES_STORED -> "sealed bytes written to the store for new chunks (a copy: into the destination)";
            case BYTES_RESTORED -> "bytes of the files a restore wrote";
            case BYTES_REUSED -> "bytes a delta restore took from the existing target instead of the store";
            case BYTES_DELETED -> "stored bytes a prune freed";
            case CHUNKS_NEW -> "chunks stored (a copy: into the destination)";
            case CHUNKS_REUSED -> "chunk references served by chunks already stored";
            case CHUNKS_CHECKED -> "distinct chunks a verify checked";
            case CHUNKS_DELETED -> "chunk copies a prune removed";
            case PROBLEMS -> "problems verifies reported";
            default -> throw new IllegalArgumentException(name);
        };
    }
}
