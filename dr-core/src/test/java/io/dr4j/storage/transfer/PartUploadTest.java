package io.dr4j.storage.transfer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The part pipeline both cloud stores upload through: order, bounds, and what a failure leaves running. */
class PartUploadTest {

    private final ExecutorService workers = Executors.newFixedThreadPool(4, new NamedThreadFactory("part-upload-test"));

    @AfterEach
    void stop() {
        workers.shutdownNow();
    }

    @Test
    void partsComeBackInOrderAndCoverTheObject() throws IOException {
        byte[] data = new byte[10_000];
        new java.util.Random(1).nextBytes(data);
        CRC32C crc = new CRC32C();
        byte[] seen = new byte[data.length];
        List<Integer> results = PartUpload.run(data.length, 3_000, 3, workers,
                PartUpload.fromStream(new ByteArrayInputStream(data), crc, "test"), (index, part) -> {
                    System.arraycopy(part.array(), part.offset(), seen, index * 3_000, part.length());
                    return index;
                }, e -> new IOException(e));
        assertThat(results).containsExactly(0, 1, 2, 3);
        assertThat(seen).isEqualTo(data);
        CRC32C expected = new CRC32C();
        expected.update(data);
        assertThat(crc.getValue()).isEqualTo(expected.getValue());
    }

    @Test
    void neverMoreThanConcurrencyPartsInFlight() throws IOException {
        AtomicInteger running = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        PartUpload.run(40_000, 1_000, 2, workers, PartUpload.fromArray(new byte[40_000], 0, null), (index, part) -> {
            most.accumulateAndGet(running.incrementAndGet(), Math::max);
            Thread.sleep(1); // widen the window in which an unbounded pipeline would overlap more parts
            running.decrementAndGet();
            return index;
        }, e -> new IOException(e));
        assertThat(most.get()).isBetween(1, 2);
    }

    /**
     * When a part fails, the upload notices at once (not after the slower parts sent before it)
     * and throws only once every part still in flight has stopped, so that the backend's abort
     * (S3) cannot race a part that lands after it.
     */
    @Test
    void aFailedPartStopsThePartsInFlightBeforeTheFailureIsThrown() throws Exception {
        CountDownLatch slowStarted = new CountDownLatch(1);
        AtomicBoolean slowStillRunning = new AtomicBoolean();
        long start = System.nanoTime();
        assertThatThrownBy(() -> PartUpload.run(10_000, 1_000, 3, workers, PartUpload.fromArray(new byte[10_000], 0, null),
                (index, part) -> {
                    if (index == 0) {
                        slowStillRunning.set(true);
                        slowStarted.countDown();
                        try {
                            Thread.sleep(TimeUnit.SECONDS.toMillis(30)); // until the upload cancels it
                        } catch (InterruptedException cancelled) {
                            // an SDK call takes a while to stop after its interrupt
                            long stopAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
                            while (System.nanoTime() < stopAt) {
                                Thread.onSpinWait();
                            }
                            throw cancelled;
                        } finally {
                            slowStillRunning.set(false);
                        }
                        return index;
                    }
                    if (index == 1) {
                        slowStarted.await();
                        throw new IOException("part 1 refused");
                    }
                    return index;
                }, e -> e instanceof IOException io ? io : new IOException(e)))
                .isInstanceOf(IOException.class).hasMessageContaining("part 1 refused");
        assertThat(slowStillRunning.get()).as("a part was still being sent when the failure was thrown").isFalse();
        assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start)).as("seconds until the failure was seen")
                .isLessThan(20);
    }
}
