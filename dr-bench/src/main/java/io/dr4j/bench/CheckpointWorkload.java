package io.dr4j.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The DESIGN §7 checkpoint workload: {@code shards} files of {@code shardSize} random
 * (incompressible, like bf16 weights) bytes plus a small {@code config.json}; and its
 * "version 2", where 10% of each shard is rewritten in 4 MiB runs at unaligned offsets, as a
 * partial fine-tune would.
 *
 * <p>Deterministic for a seed, so every tool in a side-by-side run sees the same bytes.
 * Not thread-safe; generate once, then read from many threads.
 */
public final class CheckpointWorkload {

    /** Default shard count (§7). */
    public static final int DEFAULT_SHARDS = 8;
    /** Default shard size (§7): 256 MiB. */
    public static final long DEFAULT_SHARD_SIZE = 256L << 20;
    /** Size of one rewritten run in version 2. */
    public static final int REWRITE_RUN = 4 << 20;

    private final int shards;
    private final long shardSize;
    private final long seed;

    /**
     * @param shards number of shard files, at least 1
     * @param shardSize bytes per shard, at least {@link #REWRITE_RUN} * 2
     * @param seed seed of the content
     */
    public CheckpointWorkload(int shards, long shardSize, long seed) {
        if (shards < 1) {
            throw new IllegalArgumentException("shards must be at least 1, was " + shards);
        }
        if (shardSize < 2L * REWRITE_RUN) {
            throw new IllegalArgumentException("shardSize must be at least " + (2L * REWRITE_RUN) + " bytes, was " + shardSize);
        }
        this.shards = shards;
        this.shardSize = shardSize;
        this.seed = seed;
    }

    /** The §7 workload: 8 × 256 MiB. */
    public static CheckpointWorkload standard() {
        return new CheckpointWorkload(DEFAULT_SHARDS, DEFAULT_SHARD_SIZE, 20261126L);
    }

    /** Total bytes of the shards (the config file is negligible). */
    public long totalBytes() {
        return shards * shardSize;
    }

    /** Writes version 1 into {@code dir} (created if missing) and returns the shard paths. */
    public List<Path> writeVersion1(Path dir) throws IOException {
        Files.createDirectories(dir);
        List<Path> paths = new ArrayList<>();
        ByteBuffer buffer = ByteBuffer.allocateDirect(REWRITE_RUN);
        for (int s = 0; s < shards; s++) {
            Path shard = dir.resolve(String.format("model-%05d-of-%05d.safetensors", s + 1, shards));
            SplittableRandom random = new SplittableRandom(seed * 1_000_003L + s);
            try (FileChannel out = FileChannel.open(shard, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                long written = 0;
                while (written < shardSize) {
                    int n = (int) Math.min(buffer.capacity(), shardSize - written);
                    fill(buffer, n, random);
                    while (buffer.hasRemaining()) {
                        written += out.write(buffer);
                    }
                }
            }
            paths.add(shard);
        }
        Files.writeString(dir.resolve("config.json"),
                "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":4096,\"num_hidden_layers\":32,"
                        + "\"torch_dtype\":\"bfloat16\",\"step\":1000}\n", StandardCharsets.UTF_8);
        return paths;
    }

    /**
     * Turns version 1 in {@code dir} into version 2 in place: in each shard, 10% of the bytes are
     * rewritten in {@link #REWRITE_RUN}-byte runs at unaligned offsets; the config's step changes.
     *
     * @return the number of bytes rewritten (the "bytes actually changed")
     */
    public long mutateToVersion2(Path dir) throws IOException {
        long changed = 0;
        ByteBuffer buffer = ByteBuffer.allocateDirect(REWRITE_RUN);
        int runs = (int) Math.max(1, (shardSize / 10) / REWRITE_RUN);
        long stride = shardSize / runs;
        for (int s = 0; s < shards; s++) {
            Path shard = dir.resolve(String.format("model-%05d-of-%05d.safetensors", s + 1, shards));
            SplittableRandom random = new SplittableRandom(~seed * 7_919L + s);
            try (FileChannel out = FileChannel.open(shard, StandardOpenOption.WRITE)) {
                for (int r = 0; r < runs; r++) {
                    // an odd offset inside each stride, never aligned to a power of two
                    long offset = r * stride + 1 + 2 * random.nextLong(Math.max(1, (stride - REWRITE_RUN) / 2 - 1));
                    offset = Math.min(offset, shardSize - REWRITE_RUN);
                    fill(buffer, REWRITE_RUN, random);
                    long pos = offset;
                    while (buffer.hasRemaining()) {
                        pos += out.write(buffer, pos);
                    }
                    changed += REWRITE_RUN;
                }
            }
        }
        Files.writeString(dir.resolve("config.json"),
                "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":4096,\"num_hidden_layers\":32,"
                        + "\"torch_dtype\":\"bfloat16\",\"step\":2000}\n", StandardCharsets.UTF_8);
        return changed;
    }

    private static void fill(ByteBuffer buffer, int n, SplittableRandom random) {
        buffer.clear();
        int longs = n / 8;
        for (int i = 0; i < longs; i++) {
            buffer.putLong(random.nextLong());
        }
        while (buffer.position() < n) {
            buffer.put((byte) random.nextInt());
        }
        buffer.flip();
    }
}
