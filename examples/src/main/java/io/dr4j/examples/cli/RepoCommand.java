package io.dr4j.examples.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.dr4j.backup.InitOptions;
import io.dr4j.backup.KeyProvider;
import io.dr4j.backup.ProgressListener;
import io.dr4j.backup.Repository;
import io.dr4j.backup.RepositoryOptions;
import io.dr4j.backup.Snapshot;
import io.dr4j.backup.SnapshotFilter;
import io.dr4j.backup.SnapshotId;
import io.dr4j.storage.BlobStore;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Measurement;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** What every repository command shares: where the repository is, the key, output format. */
abstract class RepoCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @ParentCommand
    Dr4jCommand root;

    @Option(names = {"-r", "--repo"}, paramLabel = "URI",
            description = "Repository: file:///path, s3://bucket/prefix, azure://container/prefix, or replicated:URI,URI; "
                    + "repeat for a replicated set. Default: $DR4J_REPOSITORY.")
    List<String> repos = new ArrayList<>();

    @Option(names = "--s3-endpoint", paramLabel = "URL", description = "S3-compatible endpoint, e.g. http://127.0.0.1:9000.")
    URI s3Endpoint;

    @Option(names = "--s3-region", paramLabel = "REGION", description = "S3 region (default: the AWS SDK's chain; us-east-1 with an endpoint).")
    String s3Region;

    @Option(names = "--s3-path-style", description = "Path-style S3 addressing (most S3-compatible servers).")
    boolean s3PathStyle;

    @Option(names = "--s3-compatible", description = "S3-compatible checksum mode (servers that reject flexible checksums).")
    boolean s3Compatible;

    @Option(names = "--s3-no-conditional-puts", description = "The S3 server ignores If-None-Match (S3Proxy, older MinIO).")
    boolean s3NoConditionalPuts;

    @Option(names = "--azure-connection-string-env", paramLabel = "VAR", defaultValue = RepositoryUris.DEFAULT_AZURE_ENV,
            description = "Variable holding the Azure storage connection string (default ${DEFAULT-VALUE}).")
    String azureEnv;

    @Option(names = "--write-quorum", paramLabel = "W", description = "Replicated set: acknowledgements per write (default majority).")
    Integer writeQuorum;

    @Option(names = "--repair-log", paramLabel = "DIR", description = "Replicated set: directory of the durable repair log.")
    Path repairLog;

    @Option(names = "--limit-upload", paramLabel = "RATE",
            description = "Send at most RATE per second to the repository, e.g. 50MiB (all threads together; default unlimited).")
    String limitUpload;

    @Option(names = "--limit-download", paramLabel = "RATE",
            description = "Read at most RATE per second from the repository, e.g. 100M (default unlimited).")
    String limitDownload;

    @Option(names = "--metrics-file", paramLabel = "FILE",
            description = "When the command ends (also when it fails), write the repository's dr4j.repository.* meters "
                    + "to FILE as JSON, replacing it atomically.")
    Path metricsFile;

    private SimpleMeterRegistry registry;

    @Mixin
    KeyOptions key;

    @Option(names = "--json", description = "Print results as JSON on stdout.")
    boolean json;

    @Option(names = "--progress", negatable = true, description = "Progress bars on stderr (default: when stderr is a terminal).")
    Boolean progress;

    RepositoryUris.Settings settings() {
        return new RepositoryUris.Settings(root.env, Optional.ofNullable(s3Endpoint), Optional.ofNullable(s3Region),
                s3PathStyle, s3Compatible, !s3NoConditionalPuts, azureEnv, false,
                writeQuorum == null ? OptionalInt.empty() : OptionalInt.of(writeQuorum), Optional.ofNullable(repairLog));
    }

    List<String> repoUris() {
        if (repos.isEmpty() && root.env.get("DR4J_REPOSITORY") != null) {
            return List.of(root.env.get("DR4J_REPOSITORY"));
        }
        return repos;
    }

    BlobStore openStore(boolean create) throws IOException {
        repositoryOptions(); // a bad --limit-* is refused before a store is opened (or a directory created)
        RepositoryUris.Settings s = settings();
        return RepositoryUris.open(repoUris(), create ? s.creatingLocal() : s);
    }

    KeyProvider keyProvider() throws IOException {
        return key.load(root.env);
    }

    Repository openRepository(BlobStore store) throws IOException {
        Repository repo = Repository.open(store, keyProvider(), repositoryOptions());
        // Argon2id's 64 MiB of blocks are garbage now, but they were live through the young
        // collections during the key derivation, which made G1 grow the heap (and its own
        // bookkeeping) past a gigabyte. One full collection here, in a process that does nothing
        // else, hands that memory back before the backup or restore starts: peak RSS about 100 MiB
        // lower. A library caller's heap is its own business, so Repository itself never does this.
        System.gc();
        return repo;
    }

    Repository initRepository(BlobStore store, InitOptions init) throws IOException {
        return Repository.init(store, keyProvider(), init, repositoryOptions());
    }

    /** The defaults with this command's rate limits; a bad limit is a usage error before anything is opened. */
    RepositoryOptions repositoryOptions() {
        return repositoryOptions(limitUpload, limitDownload, true);
    }

    /**
     * The defaults with the given limits ({@code --limit-upload} / {@code --limit-download} values, null for none) and,
     * if {@code metrics}, this command's registry: for a command that reads one repository and writes another.
     */
    RepositoryOptions repositoryOptions(String upload, String download, boolean metrics) {
        RepositoryOptions.Builder b = RepositoryOptions.builder();
        if (upload != null) {
            b.uploadLimit(Units.parseBytes("--limit-upload", upload));
        }
        if (download != null) {
            b.downloadLimit(Units.parseBytes("--limit-download", download));
        }
        if (metrics && metricsFile != null) {
            b.meterRegistry(registry());
        }
        configure(b);
        return b.build();
    }

    /** Sets this command's own run-time options ({@code prune --grace}); the rate limits and meters are set already. */
    void configure(RepositoryOptions.Builder options) {
    }

    private synchronized SimpleMeterRegistry registry() {
        if (registry == null) {
            registry = new SimpleMeterRegistry();
        }
        return registry;
    }

    /**
     * Writes the meters to {@code --metrics-file}, if given: {@code {"exitCode", "meters": [{"name",
     * "type", "tags", "values"}]}}, through a temporary file and a rename, so a collector never reads
     * half a file. Returns the exit code, {@link ExitCode#FAILURE} if the command succeeded but the
     * file could not be written.
     */
    int writeMetrics(int exitCode) {
        if (metricsFile == null) {
            return exitCode;
        }
        List<Map<String, Object>> meters = new ArrayList<>();
        for (Meter m : registry().getMeters()) {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("name", m.getId().getName());
            one.put("type", m.getId().getType().name().toLowerCase(java.util.Locale.ROOT));
            Map<String, String> tags = new java.util.TreeMap<>();
            for (Tag t : m.getId().getTags()) {
                tags.put(t.getKey(), t.getValue());
            }
            one.put("tags", tags);
            Map<String, Object> values = new LinkedHashMap<>();
            for (Measurement v : m.measure()) {
                values.put(v.getStatistic().getTagValueRepresentation(), v.getValue());
            }
            one.put("values", values);
            meters.add(one);
        }
        meters.sort(java.util.Comparator.comparing((Map<String, Object> m) -> (String) m.get("name"))
                .thenComparing(m -> m.get("tags").toString()));
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("exitCode", exitCode);
        doc.put("meters", meters);
        Path target = metricsFile.toAbsolutePath();
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        try {
            Files.writeString(tmp, JSON.writeValueAsString(doc) + "\n");
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return exitCode;
        } catch (IOException e) {
            root.err.println("dr4j: cannot write the metrics to " + target + ": " + e.getMessage());
            return exitCode == ExitCode.OK ? ExitCode.FAILURE : exitCode;
        }
    }

    boolean showProgress() {
        return progress != null ? progress : System.console() != null && !json;
    }

    ProgressBar progressBar(String label) {
        return new ProgressBar(root.err, label);
    }

    ProgressListener listener(ProgressBar bar) {
        return showProgress() ? bar : ProgressListener.NONE;
    }

    void printJson(Object value) {
        try {
            root.out.println(JSON.writeValueAsString(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render JSON", e);
        }
    }

    static SnapshotFilter filter(List<String> tags, Map<String, String> labels) {
        SnapshotFilter f = SnapshotFilter.ALL;
        if (!tags.isEmpty()) {
            f = f.andTags(tags.toArray(String[]::new));
        }
        for (Map.Entry<String, String> e : labels.entrySet()) {
            f = f.andLabel(e.getKey(), e.getValue());
        }
        return f;
    }

    static SnapshotId resolve(Repository repo, String idOrLatest, SnapshotFilter filter) {
        if (idOrLatest.equals("latest")) {
            return repo.latest(filter).orElseThrow(() -> new io.dr4j.backup.SnapshotNotFoundException(
                    "no snapshot" + (filter.equals(SnapshotFilter.ALL) ? "" : " matching " + filter) + " in " + repo.store().name()))
                    .id();
        }
        return repo.resolve(idOrLatest);
    }

    static Map<String, Object> snapshotJson(Snapshot s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", s.id().value());
        m.put("time", s.time().toString());
        m.put("host", s.host());
        m.put("source", s.source());
        m.put("tags", s.tags().stream().sorted().toList());
        m.put("labels", new java.util.TreeMap<>(s.labels()));
        m.put("parent", s.parent().map(SnapshotId::value).orElse(null));
        m.put("files", s.stats().files());
        m.put("totalBytes", s.totalBytes());
        m.put("newBytesStored", s.stats().newBytesStored());
        m.put("durationMillis", s.stats().duration().toMillis());
        Map<String, Object> byDtype = new LinkedHashMap<>();
        s.stats().byDtype().forEach((dtype, d) -> {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("bytesRead", d.bytesRead());
            one.put("bytesStored", d.bytesStored());
            one.put("ratio", Math.round(d.ratio() * 1000) / 1000.0);
            byDtype.put(dtype, one);
        });
        m.put("byDtype", byDtype);
        m.put("excludes", s.excludes());
        return m;
    }
}
