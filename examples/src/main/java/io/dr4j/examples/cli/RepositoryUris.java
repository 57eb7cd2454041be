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
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
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
 *   <li>{@code file:///srv/backups/llama} or a plain path: a {@link LocalBlobStore};</li>
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
        List<String> members = new ArrayList<>();
        for (String uri : uris) {
            if (uri.startsWith("replicated:")) {
                for (String m : uri.substring("replicated:".length()).split(",")) {
                    if (!m.isBlank()) {
                        members.add(m.trim());
                    }
                }
            } else {
                members.add(uri);
            }
        }
        if (members.isEmpty()) {
            throw new IllegalArgumentException("no repository given: use --repo URI (file:///path, s3://bucket/prefix, "
                    + "azure://container/prefix) or set DR4J_REPOSITORY");
        }
        if (members.size() == 1) {
            return openOne(members.get(0), settings);
        }
        return replicated(members, settings);
    }

    /** Opens one (non-replicated) URI; see {@link #open}. */
    public static BlobStore openOne(String uri, Settings settings) throws IOException {
        Objects.requireNonNull(uri, "uri");
        if (!uri.contains("://")) {
            return local(Path.of(uri), settings);
        }
        URI parsed;
        try {
            parsed = new URI(uri);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("invalid repository URI '" + withoutQuery(uri) + "': " + e.getReason());
        }
        String scheme = parsed.getScheme().toLowerCase(java.util.Locale.ROOT);
        return switch (scheme) {
            case "file" -> local(Path.of(parsed.getPath()), settings);
            case "s3" -> s3(parsed, settings);
            case "azure" -> azure(parsed, settings);
            default -> throw new IllegalArgumentException("unknown repository scheme '" + scheme + "' in "
                    + withoutQuery(uri) + "; use file://, s3://, azure:// or replicated:");
        };
    }

    private static BlobStore local(Path dir, Settings settings) throws IOException {
        Path abs = dir.toAbsolutePath().normalize();
        if (!settings.createLocal() && !Files.isDirectory(abs)) {
            throw new java.nio.file.NoSuchFileException(abs.toString(), null, "no repository directory (create it with init)");
        }
        return LocalBlobStore.builder(abs).createIfMissing(settings.createLocal()).build();
    }

    private static BlobStore s3(URI uri, Settings settings) {
        String bucket = uri.getHost();
        if (bucket == null || bucket.isBlank()) {
            throw new IllegalArgumentException("s3 URI needs a bucket: s3://bucket/prefix, was " + withoutQuery(uri.toString()));
        }
        Map<String, String> q = query(uri);
        S3BlobStoreBuilder b = S3BlobStore.builder(bucket);
        String prefix = prefix(uri);
        if (!prefix.isEmpty()) {
            b.keyPrefix(prefix);
        }
        Optional<URI> endpoint = Optional.ofNullable(q.get("endpoint")).map(URI::create).or(settings::s3Endpoint);
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

    private static BlobStore azure(URI uri, Settings settings) {
        String container = uri.getHost();
        if (container == null || container.isBlank()) {
            throw new IllegalArgumentException("azure URI needs a container: azure://container/prefix, was "
                    + withoutQuery(uri.toString()));
        }
        String envName = query(uri).getOrDefault("connectionStringEnv", settings.azureConnectionStringEnv());
        String connection = settings.env().get(envName);
        if (connection == null || connection.isBlank()) {
            throw new IllegalArgumentException("azure://" + container + " needs the storage connection string in the "
                    + "environment variable " + envName);
        }
        AzureBlobStoreBuilder b = AzureBlobStore.builder().connectionString(connection, container);
        String prefix = prefix(uri);
        if (!prefix.isEmpty()) {
            b.prefix(prefix);
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

    private static String prefix(URI uri) {
        String path = uri.getPath() == null ? "" : uri.getPath();
        while (path.startsWith("/")) {
            path = path.substring(1);
        }
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        return path;
    }

    private static Map<String, String> query(URI uri) {
        Map<String, String> result = new LinkedHashMap<>();
        if (uri.getRawQuery() == null) {
            return result;
        }
        for (String pair : uri.getRawQuery().split("&")) {
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "true" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            result.put(k, v);
        }
        return result;
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

    private static String withoutQuery(String uri) {
        int q = uri.indexOf('?');
        return q < 0 ? uri : uri.substring(0, q);
    }
}
