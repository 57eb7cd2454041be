package io.dr4j.examples.cli;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One parsed repository URI, checked strictly before anything is opened or created, so that a
 * URI that could mean two things is refused instead of guessed at. The accepted forms:
 * <ul>
 *   <li>a plain path ({@code /srv/backups}, {@code ./backups}, {@code backups});</li>
 *   <li>{@code file:///abs/path} (or {@code file://localhost/abs/path}, {@code file:/abs/path})
 *       and {@code file:relative/path};</li>
 *   <li>{@code s3://bucket[/prefix][?endpoint=URL&region=R&pathStyle=B&compatible=B&conditionalPuts=B]};</li>
 *   <li>{@code azure://container[/prefix][?connectionStringEnv=VAR]}.</li>
 * </ul>
 * Refused, each with a message that shows the right spelling: {@code file://host/...} with a
 * host other than empty or {@code localhost} ({@code file://backups} once created the
 * repository in the current directory), an empty path, a query or fragment on a {@code file:}
 * URI; {@code s3:}/{@code azure:} without {@code //}; a missing or malformed bucket or container;
 * user-info (credentials never belong in a URI), a port, a fragment, an unknown, repeated or
 * empty query parameter; an empty segment or {@code ..} in a prefix; an unknown scheme.
 * A {@code file:} path is taken literally (no percent-decoding). Messages never echo a URI's
 * query or user-info. Immutable.
 */
sealed interface RepositoryUri {

    /** A local directory. */
    record Local(Path path) implements RepositoryUri {
        public Local {
            Objects.requireNonNull(path, "path");
        }
    }

    /** An S3 bucket and key prefix (empty for the bucket's root), with the URI's query parameters. */
    record S3(String bucket, String prefix, Map<String, String> query) implements RepositoryUri {
        public S3 {
            query = Map.copyOf(query);
        }
    }

    /** An Azure container and blob prefix (empty for the container's root), with the URI's query parameters. */
    record Azure(String container, String prefix, Map<String, String> query) implements RepositoryUri {
        public Azure {
            query = Map.copyOf(query);
        }
    }

    /** The query parameters an {@code s3://} URI may carry. */
    Set<String> S3_PARAMETERS = Set.of("endpoint", "region", "pathStyle", "compatible", "conditionalPuts");

    /** The query parameters an {@code azure://} URI may carry. */
    Set<String> AZURE_PARAMETERS = Set.of("connectionStringEnv");

    /**
     * Parses and checks {@code uri}; nothing is opened.
     *
     * @throws IllegalArgumentException naming the URI (without its query) and the fix
     */
    static RepositoryUri parse(String uri) {
        Objects.requireNonNull(uri, "uri");
        if (uri.isBlank()) {
            throw new IllegalArgumentException("empty repository URI: use a path, file:///abs/path, file:relative/path, "
                    + "s3://bucket/prefix or azure://container/prefix");
        }
        int colon = uri.indexOf(':');
        int slash = uri.indexOf('/');
        // "C:\..." or "C:/..." is a Windows drive, and "./a:b" or "/a:b" a path with a colon in a name
        boolean hasScheme = colon > 1 && (slash < 0 || colon < slash)
                && Pattern.matches("[A-Za-z][A-Za-z0-9+.-]*", uri.substring(0, colon));
        if (!hasScheme) {
            return new Local(Path.of(uri));
        }
        String scheme = uri.substring(0, colon).toLowerCase(Locale.ROOT);
        String rest = uri.substring(colon + 1);
        return switch (scheme) {
            case "file" -> file(uri, rest);
            case "s3", "azure" -> {
                if (!rest.startsWith("//")) {
                    String word = scheme.equals("s3") ? "bucket" : "container";
                    throw new IllegalArgumentException("'" + safe(uri) + "' is not a " + scheme + " URI: write " + scheme
                            + "://" + word + "/prefix (with //)");
                }
                yield cloud(scheme, uri);
            }
            default -> throw new IllegalArgumentException("unknown repository scheme '" + scheme + "' in '" + safe(uri)
                    + "': use a path, file:, s3:// or azure:// (for a local path with a colon in it, write ./" + safe(uri)
                    + ")");
        };
    }

    private static Local file(String uri, String rest) {
        if (rest.indexOf('?') >= 0 || rest.indexOf('#') >= 0) {
            throw new IllegalArgumentException("file URI '" + safe(uri) + "' has a query or fragment, which a file: URI "
                    + "does not take; a directory whose name holds '?' or '#' can be given as a plain path");
        }
        String path;
        if (rest.startsWith("//")) {
            String afterSlashes = rest.substring(2);
            int end = afterSlashes.indexOf('/');
            String host = end < 0 ? afterSlashes : afterSlashes.substring(0, end);
            path = end < 0 ? "" : afterSlashes.substring(end);
            if (!host.isEmpty() && !host.equalsIgnoreCase("localhost")) {
                String all = host + path;
                throw new IllegalArgumentException("file URI '" + uri + "' names a host ('" + host + "'), which a local "
                        + "repository cannot have: did you mean file:" + all + " (relative) or file:///" + all
                        + " (absolute)?");
            }
            if (path.isEmpty()) {
                throw new IllegalArgumentException("file URI '" + uri + "' has no path: write file:///abs/path or "
                        + "file:relative/path");
            }
        } else {
            path = rest;
        }
        if (path.isEmpty()) {
            throw new IllegalArgumentException("file URI '" + uri + "' has no path: write file:///abs/path or "
                    + "file:relative/path");
        }
        return new Local(Path.of(path));
    }

    private static RepositoryUri cloud(String scheme, String uri) {
        boolean s3 = scheme.equals("s3");
        String word = s3 ? "bucket" : "container";
        String shape = scheme + "://" + word + "/prefix";
        String afterSlashes = uri.substring(scheme.length() + 3);
        if (afterSlashes.isEmpty() || "/?#".indexOf(afterSlashes.charAt(0)) >= 0) {
            throw new IllegalArgumentException(scheme + " URI '" + safe(uri) + "' has no " + word + ": write " + shape);
        }
        URI parsed;
        try {
            parsed = new URI(uri);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("invalid repository URI '" + safe(uri) + "': " + e.getReason() + "; write "
                    + shape);
        }
        String authority = parsed.getRawAuthority();
        if (authority == null || authority.isEmpty()) {
            throw new IllegalArgumentException(scheme + " URI '" + safe(uri) + "' has no " + word + ": write " + shape);
        }
        if (authority.contains("@")) {
            // the user-info may be a secret: name neither it nor the rest of the authority
            throw new IllegalArgumentException(scheme + " URI has user-info before its " + word + " ('...@'): credentials "
                    + "never go in a repository URI; " + (s3 ? "set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY"
                            : "put the connection string in $" + RepositoryUris.DEFAULT_AZURE_ENV) + " and write " + shape);
        }
        if (authority.contains(":")) {
            throw new IllegalArgumentException(scheme + " URI '" + safe(uri) + "' has a port after its " + word + ": a "
                    + word + " has none" + (s3 ? "; give an S3-compatible server with ?endpoint=http://host:port or "
                            + "--s3-endpoint" : "; the endpoint comes from the connection string"));
        }
        if (parsed.getRawFragment() != null) {
            throw new IllegalArgumentException(scheme + " URI '" + safe(uri) + "' has a fragment ('#...'); write " + shape);
        }
        String name = authority;
        if (s3 ? !Pattern.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", name) || name.contains("..")
                : !Pattern.matches("[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]", name)) {
            throw new IllegalArgumentException(scheme + " URI '" + safe(uri) + "': '" + name + "' is not a valid " + word
                    + " name (3 to 63 characters: lower-case letters, digits" + (s3 ? ", dots" : "") + " and hyphens, "
                    + "starting and ending with a letter or digit)");
        }
        String prefix = prefix(scheme, uri, parsed.getPath());
        Map<String, String> query = query(scheme, uri, parsed.getRawQuery(), s3 ? S3_PARAMETERS : AZURE_PARAMETERS);
        return s3 ? new S3(name, prefix, query) : new Azure(name, prefix, query);
    }

    private static String prefix(String scheme, String uri, String rawPath) {
        String path = rawPath == null ? "" : rawPath;
        if (path.startsWith("/")) {
            path = path.substring(1);
        }
        if (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        if (path.isEmpty()) {
            return "";
        }
        for (String segment : path.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                throw new IllegalArgumentException(scheme + " URI '" + safe(uri) + "' has an empty, '.' or '..' segment "
                        + "in its prefix '" + path + "'; write " + scheme + "://name/a/b");
            }
        }
        return path;
    }

    private static Map<String, String> query(String scheme, String uri, String raw, Set<String> allowed) {
        Map<String, String> result = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            if (uri.contains("?")) {
                throw new IllegalArgumentException(scheme + " URI '" + safe(uri) + "' ends in an empty query ('?'); "
                        + "remove it");
            }
            return result;
        }
        for (String pair : raw.split("&", -1)) {
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            if (k.isEmpty()) {
                throw new IllegalArgumentException(scheme + " URI '" + safe(uri) + "' has an empty query parameter "
                        + "(a stray '&', '=' or '?')");
            }
            if (!allowed.contains(k)) {
                throw new IllegalArgumentException(scheme + " URI '" + safe(uri) + "' has an unknown query parameter '" + k
                        + "'; known: " + String.join(", ", allowed.stream().sorted().toList()));
            }
            String v = eq < 0 ? "true" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            if (v.isEmpty()) {
                throw new IllegalArgumentException(scheme + " URI '" + safe(uri) + "': query parameter " + k
                        + " has no value");
            }
            if (result.put(k, v) != null) {
                throw new IllegalArgumentException(scheme + " URI '" + safe(uri) + "' gives query parameter " + k
                        + " twice");
            }
        }
        return result;
    }

    /** {@code uri} without its query (which may hold an endpoint's details) and without user-info. */
    static String safe(String uri) {
        int q = uri.indexOf('?');
        String s = q < 0 ? uri : uri.substring(0, q);
        int at = s.indexOf('@');
        int scheme = s.indexOf("://");
        if (at >= 0 && scheme >= 0 && at > scheme) {
            s = s.substring(0, scheme + 3) + "..." + s.substring(at);
        }
        return s;
    }
}
