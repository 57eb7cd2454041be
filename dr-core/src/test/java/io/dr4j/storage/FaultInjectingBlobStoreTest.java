package io.dr4j.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.storage.FaultInjectingBlobStore.Corruption;
import io.dr4j.storage.FaultInjectingBlobStore.FailureKind;
import io.dr4j.storage.FaultInjectingBlobStore.Operation;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The fault injector passes the contract with no fault set, and each fault does what it says. */
class FaultInjectingBlobStoreTest extends BlobStoreContract {

    @Override
    protected BlobStore newStore() throws IOException {
        return new FaultInjectingBlobStore(LocalBlobStore.builder(tempDir.resolve("store")).sync(false).build());
    }

    private FaultInjectingBlobStore faulty() {
        return (FaultInjectingBlobStore) store;
    }

    @Test
    void failsTheNthCallOnly() throws IOException {
        faulty().failNthCall(2, FailureKind.TRANSIENT, Operation.PUT);
        store.put(key("1"), new byte[1]);
        assertThatThrownBy(() -> store.put(key("2"), new byte[1]))
                .isInstanceOf(TransientBlobStoreException.class).hasMessageContaining("injected");
        store.put(key("3"), new byte[1]);
        assertThat(listKeys("")).containsExactlyInAnyOrder("1", "3");
    }

    @Test
    void failsPermanentlyWhenAsked() {
        faulty().failNextCalls(1, FailureKind.PERMANENT, Operation.GET);
        assertThatThrownBy(() -> store.get(key("x"))).isInstanceOf(PermanentBlobStoreException.class)
                .satisfies(e -> assertThat(BlobStoreException.isTransient(e)).isFalse());
    }

    @Test
    void fractionOfCallsFailsReproducibly() throws IOException {
        faulty().failFraction(0.5, FailureKind.TRANSIENT, Operation.STAT);
        store.put(key("k"), new byte[1]);
        int failures = 0;
        for (int i = 0; i < 200; i++) {
            try {
                store.stat(key("k"));
            } catch (TransientBlobStoreException e) {
                failures++;
            }
        }
        assertThat(failures).isBetween(60, 140);
    }

    @Test
    void downStoreFailsEverythingUntilCleared() throws IOException {
        faulty().down();
        assertThatThrownBy(() -> store.put(key("k"), new byte[1])).isInstanceOf(TransientBlobStoreException.class);
        assertThatThrownBy(() -> store.list("")).isInstanceOf(TransientBlobStoreException.class);
        faulty().clearFaults();
        store.put(key("k"), new byte[1]);
        assertThat(store.getBytes(key("k"))).hasSize(1);
    }

    @Test
    void latencyDelaysCalls() throws IOException {
        faulty().latency(Duration.ofMillis(150), Operation.STAT);
        store.put(key("k"), new byte[1]);
        long start = System.nanoTime();
        store.stat(key("k"));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(140));
    }

    @Test
    void hangingCallReturnsOnInterrupt() throws Exception {
        faulty().hang(Operation.GET);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<byte[]> pending = pool.submit(() -> store.getBytes(key("k")));
            assertThatThrownBy(() -> pending.get(200, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
            pending.cancel(true);
            pool.shutdown();
            assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void hangingCallProceedsWhenCleared() throws Exception {
        store.put(key("k"), new byte[] {3});
        faulty().hang(Operation.GET);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<byte[]> pending = pool.submit(() -> store.getBytes(key("k")));
            assertThat(faulty().awaitDelayedCalls(Operation.GET, 1, Duration.ofSeconds(10))).isTrue();
            assertThat(pending.isDone()).isFalse();
            faulty().clearFaults();
            assertThat(pending.get(10, TimeUnit.SECONDS)).containsExactly(3);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void bitFlipChangesExactlyOneBit() throws IOException {
        byte[] data = randomBytes(1, 4096);
        store.put(key("chunk"), data);
        faulty().corruptReads(Corruption.FLIP_BIT, k -> k.value().equals("chunk"));
        byte[] read = store.getBytes(key("chunk"));
        int differingBits = 0;
        for (int i = 0; i < data.length; i++) {
            differingBits += Integer.bitCount((data[i] ^ read[i]) & 0xff);
        }
        assertThat(differingBits).isEqualTo(1);
        try (InputStream in = store.get(key("chunk"))) {
            assertThat(in.readAllBytes()).isNotEqualTo(data);
        }
    }

    @Test
    void truncationCutsTheObject() throws IOException {
        store.put(key("chunk"), randomBytes(2, 1000));
        faulty().corruptReads(Corruption.TRUNCATE, k -> true);
        assertThat(store.getBytes(key("chunk"))).hasSize(500);
    }

    @Test
    void countsCalls() throws IOException {
        store.put(key("a"), new byte[1]);
        store.find(key("a"));
        assertThat(faulty().calls(Operation.PUT)).isEqualTo(1);
        assertThat(faulty().calls(Operation.STAT)).isEqualTo(1);
    }

    /** The call in an injected delay ends at once when its thread is interrupted, with an InterruptedIOException. */
    @Test
    void interruptedLatencyRaisesInterruptedIo() throws Exception {
        faulty().latency(Duration.ofSeconds(30), Operation.DELETE);
        AtomicReference<Throwable> outcome = new AtomicReference<>();
        Thread caller = new Thread(() -> {
            try {
                store.delete(key("k"));
                outcome.set(new AssertionError("delete returned normally"));
            } catch (Throwable t) {
                outcome.set(t);
            }
        }, "interrupted-caller");
        caller.start();
        assertThat(faulty().awaitDelayedCalls(Operation.DELETE, 1, Duration.ofSeconds(10))).isTrue();
        long start = System.nanoTime();
        caller.interrupt();
        caller.join(TimeUnit.SECONDS.toMillis(10));
        assertThat(caller.isAlive()).as("the call still runs after its interrupt").isFalse();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        assertThat(outcome.get()).isInstanceOf(InterruptedIOException.class).hasMessageContaining("interrupted");
    }
}
