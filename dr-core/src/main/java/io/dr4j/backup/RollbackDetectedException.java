package io.dr4j.backup;

import io.dr4j.Dr4jException;

/**
 * The store's newest snapshot of a checkpoint set is older than the newest this client has
 * seen there before (its local high-water mark): snapshots were deleted behind its back, by an
 * attacker with write access to the store, a restore of the bucket from an old backup, or
 * another client's {@code forget}. {@link Repository#latest} and everything built on it refuse
 * to serve the older snapshot silently. If the deletion was legitimate, call
 * {@link Repository#acceptRollback()} (CLI: {@code dr4j accept-rollback}); the guide's security
 * model says what this does and does not detect.
 */
public class RollbackDetectedException extends Dr4jException {

    /** @param message names the store, the checkpoint set, the snapshot last seen and the newest one now there */
    public RollbackDetectedException(String message) {
        super(message);
    }
}
