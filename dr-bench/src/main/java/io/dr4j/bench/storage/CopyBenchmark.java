package io.dr4j.bench.storage;

import io.dr4j.bench.BenchDefaults;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.LocalBlobStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Copy of one checkpoint shard (default 256 MiB of random bytes) into local storage, three ways:
 * {@link Files#copy}, {@link FileChannel#transferTo}, and {@link LocalBlobStore#put(BlobKey, Path)}
 * (temporary file + transfer + fsync + atomic rename + directory fsync). For a fair comparison
 * with the store's durability, {@code sync=true} also forces the two baselines' output to disk
 * before the copy counts as done; {@code sync=false} measures all three without fsync.
 *
 * <p>Each invocation copies the whole file once; divide the file size by the reported time to
 * get bytes/s (the side-by-side runner prints it). Run:
 * <pre>
 * mvn -B -q -pl dr-bench -am package -DskipTests
 * java -jar dr-bench/target/benchmarks.jar CopyBenchmark -rf json -rff copy.json
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(BenchDefaults.FORKS)
@Warmup(iterations = 2, batchSize = 1)
@Measurement(iterations = 8, batchSize = 1)
public class CopyBenchmark {

    @Param("268435456")
    public long fileSize;

    @Param({"true", "false"})
    public boolean sync;

    private Path dir;
    private Path source;
    private Path target;
    private LocalBlobStore store;
    private BlobKey key;

    @Setup(Level.Trial)
    public void createSource() throws IOException {
        dir = Files.createTempDirectory(Path.of(System.getProperty("bench.dir", System.getProperty("java.io.tmpdir"))), "dr4j-copy");
        source = dir.resolve("shard.bin");
        ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
        SplittableRandom random = new SplittableRandom(1);
        try (FileChannel out = FileChannel.open(source, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long written = 0; written < fileSize; ) {
                buffer.clear();
                while (buffer.remaining() >= 8) {
                    buffer.putLong(random.nextLong());
                }
                buffer.flip().limit((int) Math.min(buffer.limit(), fileSize - written));
                written += out.write(buffer);
            }
        }
        target = dir.resolve("copy.bin");
        store = LocalBlobStore.builder(dir.resolve("store")).sync(sync).build();
        key = BlobKey.of("chunks/shard.bin");
    }

    @TearDown(Level.Iteration)
    public void removeCopies() throws IOException {
        Files.deleteIfExists(target);
        store.delete(key);
    }

    @TearDown(Level.Trial)
    public void removeAll() throws IOException {
        store.close();
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Benchmark
    public void filesCopy() throws IOException {
        Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
        if (sync) {
            try (FileChannel out = FileChannel.open(target, StandardOpenOption.WRITE)) {
                out.force(false);
            }
        }
    }

    @Benchmark
    public void channelTransferTo() throws IOException {
        try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ);
             FileChannel out = FileChannel.open(target, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     StandardOpenOption.TRUNCATE_EXISTING)) {
            long size = in.size();
            for (long done = 0; done < size; ) {
                done += in.transferTo(done, size - done, out);
            }
            if (sync) {
                out.force(false);
            }
        }
    }

    @Benchmark
    public void localBlobStorePut() throws IOException {
        store.put(key, source);
    }
}
