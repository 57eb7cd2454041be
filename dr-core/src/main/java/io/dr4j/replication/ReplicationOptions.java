package io.dr4j.replication;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;

/**
 * The resolved, immutable settings of one {@link ReplicatedBlobStore}, as its builder validated
 * them (the members and the repair log are passed beside it). {@code hedgeDelay} and
 * {@code repairInterval} are null when off; {@code writeQuorum} is 0 for "a majority".
 */
record ReplicationOptions(
        int writeQuorum,
        Duration writeTimeout,
        long backgroundMaxBytes,
        int backgroundMaxWrites,
        Duration backgroundTimeout,
        Duration hedgeDelay,
        ReadVerification verification,
        long streamBufferInMemory,
        Path tempDirectory,
        long repairBytesPerSecond,
        Duration repairInterval,
        int maxThreads,
        Clock clock) {
}
