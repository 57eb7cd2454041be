package io.dr4j.azure;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Version-level immutability applied to each blob written under a prefix (see
 * {@link AzureBlobStoreBuilder#immutable(String, Immutability)}): a time-based retention policy
 * (the blob cannot be overwritten or deleted until {@code now + retention}), a legal hold (until
 * the hold is cleared), or both. It protects backups against deletion by a compromised client.
 *
 * <p>Azure applies it only in containers (or accounts) with version-level immutability support
 * enabled; elsewhere the put fails with a {@link io.dr4j.storage.PermanentBlobStoreException}
 * saying so, and no blob is written. A <b>locked</b> policy can never be shortened or removed, not
 * even by the account owner: choose it deliberately.
 *
 * <p>Immutable value; thread-safe.
 *
 * @param retention how long each new blob is kept immutable, if a time-based policy is wanted
 * @param locked whether the time-based policy is locked (irreversible) rather than unlocked
 * @param legalHold whether each new blob gets a legal hold
 */
public record Immutability(Optional<Duration> retention, boolean locked, boolean legalHold) {

    public Immutability {
        Objects.requireNonNull(retention, "retention");
        retention.ifPresent(r -> {
            if (r.isNegative() || r.isZero()) {
                throw new IllegalArgumentException("immutability retention must be positive, was " + r);
            }
        });
        if (locked && retention.isEmpty()) {
            throw new IllegalArgumentException("a locked immutability policy needs a retention period");
        }
        if (retention.isEmpty() && !legalHold) {
            throw new IllegalArgumentException("immutability needs a retention period, a legal hold, or both");
        }
    }

    /** An unlocked time-based retention of {@code retention} from each blob's write. */
    public static Immutability retainFor(Duration retention) {
        return new Immutability(Optional.of(retention), false, false);
    }

    /** A locked (irreversible) time-based retention of {@code retention} from each blob's write. */
    public static Immutability retainLockedFor(Duration retention) {
        return new Immutability(Optional.of(retention), true, false);
    }

    /** A legal hold on each blob, without time-based retention. */
    public static Immutability legalHoldOnly() {
        return new Immutability(Optional.empty(), false, true);
    }

    /** This policy with a legal hold added. */
    public Immutability withLegalHold() {
        return new Immutability(retention, locked, true);
    }
}
