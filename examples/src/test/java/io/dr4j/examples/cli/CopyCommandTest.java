package io.dr4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.backup.KeyProvider;
import io.dr4j.backup.Repository;
import io.dr4j.storage.InMemoryBlobStore;
import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code dr4j copy}'s own parts: which repository each rate limit paces, and the parallel open's failure paths. */
class CopyCommandTest {

    private static final KeyProvider KEY = KeyProvider.rawKey(new byte[32]);

    @Test
    void uploadsArePacedToTheDestinationAndDownloadsFromTheSource() {
        CopyCommand copy = new CopyCommand();
        new CommandLine(copy).parseArgs("--repo", "/tmp/src", "--to", "/tmp/dst", "--to-key-env", "K",
                "--limit-upload", "50MiB", "--limit-download", "20MiB");
        assertThat(copy.destinationOptions().uploadLimit()).as("the copy's writes go to the destination")
                .hasValue(50L << 20);
        assertThat(copy.destinationOptions().downloadLimit()).isEmpty();
        assertThat(copy.sourceOptions().downloadLimit()).as("the copy's reads come from the source").hasValue(20L << 20);
        assertThat(copy.sourceOptions().uploadLimit()).isEmpty();
    }

    @Test
    void bothRepositoriesOpenAtOnce() throws Exception {
        InMemoryBlobStore a = InMemoryBlobStore.create("a");
        InMemoryBlobStore b = InMemoryBlobStore.create("b");
        Repository.init(a, KEY).close();
        Repository.init(b, KEY).close();
        CountDownLatch bothStarted = new CountDownLatch(2);
        CopyCommand.OpenPair.Opener waitForTheOther = () -> {
            bothStarted.countDown();
            try {
                if (!bothStarted.await(10, TimeUnit.SECONDS)) {
                    throw new IOException("the other repository was not being opened at the same time");
                }
            } catch (InterruptedException e) {
                throw new java.io.InterruptedIOException();
            }
            return null;
        };
        AtomicReference<Repository> src = new AtomicReference<>();
        try (CopyCommand.OpenPair pair = CopyCommand.OpenPair.open(() -> {
            waitForTheOther.open();
            return Repository.open(a, KEY);
        }, () -> {
            waitForTheOther.open();
            return Repository.open(b, KEY);
        })) {
            src.set(pair.source);
            assertThat(pair.source.snapshots()).isEmpty();
            assertThat(pair.destination.snapshots()).isEmpty();
        }
        assertThatThrownBy(() -> src.get().snapshots()).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }

    @Test
    void aFailedSourceIsReportedAtOnceAndTheDestinationClosedWhenItOpens() throws Exception {
        InMemoryBlobStore b = InMemoryBlobStore.create("b");
        Repository.init(b, KEY).close();
        AtomicReference<Repository> opened = new AtomicReference<>();
        CountDownLatch slowStore = new CountDownLatch(1);
        assertThatThrownBy(() -> CopyCommand.OpenPair.open(() -> {
            throw new IOException("source refused");
        }, () -> {
            boolean released = false;
            while (!released) { // an open that ignores interrupts, as an SDK's retries may
                try {
                    released = slowStore.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException ignored) {
                    // keep opening
                }
            }
            Repository r = Repository.open(b, KEY);
            opened.set(r);
            return r;
        })).as("thrown while the destination is still opening").isInstanceOf(IOException.class)
                .hasMessage("source refused");
        assertThat(opened.get()).isNull();
        slowStore.countDown();
        io.dr4j.testing.Await.until("the destination opened late is closed", java.time.Duration.ofSeconds(10), () -> {
            Repository r = opened.get();
            if (r == null) {
                return false;
            }
            try {
                r.snapshots();
                return false;
            } catch (IllegalStateException closed) {
                return true;
            }
        });
    }

    @Test
    void aFailedDestinationClosesTheSource() throws Exception {
        InMemoryBlobStore a = InMemoryBlobStore.create("a");
        Repository.init(a, KEY).close();
        AtomicReference<Repository> opened = new AtomicReference<>();
        assertThatThrownBy(() -> CopyCommand.OpenPair.open(() -> {
            Repository r = Repository.open(a, KEY);
            opened.set(r);
            return r;
        }, () -> {
            throw new IOException("destination refused");
        })).isInstanceOf(IOException.class).hasMessage("destination refused");
        assertThatThrownBy(() -> opened.get().snapshots()).as("the source was closed")
                .isInstanceOf(IllegalStateException.class);
    }
}
