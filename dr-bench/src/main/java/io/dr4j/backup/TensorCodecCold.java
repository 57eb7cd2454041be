package io.dr4j.backup;

import io.dr4j.bench.WeightsWorkload;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The tensor codec's CPU seconds as the CLI meets it: a fresh JVM (JIT warm-up included) encodes
 * and then decodes 2 GiB of 256 KiB BF16 chunks (128 distinct N(0, σ) chunks, σ in 0.01-0.05,
 * cycled), writing codec version 1 or 2, and prints the thread's CPU seconds for each: the codec's
 * share of a backup's and a restore's CPU, without the rest of the engine and this machine's noise
 * around it. Run each version several times, alternating, under the build lock:
 *
 * <pre>
 * for v in 1 2 1 2 1 2; do java -cp dr-bench/target/benchmarks.jar io.dr4j.backup.TensorCodecCold $v; done
 * </pre>
 *
 * Not thread-safe; a command-line tool.
 */
public final class TensorCodecCold {

    private static final int CHUNK = 256 << 10;
    private static final int DISTINCT = 128;
    private static final long TOTAL = 2L << 30;

    private TensorCodecCold() {
    }

    public static void main(String[] args) {
        int version = args.length > 0 ? Integer.parseInt(args[0]) : TensorCodec.VERSION;
        SplittableRandom random = new SplittableRandom(7);
        byte[][] plain = new byte[DISTINCT][CHUNK];
        for (byte[] p : plain) {
            WeightsWorkload.normalValues(p, 0, CHUNK, "BF16", 0, 0.01 + 0.04 * random.nextDouble(), random);
        }
        TensorCodec codec = new TensorCodec(TensorCodec.DEFAULT_LEVEL, TensorCodec.Split.EXPONENT_BYTE,
                TensorCodec.DEFAULT_MAX_CHUNK, version);
        byte[][] encoded = new byte[DISTINCT][TensorCodec.maxEncodedLength(CHUNK)];
        int[] length = new int[DISTINCT];
        byte[] out = new byte[TensorCodec.maxEncodedLength(CHUNK)];
        ThreadMXBean bean = ManagementFactory.getThreadMXBean();
        int ops = (int) (TOTAL / CHUNK);
        long stored = 0;
        try (TensorCodec.Scratch scratch = codec.newScratch()) {
            long t0 = bean.getCurrentThreadCpuTime();
            for (int i = 0; i < ops; i++) {
                int c = i % DISTINCT;
                int n = codec.encode(TensorCodec.Dtype.BF16, 0, plain[c], 0, CHUNK, i < DISTINCT ? encoded[c] : out, 0, scratch);
                if (n < 0) {
                    throw new IllegalStateException("the codec does not pay on chunk " + c);
                }
                if (i < DISTINCT) {
                    length[c] = n;
                }
                stored += n;
            }
            long t1 = bean.getCurrentThreadCpuTime();
            for (int i = 0; i < ops; i++) {
                int c = i % DISTINCT;
                codec.decode(encoded[c], 0, length[c], out, 0, CHUNK, scratch);
            }
            long t2 = bean.getCurrentThreadCpuTime();
            System.out.printf(Locale.ROOT, "codec version %d: 2 GiB of 256 KiB BF16 chunks, cold JVM: encode %.2f s CPU, "
                    + "decode %.2f s CPU, ratio %.4f%n", version, (t1 - t0) / 1e9, (t2 - t1) / 1e9, stored / (double) TOTAL);
        }
    }
}
