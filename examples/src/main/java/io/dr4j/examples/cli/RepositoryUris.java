package io.dr4j.examples.cli;

import io.dr4j.aws.S3BlobStore;
import io.dr4j.aws.S3BlobStoreBuilder;
import io.dr4j.azure.AzureBlobStore;
import io.dr4j.azure.AzureBlobStoreBuilder;
import io.dr4j.replication.ReplicatedBlobStore;
import io.dr4j.storage.BlobStore;
import io.dr4j.storage.LocalBlobStore;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

/**
 * Maps a repository URI to a {@link BlobStore}, so that one string names where a repository lives:
 * <ul>
 *   <li>{@code file:///srv/backups/llama}, {@code file:relative/path} or a plain path: a
 *       {@link LocalBlobStore} ({@code file://host/...} is refused: see {@link RepositoryUri});</li>
 *   <li>{@code s3://bucket/prefix}: an {@link S3BlobStore}; query parameters {@code endpoint},
 *       {@code region}, {@code pathStyle}, {@code compatible} and {@code conditionalPuts}
 *       override the {@link Settings}; credentials come from {@code AWS_ACCESS_KEY_ID} /
 *       {@code AWS_SECRET_ACCESS_KEY} (/ {@code AWS_SESSION_TOKEN}) in the environment, else
 *       the AWS SDK's default chain (profiles, instance roles…);</li>
 *   <li>{@code azure://container/prefix}: an {@link AzureBlobStore} with the connection string
 *       held in an environment variable ({@code DR4J_AZURE_CONNECTION_STRING} by default, or the
 *       one named by the {@code connectionStringEnv} query parameter) — never in the URI;</li>
 *   <li>{@code replicated:URI,URI,...} or several URIs: a {@link ReplicatedBlobStore} over them,
 *       writing to a quorum (default a majority) and keeping its repair log in a local
 *       directory.</li>
 * </ul>
 * Every URI is checked by {@link RepositoryUri#parse} before anything is opened or created.
 * Secrets are read from the environment map given, never from the URI, and never printed.
 * Stateless and thread-safe; the caller closes the store returned.
 */
public final class RepositoryUris {

    /** The environment variable holding the Azure connection string, unless a URI names another. */
    public static final String DEFAULT_AZURE_ENV = "DR4J_AZURE_CONNECTION_STRING";

    private RepositoryUris() {
    }

    /**
     * How URIs are opened. Immutable.
     *
     * @param env the environment to read secrets from (normally {@link System#getenv()})
     * @param s3Endpoint default S3 endpoint (an S3-compatible server); empty for AWS
     * @param s3Region default S3 region; empty for the SDK's chain (us-east-1 with an endpoint)
     * @param s3PathStyle default path-style addressing
     * @param s3Compatible default S3-compatible checksum mode
     * @param s3ConditionalPuts whether the S3 server enforces {@code If-None-Match} (false for S3Proxy, some MinIO versions)
     * @param azureConnectionStringEnv the variable holding the Azure connection string
     * @param createLocal whether a missing local directory is created (for {@code init})
     * @param writeQuorum acknowledgements a replicated write needs; empty for a majority
     * @param repairLog where a replicated store keeps its repair log; empty for a directory under
     *     {@code $XDG_STATE_HOME/dr4j} (or {@code ~/.local/state/dr4j}) derived from the member URIs
     */
    public record Settings(Map<String, String> env, Optional<URI> s3Endpoint, Optional<String> s3Region, boolean s3PathStyle,
            boolean s3Compatible, boolean s3ConditionalPuts, String azureConnectionStringEnv, boolean createLocal,
            OptionalInt writeQuorum, Optional<Path> repairLog) {

        public Settings {
            env = Map.copyOf(env);
            Objects.requireNonNull(s3Endpoint, "s3Endpoint");
            Objects.requireNonNull(s3Region, "s3Region");
            Objects.requireNonNull(azureConnectionStringEnv, "azureConnectionStringEnv");
            Objects.requireNonNull(writeQuorum, "writeQuorum");
            Objects.requireNonNull(repairLog, "repairLog");
        }

        /** Defaults over {@code env}: AWS endpoints, conditional puts on, Azure string in {@value #DEFAULT_AZURE_ENV}. */
        public static Settings defaults(Map<String, String> env) {
            return new Settings(env, Optional.empty(), Optional.empty(), false, false, true, DEFAULT_AZURE_ENV, false,
                    OptionalInt.empty(), Optional.empty());
        }

        /** These settings, creating missing local directories. */
        public Settings creatingLocal() {
            return new Settings(env, s3Endpoint, s3Region, s3PathStyle, s3Compatible, s3ConditionalPuts,
                    azureConnectionStringEnv, true, writeQuorum, repairLog);
        }
    }

    /**
     * Opens the store named by {@code uris}: one URI, or several (or one {@code replicated:} URI)
     * for a replicated set.
     *
     * @throws IllegalArgumentException if a URI is malformed or names an unknown scheme; the
     *     message names the URI (without its query, which may hold an endpoint's details)
     * @throws IOException if a store cannot be opened
     */
    public static BlobStore open(List<String> uris, Settings settings) throws IOException {
        List<String> members = members(uris);
        if (members.size() == 1) {
            return openOne(members.get(0), settings);
        }
        return replicated(members, settings);
    }

    /**
     * The member URIs {@code uris} name, each checked ({@link RepositoryUri#parse}): the URIs
     * themselves, with {@code replicated:A,B} expanded. Refused: no URI at all, an empty member
     * ({@code replicated:a,,b}), a {@code replicated:} inside a {@code replicated:} list, and the same
     * member twice (a replica counted twice makes a write quorum a lie).
     *
     * @throws IllegalArgumentException naming the URI at fault
     */
    public static List<String> members(List<String> uris) {
        List<String> members = new ArrayList<>();
        for (String uri : uris) {
            if (uri.startsWith("replicated:")) {
                String list = uri.substring("replicated:".length());
                if (list.isBlank()) {
                    throw new IllegalArgumentException("replicated: names no members: write replicated:URI,URI");
                }
                for (String m : list.split(",", -1)) {
                    if (m.isBlank()) {
                        throw new IllegalArgumentException("replicated: list '" + RepositoryUri.safe(uri)
                                + "' has an empty member (a stray ',')");
                    }
                    if (m.trim().startsWith("replicated:")) {
                        throw new IllegalArgumentException("replicated: lists cannot nest: list every member once in "
                                + "one replicated:URI,URI");
                    }
                    members.add(m.trim());
                }
            } else {
                members.add(uri);
            }
        }
        if (members.isEmpty()) {
            throw new IllegalArgumentException("no repository given: use --repo URI (file:///path, s3://bucket/prefix, "
                    + "azure://container/prefix) or set DR4J_REPOSITORY");
        }
        Set<RepositoryUri> seen = new HashSet<>();
        for (String m : members) {
            RepositoryUri parsed = RepositoryUri.parse(m);
            RepositoryUri key = parsed instanceof RepositoryUri.Local l
                    ? new RepositoryUri.Local(l.path().toAbsolutePath().normalize()) : parsed;
            if (!seen.add(key)) {
                throw new IllegalArgumentException("repository " + RepositoryUri.safe(m) + " is named twice in a "
                        + "replicated set; name each member once");
            }
        }
        return members;
    }

    /** Opens one (non-replicated) URI; see {@link #open} and {@link RepositoryUri} for the forms accepted. */
    public static BlobStore openOne(String uri, Settings settings) throws IOException {
        RepositoryUri parsed = RepositoryUri.parse(uri);
        if (parsed instanceof RepositoryUri.Local l) {
            return local(l.path(), settings);
        }
        if (parsed instanceof RepositoryUri.S3 s) {
            return s3(s, settings);
        }
        return azure((RepositoryUri.Azure) parsed, settings);
    }

    private static BlobStore local(Path dir, Settings settings) throws IOException {
        Path abs = dir.toAbsolutePath().normalize();
        if (!settings.createLocal() && !Files.isDirectory(abs)) {
            throw new java.nio.file.NoSuchFileException(abs.toString(), null, "no repository directory (create it with init)");
        }
        return LocalBlobStore.builder(abs).createIfMissing(settings.createLocal()).build();
    }

    private static BlobStore s3(RepositoryUri.S3 uri, Settings settings) {
        Map<String, String> q = uri.query();
        S3BlobStoreBuilder b = S3BlobStore.builder(uri.bucket());
        if (!uri.prefix().isEmpty()) {
            b.keyPrefix(uri.prefix());
        }
        Optional<URI> endpoint = Optional.ofNullable(q.get("endpoint")).map(RepositoryUris::endpoint).or(settings::s3Endpoint);
        endpoint.ifPresent(b::endpoint);
        Optional.ofNullable(q.get("region")).or(settings::s3Region).map(Region::of).ifPresent(b::region);
        b.pathStyle(bool(q, "pathStyle", settings.s3PathStyle()));
        b.s3Compatible(bool(q, "compatible", settings.s3Compatible()));
        b.conditionalPuts(bool(q, "conditionalPuts", settings.s3ConditionalPuts()));
        String id = settings.env().get("AWS_ACCESS_KEY_ID");
        String secret = settings.env().get("AWS_SECRET_ACCESS_KEY");
        if (id != null && secret != null) {
            String token = settings.env().get("AWS_SESSION_TOKEN");
            b.credentials(StaticCredentialsProvider.create(token == null
                    ? AwsBasicCredentials.create(id, secret)
                    : AwsSessionCredentials.create(id, secret, token)));
        }
        return b.build();
    }

    private static URI endpoint(String value) {
        try {
            URI uri = new URI(value);
            if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))
                    || uri.getHost() == null) {
                throw new IllegalArgumentException("query parameter endpoint must be an http:// or https:// URL with a host");
            }
            return uri;
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("query parameter endpoint is not a URL: " + e.getReason());
        }
    }

    private static BlobStore azure(RepositoryUri.Azure uri, Settings settings) {
        String container = uri.container();
        String envName = uri.query().getOrDefault("connectionStringEnv", settings.azureConnectionStringEnv());
        String connection = settings.env().get(envName);
        if (connection == null || connection.isBlank()) {
            throw new IllegalArgumentException("azure://" + container + " needs the storage connection string in the "
                    + "environment variable " + envName);
        }
        AzureBlobStoreBuilder b = AzureBlobStore.builder().connectionString(connection, container);
        if (!uri.prefix().isEmpty()) {
            b.prefix(uri.prefix());
        }
        return b.build();
    }

    private static BlobStore replicated(List<String> members, Settings settings) throws IOException {
        List<BlobStore> opened = new ArrayList<>();
        try {
            ReplicatedBlobStore.Builder b = ReplicatedBlobStore.builder();
            Set<String> names = new HashSet<>();
            for (String m : members) {
                BlobStore store = openOne(m, settings);
                opened.add(store);
                String name = store.name().replace(',', '_');
                for (int i = 2; !names.add(name); i++) {
                    name = store.name().replace(',', '_') + "#" + i;
                }
                b.member(name, store);
            }
            settings.writeQuorum().ifPresent(b::writeQuorum);
            Path logDir = settings.repairLog().orElseGet(() -> defaultRepairLog(members, settings.env()));
            b.repairLog(LocalBlobStore.builder(logDir).createIfMissing(true).build());
            return b.build();
        } catch (IOException | RuntimeException e) {
            for (BlobStore s : opened) {
                try {
                    s.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    private static Path defaultRepairLog(List<String> members, Map<String, String> env) {
        String state = env.get("XDG_STATE_HOME");
        Path base = state != null && !state.isBlank() ? Path.of(state, "dr4j")
                : Path.of(System.getProperty("user.home"), ".local", "state", "dr4j");
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(String.join("\n", members).getBytes(StandardCharsets.UTF_8));
            return base.resolve("repair-" + HexFormat.of().formatHex(digest, 0, 8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private static boolean bool(Map<String, String> q, String key, boolean fallback) {
        String v = q.get(key);
        if (v == null) {
            return fallback;
        }
        if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(v);
        }
        throw new IllegalArgumentException("query parameter " + key + " must be true or false, was '" + v + "'");
    }
}
