package io.dr4j.failover;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/** A clock that moves only when a test advances it, with nanosecond resolution. Thread-safe. */
final class FakeClock extends Clock {

    private final AtomicLong nanos = new AtomicLong(1_700_000_000_000_000_000L);

    @Override
    public Instant instant() {
        long n = nanos.get();
        return Instant.ofEpochSecond(Math.floorDiv(n, 1_000_000_000L), Math.floorMod(n, 1_000_000_000L));
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }

    void advance(Duration d) {
        nanos.addAndGet(d.toNanos());
    }
}
