package io.dr4j.storage;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The name of an object in a {@link BlobStore}: a relative, {@code /}-separated path such as
 * {@code chunks/3f/3f9a…}.
 *
 * <p>Keys are validated once, here, so that every store can map them to its own namespace
 * without escaping: a key is non-empty, at most {@value #MAX_LENGTH} bytes of UTF-8, has no
 * leading or trailing {@code /}, no empty segment, no {@code .} or {@code ..} segment, no
 * backslash, no control character, and no segment longer than {@value #MAX_SEGMENT_LENGTH}
 * bytes (the file-name limit of common local file systems).
 *
 * <p>Instances are immutable and thread-safe. Keys order by their string value.
 */
public final class BlobKey implements Comparable<BlobKey> {

    /** Maximum length of a key, in bytes of UTF-8 (S3 and Azure both allow 1024). */
    public static final int MAX_LENGTH = 1024;

    /** Maximum length of one {@code /}-separated segment, in bytes of UTF-8. */
    public static final int MAX_SEGMENT_LENGTH = 255;

    private final String value;

    private BlobKey(String value) {
        this.value = value;
    }

    /**
     * Returns the key for {@code value}.
     *
     * @throws IllegalArgumentException naming the key and the rule it breaks
     * @throws NullPointerException if {@code value} is null
     */
    public static BlobKey of(String value) {
        String problem = problem(value);
        if (problem != null) {
            throw new IllegalArgumentException("Invalid blob key '" + printable(value) + "': " + problem);
        }
        return new BlobKey(value);
    }

    /** Returns whether {@code value} is a valid key, without throwing. */
    public static boolean isValid(String value) {
        return value != null && problem(value) == null;
    }

    /**
     * Validates a listing prefix: the empty string (everything) or a valid key, which is treated
     * as a directory (listing {@code a/b} returns {@code a/b/x} but not {@code a/bc}).
     *
     * @throws IllegalArgumentException if the prefix is neither
     */
    public static String checkPrefix(String prefix) {
        if (prefix == null) {
            throw new NullPointerException("prefix");
        }
        if (!prefix.isEmpty()) {
            of(prefix);
        }
        return prefix;
    }

    /** Returns the key {@code this + "/" + child}; {@code child} may itself contain {@code /}. */
    public BlobKey resolve(String child) {
        return of(value + '/' + child);
    }

    /** Returns the last segment of the key. */
    public String name() {
        return value.substring(value.lastIndexOf('/') + 1);
    }

    /** Returns the key without its last segment, or empty for a single-segment key. */
    public Optional<BlobKey> parent() {
        int slash = value.lastIndexOf('/');
        return slash < 0 ? Optional.empty() : Optional.of(new BlobKey(value.substring(0, slash)));
    }

    /**
     * Returns whether this key lies under {@code prefix} in the sense of {@link BlobStore#list}:
     * every key is under {@code ""}; {@code a/b/c} is under {@code a/b} but {@code a/bc} is not.
     */
    public boolean isUnder(String prefix) {
        return prefix.isEmpty() || (value.length() > prefix.length() + 1
                && value.startsWith(prefix) && value.charAt(prefix.length()) == '/');
    }

    /** Returns the key as a string. */
    public String value() {
        return value;
    }

    @Override
    public int compareTo(BlobKey other) {
        return value.compareTo(other.value);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BlobKey && ((BlobKey) o).value.equals(value);
    }

    @Override
    public int hashCode() {
        return value.hashCode();
    }

    @Override
    public String toString() {
        return value;
    }

    private static String problem(String value) {
        if (value == null) {
            throw new NullPointerException("blob key");
        }
        if (value.isEmpty()) {
            return "empty";
        }
        if (value.charAt(0) == '/') {
            return "starts with '/' (keys are relative)";
        }
        if (value.charAt(value.length() - 1) == '/') {
            return "ends with '/'";
        }
        int segmentStart = 0;
        for (int i = 0; i <= value.length(); i++) {
            char c = i < value.length() ? value.charAt(i) : '/';
            if (c == '/') {
                String segment = value.substring(segmentStart, i);
                if (segment.isEmpty()) {
                    return "empty segment ('//')";
                }
                if (segment.equals(".") || segment.equals("..")) {
                    return "'" + segment + "' segment";
                }
                if (segment.getBytes(StandardCharsets.UTF_8).length > MAX_SEGMENT_LENGTH) {
                    return "segment longer than " + MAX_SEGMENT_LENGTH + " bytes";
                }
                segmentStart = i + 1;
            } else if (c == '\\') {
                return "contains a backslash";
            } else if (c < 0x20 || c == 0x7f) {
                return "contains control character U+" + String.format("%04X", (int) c);
            } else if (Character.isSurrogate(c)
                    && !(Character.isHighSurrogate(c) && i + 1 < value.length()
                            && Character.isLowSurrogate(value.charAt(i + 1)))
                    && !(Character.isLowSurrogate(c) && i > 0 && Character.isHighSurrogate(value.charAt(i - 1)))) {
                return "contains an unpaired surrogate";
            }
        }
        if (value.getBytes(StandardCharsets.UTF_8).length > MAX_LENGTH) {
            return "longer than " + MAX_LENGTH + " bytes of UTF-8";
        }
        return null;
    }

    private static String printable(String value) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < value.length() && sb.length() < 200; i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        if (sb.length() >= 200) {
            sb.append("…");
        }
        return sb.toString();
    }
}
