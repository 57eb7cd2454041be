package io.dr4j.backup;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A snapshot's id: 32 lowercase hex digits (128 random bits). {@link #shortId()} gives the first
 * 8 digits for display; {@link Repository#resolve} accepts any unique prefix. Immutable.
 *
 * @param value the 32 hex digits
 */
public record SnapshotId(String value) implements Comparable<SnapshotId> {

    private static final Pattern FORM = Pattern.compile("[0-9a-f]{32}");

    public SnapshotId {
        Objects.requireNonNull(value, "value");
        if (!FORM.matcher(value).matches()) {
            throw new IllegalArgumentException("Invalid snapshot id '" + value + "': expected 32 lowercase hex digits");
        }
    }

    /** Parses a full id. */
    public static SnapshotId of(String value) {
        return new SnapshotId(value);
    }

    /** The first 8 hex digits. */
    public String shortId() {
        return value.substring(0, 8);
    }

    @Override
    public int compareTo(SnapshotId other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return value;
    }
}
