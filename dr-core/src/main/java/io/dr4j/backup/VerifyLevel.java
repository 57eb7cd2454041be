package io.dr4j.backup;

/** How thoroughly {@link Repository#verify} checks a snapshot. */
public enum VerifyLevel {
    /** The manifest authenticates and decodes, and every chunk it references exists with a plausible size. */
    METADATA,
    /** As {@link #METADATA}, and every referenced chunk is read, authenticated and checked against its id. */
    DATA
}
