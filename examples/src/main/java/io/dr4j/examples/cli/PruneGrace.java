package io.dr4j.examples.cli;

import io.dr4j.backup.RepositoryOptions;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * {@code --grace} of {@code prune} and {@code forget --prune}: {@link RepositoryOptions#pruneGracePeriod()}.
 * Unset, the library's default (24 hours) applies.
 */
final class PruneGrace {

    @Option(names = "--grace", paramLabel = "DURATION", converter = Durations.class,
            description = "Leave packs written less than DURATION ago alone (default 24h). 0s frees everything unreferenced "
                    + "now: safe only when no backup can be running, as one whose lock looks stale (a paused host) may "
                    + "still be storing packs it has not yet indexed.")
    Duration period;

    boolean given() {
        return period != null;
    }

    void applyTo(RepositoryOptions.Builder options) {
        if (period == null) {
            return;
        }
        if (period.isNegative()) {
            throw new IllegalArgumentException("--grace must not be negative, was " + period);
        }
        options.pruneGracePeriod(period);
    }
}
