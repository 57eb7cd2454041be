package io.dr4j.examples.cli;

import io.dr4j.backup.CopyOptions;
import io.dr4j.backup.CopyResult;
import io.dr4j.backup.KeyProvider;
import io.dr4j.backup.Repository;
import io.dr4j.backup.RepositoryOptions;
import io.dr4j.backup.SnapshotFilter;
import io.dr4j.backup.SnapshotId;
import io.dr4j.storage.BlobStore;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code dr4j copy}: copies snapshots from the repository ({@code --repo} and its key) into
 * another one ({@code --to} and its own key, which must be given explicitly: the default key
 * variables are the source's), incrementally, through {@link Repository#copyTo}. The
 * destination must exist ({@code dr4j init} it first).
 *
 * <p>The copy reads only the source and writes only the destination, so {@code --limit-download}
 * paces the reads from the source and {@code --limit-upload} the writes to the destination (the
 * link to a DR region). The two repositories are opened at once: each unlock is an Argon2id
 * derivation of about half a second, and one full collection after both returns their memory
 * (see {@link RepoCommand#openRepository}).
 */
@Command(name = "copy", description = "Copy snapshots into another repository (other keys, other store), incrementally.")
final class CopyCommand extends RepoCommand {

    @Parameters(arity = "0..*", paramLabel = "SNAPSHOT",
            description = "Snapshots to copy (id, unique prefix or 'latest'); default all matching --tag/--label/--host.")
    List<String> snapshots = new ArrayList<>();

    @Option(names = "--tag", paramLabel = "TAG", description = "Only snapshots with this tag (repeatable).")
    List<String> tags = new ArrayList<>();

    @Option(names = "--label", paramLabel = "KEY=VALUE", description = "Only snapshots with this label (repeatable).")
    Map<String, String> labels = new TreeMap<>();

    @Option(names = "--host", paramLabel = "HOST", description = "Only snapshots made on this host.")
    String host;

    @Option(names = "--to", paramLabel = "URI", required = true,
            description = "Destination repository URI (as --repo; repeat for a replicated set).")
    List<String> to = new ArrayList<>();

    @Option(names = "--to-s3-endpoint", paramLabel = "URL", description = "S3 endpoint of the destination (default: --s3-endpoint).")
    URI toS3Endpoint;

    @Option(names = "--to-s3-region", paramLabel = "REGION", description = "S3 region of the destination (default: --s3-region).")
    String toS3Region;

    @Option(names = "--to-key-file", paramLabel = "FILE", description = "File holding the destination's raw key.")
    Path toKeyFile;

    @Option(names = "--to-key-env", paramLabel = "VAR", description = "Variable holding the destination's raw key.")
    String toKeyEnv;

    @Option(names = "--to-password-file", paramLabel = "FILE", description = "File whose first line is the destination's password.")
    Path toPasswordFile;

    @Option(names = "--to-password-env", paramLabel = "VAR", description = "Variable holding the destination's password.")
    String toPasswordEnv;

    @Override
    public Integer call() throws Exception {
        KeyProvider destinationKey = destinationKey();
        SnapshotFilter filter = filter(tags, labels);
        if (host != null) {
            filter = filter.andHost(host);
        }
        try (BlobStore store = openStore(false); BlobStore toStore = RepositoryUris.open(to, destinationSettings());
                OpenPair both = OpenPair.open(() -> Repository.open(store, keyProvider(), sourceOptions()),
                        () -> Repository.open(toStore, destinationKey, destinationOptions()));
                ProgressBar bar = progressBar("copy   ")) {
            Repository repo = both.source;
            Repository destination = both.destination;
            CopyOptions options = CopyOptions.builder().progress(listener(bar)).build();
            CopyResult r;
            if (snapshots.isEmpty()) {
                r = repo.copyTo(destination, filter, options);
            } else {
                LinkedHashSet<SnapshotId> ids = new LinkedHashSet<>();
                for (String s : snapshots) {
                    ids.add(resolve(repo, s, filter));
                }
                r = repo.copyTo(destination, List.copyOf(ids), options);
            }
            bar.finish();
            if (json) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("from", store.name());
                m.put("to", toStore.name());
                m.put("copied", r.copied().stream().map(SnapshotId::value).toList());
                m.put("skipped", r.skipped().stream().map(SnapshotId::value).toList());
                m.put("chunksCopied", r.chunksCopied());
                m.put("chunksPresent", r.chunksPresent());
                m.put("chunksSkipped", r.chunksSkipped());
                m.put("bytesRead", r.bytesRead());
                m.put("bytesWritten", r.bytesWritten());
                m.put("storeReads", r.storeReads());
                m.put("objectsWritten", r.objectsWritten());
                m.put("durationMillis", r.duration().toMillis());
                printJson(m);
            } else {
                root.out.printf("copied %d snapshot(s) to %s (%d already there): %d chunks copied, %d already present, "
                                + "%d reused from earlier copies; %s read in %d requests, %s written in %d objects, %s%n",
                        r.copied().size(), toStore.name(), r.skipped().size(), r.chunksCopied(), r.chunksPresent(),
                        r.chunksSkipped(), Units.bytes(r.bytesRead()), r.storeReads(), Units.bytes(r.bytesWritten()),
                        r.objectsWritten(), Units.duration(r.duration()));
                r.copied().forEach(id -> root.out.println("  " + id));
            }
        }
        return ExitCode.OK;
    }

    /** The source's options: only reads go to it, so only the download limit applies (and the meters, if asked). */
    RepositoryOptions sourceOptions() {
        return repositoryOptions(null, limitDownload, true);
    }

    /** The destination's options: only writes go to it, so only the upload limit applies. */
    RepositoryOptions destinationOptions() {
        return repositoryOptions(limitUpload, null, false);
    }

    /** Source and destination, opened at the same time; closes both (the destination first). */
    static final class OpenPair implements AutoCloseable {
        final Repository source;
        final Repository destination;

        private OpenPair(Repository source, Repository destination) {
            this.source = source;
            this.destination = destination;
        }

        interface Opener {
            Repository open() throws IOException;
        }

        /**
         * Opens the destination on a second thread while this one opens the source. If the source
         * fails, that failure is thrown at once and the destination is closed on the second thread
         * once its open returns; if only the destination fails, the source is closed and
         * the destination's failure thrown.
         */
        static OpenPair open(Opener source, Opener destination) throws IOException {
            ExecutorService pool = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "dr4j-copy-open");
                t.setDaemon(true);
                return t;
            });
            try {
                Future<Repository> dest = pool.submit(destination::open);
                Repository src;
                try {
                    src = source.open();
                } catch (IOException | RuntimeException | Error e) {
                    // report at once; the destination, if it still opens (an unreachable DR store may
                    // take its retries), is closed on the pool's one thread, queued behind its open
                    pool.execute(() -> {
                        try {
                            join(dest).close();
                        } catch (Exception | Error ignored) {
                            // cancelled, or failed to open: nothing to close
                        }
                    });
                    throw e;
                }
                Repository dst;
                try {
                    dst = join(dest);
                } catch (IOException | RuntimeException | Error e) {
                    try {
                        src.close();
                    } catch (Exception other) {
                        e.addSuppressed(other);
                    }
                    throw e;
                }
                System.gc(); // both Argon2id derivations' blocks are garbage now: see RepoCommand.openRepository
                return new OpenPair(src, dst);
            } finally {
                pool.shutdown();
            }
        }

        private static Repository join(Future<Repository> f) throws IOException {
            try {
                return f.get();
            } catch (InterruptedException e) {
                f.cancel(true);
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while opening the destination");
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                if (c instanceof IOException io) {
                    throw io;
                }
                if (c instanceof RuntimeException r) {
                    throw r;
                }
                if (c instanceof Error err) {
                    throw err;
                }
                throw new IOException(c);
            }
        }

        @Override
        public void close() throws IOException {
            try (Repository s = source) {
                destination.close();
            }
        }
    }

    /** The destination's key, from its own options only (the DR4J_PASSWORD/DR4J_KEY fallback is the source's). */
    private KeyProvider destinationKey() throws IOException {
        KeyOptions k = new KeyOptions();
        k.keyFile = toKeyFile;
        k.keyEnv = toKeyEnv;
        k.passwordFile = toPasswordFile;
        k.passwordEnv = toPasswordEnv;
        if (toKeyFile == null && toKeyEnv == null && toPasswordFile == null && toPasswordEnv == null) {
            throw new IllegalArgumentException("no destination key: give --to-key-file FILE, --to-key-env VAR, "
                    + "--to-password-file FILE or --to-password-env VAR");
        }
        return k.load(root.env);
    }

    private RepositoryUris.Settings destinationSettings() {
        RepositoryUris.Settings s = settings();
        return new RepositoryUris.Settings(s.env(), toS3Endpoint != null ? Optional.of(toS3Endpoint) : s.s3Endpoint(),
                toS3Region != null ? Optional.of(toS3Region) : s.s3Region(), s.s3PathStyle(), s.s3Compatible(),
                s.s3ConditionalPuts(), s.azureConnectionStringEnv(), false, s.writeQuorum(), s.repairLog());
    }
}
