package io.dr4j.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.backup.RepositoryOptions;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The token bucket on a fake clock (no timed asserts), the decorator over it, and bad limits. */
class RateLimitedBlobStoreTest {

    private static final long SECOND = 1_000_000_000L;

    /** A clock that only moves when a caller sleeps on it. */
    private static final class FakeTime {
        final AtomicLong now = new AtomicLong(1_000 * SECOND);
        final AtomicLong slept = new AtomicLong();

        void sleep(long nanos) {
            slept.addAndGet(nanos);
            now.addAndGet(nanos);
        }
    }

    @Test
    void aBurstGoesAtOnceAndTheRestAtTheRate() throws Exception {
        FakeTime t = new FakeTime();
        ByteRateLimiter limiter = new ByteRateLimiter(1_000_000, 100_000, t.now::get, t::sleep);
        limiter.acquire(100_000); // the full bucket
        assertThat(t.slept.get()).isZero();
        limiter.acquire(500_000); // half a second at 1 MB/s
        assertThat(t.slept.get()).isEqualTo(SECOND / 2);
        for (int i = 0; i < 10; i++) {
            limiter.acquire(100_000);
        }
        assertThat(t.slept.get()).isEqualTo(SECOND / 2 + SECOND);
    }

    @Test
    void anIdleSpellRefillsOnlyUpToTheBurst() throws Exception {
        FakeTime t = new FakeTime();
        ByteRateLimiter limiter = new ByteRateLimiter(1_000_000, 100_000, t.now::get, t::sleep);
        limiter.acquire(100_000);
        t.now.addAndGet(3600 * SECOND); // an hour idle earns one bucket, not 3.6 GB
        limiter.acquire(300_000);
        assertThat(t.slept.get()).isEqualTo(SECOND / 5);
    }

    @Test
    void concurrentCallersShareOneBudget() throws Exception {
        AtomicLong now = new AtomicLong();
        AtomicLong latestWake = new AtomicLong();
        // frozen clock: each caller's wait is exactly what the bytes reserved before it cost
        ByteRateLimiter limiter = new ByteRateLimiter(1_000_000, 10_000, now::get,
                nanos -> latestWake.accumulateAndGet(nanos, Math::max));
        int threads = 8;
        int perThread = 500;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                done.add(pool.submit(() -> {
                    start.await();
                    for (int j = 0; j < perThread; j++) {
                        limiter.acquire(1_000);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        long total = (long) threads * perThread * 1_000;
        // the last caller waits for every byte beyond the bucket: none was granted twice or lost
        assertThat(latestWake.get()).isEqualTo((total - 10_000) * SECOND / 1_000_000);
    }

    @Test
    void putsAndReadsOfTheDecoratorDrawOnTheirOwnBucket() throws Exception {
        FakeTime t = new FakeTime();
        InMemoryBlobStore memory = InMemoryBlobStore.create("rl");
        RateLimitedBlobStore store = RateLimitedBlobStore.wrap(memory, OptionalLong.of(1 << 20), OptionalLong.of(2 << 20),
                t.now::get, t::sleep);
        byte[] data = new byte[(1 << 20) + 104857]; // the upload bucket: max(64 KiB, rate / 10) = 104857 bytes
        store.put(BlobKey.of("a"), data);
        long afterPut = t.slept.get();
        assertThat(afterPut).isBetween(SECOND - 100, SECOND + 100); // 1 MiB beyond the bucket at 1 MiB/s
        try (InputStream in = store.get(BlobKey.of("a"))) {
            assertThat(in.readAllBytes()).isEqualTo(data);
        }
        long afterGet = t.slept.get() - afterPut;
        // the download bucket was full: (size - 209715) bytes at 2 MiB/s
        assertThat(afterGet).isBetween((data.length - 209715L) * SECOND / (2 << 20) - 100,
                (data.length - 209715L) * SECOND / (2 << 20) + 100);
        long before = t.slept.get();
        store.read(BlobKey.of("a"), 0, ByteBuffer.allocate(1 << 20));
        assertThat(t.slept.get() - before).isBetween(SECOND / 2 - 100, SECOND / 2 + 100); // bucket empty now: 1 MiB at 2 MiB/s
        before = t.slept.get();
        store.list("").close();
        store.stat(BlobKey.of("a"));
        assertThat(t.slept.get()).isEqualTo(before); // metadata calls are not limited
    }

    @Test
    void zeroOrNegativeLimitsAreRefused() {
        InMemoryBlobStore memory = InMemoryBlobStore.create("rl");
        assertThatThrownBy(() -> RateLimitedBlobStore.wrap(memory, OptionalLong.of(0), OptionalLong.empty()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("upload limit must be a positive");
        assertThatThrownBy(() -> RateLimitedBlobStore.wrap(memory, OptionalLong.empty(), OptionalLong.of(-5)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("download limit must be a positive");
        assertThatThrownBy(() -> RepositoryOptions.builder().uploadLimit(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("uploadLimit must be a positive");
        assertThatThrownBy(() -> RepositoryOptions.builder().downloadLimit(-1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("downloadLimit must be a positive");
    }

    /** The decorator is a store like any other. */
    @Nested
    class Contract extends BlobStoreContract {
        @Override
        protected BlobStore newStore() {
            return RateLimitedBlobStore.wrap(InMemoryBlobStore.create("contract"), OptionalLong.of(1L << 40),
                    OptionalLong.of(1L << 40));
        }
    }
}
