package io.dr4j.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The DESIGN §7 weights checkpoint: what the tensor codec is measured on. Random bytes say nothing
 * about the compression of weights, and real weights are not random; this writes safetensors shards
 * with real headers holding a Llama-style decoder, its values drawn from the distributions
 * trained weights roughly follow.
 *
 * <p>The model: vocabulary {@value #VOCAB}, hidden size {@code h} = the largest power of two up to
 * 2048 for which the embedding fits in half a shard (2048, TinyLlama-1.1B's, for 256 MiB shards),
 * MLP width {@code i = 11h/4} (5632 for h = 2048), as many layers as fill
 * {@code shards × shardSize} bytes, tensors laid into shards in order, a shard closed before the
 * tensor that would overflow it. Per tensor, elements are independent draws of:
 * <table>
 * <caption>distributions</caption>
 * <tr><th>tensor</th><th>dtype, shape</th><th>distribution</th></tr>
 * <tr><td>model.embed_tokens.weight, lm_head.weight</td><td>BF16 [V, h]</td><td>N(0, 0.02)</td></tr>
 * <tr><td>self_attn.{q,k,v,o}_proj.weight</td><td>BF16 [h, h]</td><td>N(0, σ), σ ~ U[0.02, 0.05] per tensor</td></tr>
 * <tr><td>mlp.{gate,up}_proj.weight</td><td>BF16 [i, h]</td><td>N(0, σ), σ ~ U[0.015, 0.03] per tensor</td></tr>
 * <tr><td>mlp.down_proj.weight</td><td>BF16 [h, i]</td><td>N(0, σ), σ ~ U[0.01, 0.02] per tensor</td></tr>
 * <tr><td>{input,post_attention}_layernorm.weight, model.norm.weight</td><td>F32 [h]</td><td>N(μ, 0.05), μ ~ U[0.9, 1.1] per tensor</td></tr>
 * </table>
 * BF16 values are the float draws rounded to nearest even, as {@code torch.Tensor.bfloat16()}
 * does. Norms are kept in F32, as mixed-precision exports do.
 *
 * <p>Version 2 is a partial fine-tune (a LoRA merged into the attention of the upper half):
 * {@code q_proj} and {@code v_proj} of layers {@code L/2 .. L-1} are redrawn, same shapes and
 * distributions, new values; the header and every other byte stay as they were.
 *
 * <p>Deterministic for a seed: every tensor's values depend only on the seed, the tensor's name
 * and the version. Not thread-safe; generate once, then read from many threads.
 */
public final class WeightsWorkload {

    /** Default shard count (§7). */
    public static final int DEFAULT_SHARDS = 8;
    /** Default shard size (§7): 256 MiB. */
    public static final long DEFAULT_SHARD_SIZE = 256L << 20;
    /** Vocabulary size: Llama 2's. */
    public static final int VOCAB = 32_000;

    private static final int BUFFER = 4 << 20;

    private final int shards;
    private final long shardSize;
    private final long seed;
    private final int hidden;
    private final int intermediate;
    private final List<List<Spec>> layout;

    /** One tensor to write: name, dtype, shape, distribution and the byte range in its shard's data section. */
    private record Spec(String name, String dtype, long[] shape, double mean, double sigma, boolean fineTuned) {
        long bytes() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n * ("F32".equals(dtype) ? 4 : 2);
        }
    }

    /**
     * @param shards number of shard files, at least 1
     * @param shardSize target bytes per shard, at least 1 MiB
     * @param seed seed of the content
     */
    public WeightsWorkload(int shards, long shardSize, long seed) {
        if (shards < 1) {
            throw new IllegalArgumentException("shards must be at least 1, was " + shards);
        }
        if (shardSize < (1 << 20)) {
            throw new IllegalArgumentException("shardSize must be at least 1 MiB, was " + shardSize);
        }
        this.shards = shards;
        this.shardSize = shardSize;
        this.seed = seed;
        int h = 2048;
        while (h > 64 && 2L * VOCAB * h > shardSize / 2) {
            h /= 2;
        }
        this.hidden = h;
        this.intermediate = h * 11 / 4;
        this.layout = plan();
    }

    /** The §7 workload: 8 × 256 MiB. */
    public static WeightsWorkload standard() {
        return new WeightsWorkload(DEFAULT_SHARDS, DEFAULT_SHARD_SIZE, 20261201L);
    }

    /** Hidden size of the generated model. */
    public int hidden() {
        return hidden;
    }

    /** Number of decoder layers. */
    public int layers() {
        int n = 0;
        for (List<Spec> shard : layout) {
            for (Spec s : shard) {
                n += s.name().endsWith(".self_attn.q_proj.weight") ? 1 : 0;
            }
        }
        return n;
    }

    /** Total tensor bytes over all shards (headers excluded). */
    public long totalBytes() {
        return layout.stream().flatMap(List::stream).mapToLong(Spec::bytes).sum();
    }

    /** Bytes version 2 rewrites. */
    public long fineTunedBytes() {
        return layout.stream().flatMap(List::stream).filter(Spec::fineTuned).mapToLong(Spec::bytes).sum();
    }

    /** Writes version 1 into {@code dir} (created if missing) and returns the shard paths. */
    public List<Path> writeVersion1(Path dir) throws IOException {
        Files.createDirectories(dir);
        List<Path> paths = new ArrayList<>();
        ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER).order(ByteOrder.LITTLE_ENDIAN);
        for (int s = 0; s < layout.size(); s++) {
            Path shard = dir.resolve(shardName(s));
            byte[] header = header(layout.get(s));
            try (FileChannel out = FileChannel.open(shard, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                writeFully(out, ByteBuffer.wrap(header), 0);
                long pos = header.length;
                for (Spec t : layout.get(s)) {
                    writeTensor(out, pos, t, 1, buffer);
                    pos += t.bytes();
                }
            }
            paths.add(shard);
        }
        Files.writeString(dir.resolve("config.json"), config(1), StandardCharsets.UTF_8);
        return paths;
    }

    /**
     * Turns version 1 in {@code dir} into version 2 in place: the fine-tuned tensors are rewritten
     * whole; the config's step changes.
     *
     * @return the number of tensor bytes rewritten
     */
    public long mutateToVersion2(Path dir) throws IOException {
        long changed = 0;
        ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER).order(ByteOrder.LITTLE_ENDIAN);
        for (int s = 0; s < layout.size(); s++) {
            long pos = header(layout.get(s)).length;
            try (FileChannel out = FileChannel.open(dir.resolve(shardName(s)), StandardOpenOption.WRITE)) {
                for (Spec t : layout.get(s)) {
                    if (t.fineTuned()) {
                        writeTensor(out, pos, t, 2, buffer);
                        changed += t.bytes();
                    }
                    pos += t.bytes();
                }
            }
        }
        Files.writeString(dir.resolve("config.json"), config(2), StandardCharsets.UTF_8);
        return changed;
    }

    /**
     * Fills {@code dst[off, off+len)} with little-endian values of N(mean, sigma) in {@code dtype}
     * ("BF16", "F16" or "F32"); a trailing partial element is left as it was. For benchmarks that
     * need one dtype alone.
     */
    public static void normalValues(byte[] dst, int off, int len, String dtype, double mean, double sigma,
            SplittableRandom random) {
        ByteBuffer b = ByteBuffer.wrap(dst, off, len).order(ByteOrder.LITTLE_ENDIAN);
        fill(b, dtype, mean, sigma, random);
    }

    private List<List<Spec>> plan() {
        long budget = shards * shardSize;
        SplittableRandom sigmas = new SplittableRandom(seed ^ 0x5eed5eedL);
        List<Spec> all = new ArrayList<>();
        long h = hidden;
        long i = intermediate;
        all.add(new Spec("model.embed_tokens.weight", "BF16", new long[] {VOCAB, h}, 0, 0.02, false));
        Spec norm = new Spec("model.norm.weight", "F32", new long[] {h}, 1.0, 0.05, false);
        Spec head = new Spec("lm_head.weight", "BF16", new long[] {VOCAB, h}, 0, 0.02, false);
        long used = all.get(0).bytes() + norm.bytes() + head.bytes();
        List<List<Spec>> layers = new ArrayList<>();
        while (true) {
            int l = layers.size();
            String p = "model.layers." + l + ".";
            List<Spec> layer = List.of(
                    new Spec(p + "input_layernorm.weight", "F32", new long[] {h}, uniform(sigmas, 0.9, 1.1), 0.05, false),
                    new Spec(p + "self_attn.q_proj.weight", "BF16", new long[] {h, h}, 0, uniform(sigmas, 0.02, 0.05), false),
                    new Spec(p + "self_attn.k_proj.weight", "BF16", new long[] {h, h}, 0, uniform(sigmas, 0.02, 0.05), false),
                    new Spec(p + "self_attn.v_proj.weight", "BF16", new long[] {h, h}, 0, uniform(sigmas, 0.02, 0.05), false),
                    new Spec(p + "self_attn.o_proj.weight", "BF16", new long[] {h, h}, 0, uniform(sigmas, 0.02, 0.05), false),
                    new Spec(p + "post_attention_layernorm.weight", "F32", new long[] {h}, uniform(sigmas, 0.9, 1.1), 0.05, false),
                    new Spec(p + "mlp.gate_proj.weight", "BF16", new long[] {i, h}, 0, uniform(sigmas, 0.015, 0.03), false),
                    new Spec(p + "mlp.up_proj.weight", "BF16", new long[] {i, h}, 0, uniform(sigmas, 0.015, 0.03), false),
                    new Spec(p + "mlp.down_proj.weight", "BF16", new long[] {h, i}, 0, uniform(sigmas, 0.01, 0.02), false));
            long bytes = layer.stream().mapToLong(Spec::bytes).sum();
            if (used + bytes > budget && !layers.isEmpty()) {
                break;
            }
            layers.add(layer);
            used += bytes;
        }
        int tuneFrom = layers.size() / 2;
        for (int l = 0; l < layers.size(); l++) {
            for (Spec s : layers.get(l)) {
                boolean tuned = l >= tuneFrom && (s.name().endsWith("q_proj.weight") || s.name().endsWith("v_proj.weight"));
                all.add(tuned ? new Spec(s.name(), s.dtype(), s.shape(), s.mean(), s.sigma(), true) : s);
            }
        }
        all.add(norm);
        all.add(head);

        List<List<Spec>> out = new ArrayList<>();
        List<Spec> current = new ArrayList<>();
        long size = 0;
        for (Spec s : all) {
            if (!current.isEmpty() && size + s.bytes() > shardSize && out.size() < shards - 1) {
                out.add(Collections.unmodifiableList(current));
                current = new ArrayList<>();
                size = 0;
            }
            current.add(s);
            size += s.bytes();
        }
        out.add(Collections.unmodifiableList(current));
        return Collections.unmodifiableList(out);
    }

    /** The 8-byte length and the JSON, padded with spaces to a multiple of 8 as the reference writer does. */
    private static byte[] header(List<Spec> tensors) {
        StringBuilder json = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        for (Spec t : tensors) {
            json.append(",\"").append(t.name()).append("\":{\"dtype\":\"").append(t.dtype()).append("\",\"shape\":[");
            for (int d = 0; d < t.shape().length; d++) {
                json.append(d == 0 ? "" : ",").append(t.shape()[d]);
            }
            json.append("],\"data_offsets\":[").append(offset).append(',').append(offset + t.bytes()).append("]}");
            offset += t.bytes();
        }
        json.append('}');
        while ((json.length() + 8) % 8 != 0) {
            json.append(' ');
        }
        byte[] text = json.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + text.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(text.length).put(text);
        return b.array();
    }

    private void writeTensor(FileChannel out, long at, Spec t, int version, ByteBuffer buffer) throws IOException {
        SplittableRandom random = new SplittableRandom(seed * 31 + t.name().hashCode() * 1_000_003L + version);
        long remaining = t.bytes();
        long pos = at;
        while (remaining > 0) {
            int n = (int) Math.min(buffer.capacity(), remaining);
            buffer.clear().limit(n);
            fill(buffer, t.dtype(), t.mean(), t.sigma(), random);
            buffer.flip();
            pos += writeFully(out, buffer, pos);
            remaining -= n;
        }
    }

    private static void fill(ByteBuffer b, String dtype, double mean, double sigma, SplittableRandom random) {
        switch (dtype) {
            case "F32":
                while (b.remaining() >= 4) {
                    b.putFloat((float) (mean + sigma * random.nextGaussian()));
                }
                break;
            case "BF16":
                while (b.remaining() >= 2) {
                    int bits = Float.floatToRawIntBits((float) (mean + sigma * random.nextGaussian()));
                    b.putShort((short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16));
                }
                break;
            case "F16":
                while (b.remaining() >= 2) {
                    b.putShort(toF16((float) (mean + sigma * random.nextGaussian())));
                }
                break;
            default:
                throw new IllegalArgumentException("no generator for dtype " + dtype);
        }
        b.position(b.limit());
    }

    /** Float to F16, mantissa truncated (Java 17 has no Float.floatToFloat16); enough for a workload. */
    private static short toF16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exp = ((bits >>> 23) & 0xff) - 127 + 15;
        int mantissa = (bits >>> 13) & 0x3ff;
        if (exp >= 31) {
            return (short) (sign | 0x7c00);
        }
        if (exp <= 0) {
            return (short) (exp < -10 ? sign : sign | ((0x400 | mantissa) >>> (1 - exp)));
        }
        return (short) (sign | exp << 10 | mantissa);
    }

    private static double uniform(SplittableRandom r, double lo, double hi) {
        return lo + (hi - lo) * r.nextDouble();
    }

    private static int writeFully(FileChannel out, ByteBuffer b, long at) throws IOException {
        int n = 0;
        while (b.hasRemaining()) {
            n += out.write(b, at + n);
        }
        return n;
    }

    private String shardName(int s) {
        return String.format("model-%05d-of-%05d.safetensors", s + 1, layout.size());
    }

    private String config(int version) {
        return String.format(Locale.ROOT, "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":%d,"
                + "\"intermediate_size\":%d,\"num_hidden_layers\":%d,\"vocab_size\":%d,\"torch_dtype\":\"bfloat16\","
                + "\"step\":%d}%n", hidden, intermediate, layers(), VOCAB, version * 1000);
    }

    /**
     * Writes the workload: {@code WeightsWorkload <dir> [shards] [MiB per shard] [--v2]}, defaults 8 × 256.
     * With {@code --v2} it turns an existing version 1 in {@code dir} into version 2.
     *
     * <pre>
     * java -cp dr-bench/target/benchmarks.jar io.dr4j.bench.WeightsWorkload /tmp/weights 8 256
     * </pre>
     */
    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: WeightsWorkload <dir> [shards] [MiB per shard] [--v2]");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        int shards = args.length > 1 ? Integer.parseInt(args[1]) : DEFAULT_SHARDS;
        long mib = args.length > 2 ? Long.parseLong(args[2]) : DEFAULT_SHARD_SIZE >> 20;
        boolean v2 = args.length > 3 && "--v2".equals(args[3]);
        WeightsWorkload w = new WeightsWorkload(shards, mib << 20, 20261201L);
        long start = System.nanoTime();
        if (v2) {
            long changed = w.mutateToVersion2(dir);
            System.out.printf(Locale.ROOT, "version 2: rewrote %d bytes of %d in %.1f s%n", changed, w.totalBytes(),
                    (System.nanoTime() - start) / 1e9);
        } else {
            List<Path> paths = w.writeVersion1(dir);
            System.out.printf(Locale.ROOT, "version 1: %d shards, %d tensor bytes, hidden %d, %d layers, in %.1f s%n",
                    paths.size(), w.totalBytes(), w.hidden(), w.layers(), (System.nanoTime() - start) / 1e9);
        }
    }
}
