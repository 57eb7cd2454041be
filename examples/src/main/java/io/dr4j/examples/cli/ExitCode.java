package io.dr4j.examples.cli;

/**
 * The exit codes of {@code dr4j}, stable for scripts. Documented in {@code docs/guide.md}.
 */
public final class ExitCode {

    /** Success; for {@code verify} and {@code drill}, the check passed. */
    public static final int OK = 0;
    /** The operation failed: a store error, an I/O error, an unexpected error. */
    public static final int FAILURE = 1;
    /** Bad command line: unknown option, missing argument, malformed URI or duration, no key given. */
    public static final int USAGE = 2;
    /** A check failed: {@code verify} found problems, a {@code drill} failed its objectives, {@code repair} left writes owed, a restore met a corrupt chunk. */
    public static final int CHECK_FAILED = 3;
    /** The key or password does not open the repository. */
    public static final int WRONG_KEY = 4;
    /** No repository at that URI, no such snapshot, or no such path in the snapshot ({@code ls}, {@code dump}). */
    public static final int NOT_FOUND = 5;
    /** The repository is locked by another process (a prune, or a backup when pruning). */
    public static final int LOCKED = 6;
    /** The restore target was refused before anything was written: not empty, not writable, too small, unsafe path. */
    public static final int TARGET_REFUSED = 7;
    /**
     * Rollback detected: the store's newest snapshot is older than one this client saw there before (snapshots were
     * deleted behind its back); {@code dr4j accept-rollback} accepts a legitimate deletion.
     */
    public static final int ROLLBACK = 8;
    /** Interrupted (Ctrl-C) or cancelled. */
    public static final int CANCELLED = 130;

    private ExitCode() {
    }
}
