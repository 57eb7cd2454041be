package io.dr4j.backup;

import com.github.luben.zstd.Zstd;
import java.util.Arrays;

/** Whether to try zstd on a chunk (an entropy estimate) and plain zstd compression of small objects. Stateless. */
final class Compression {

    private Compression() {
    }

    /**
     * Estimates from the byte entropy of a few small samples whether zstd can shrink the data:
     * random bytes (and most weight shards) sit near 8 bits per byte, text and sparse tensors far
     * below. Costs a few microseconds per chunk instead of a trial compression.
     */
    static boolean worthCompressing(byte[] data, int offset, int length) {
        if (length < 1024) {
            return true;
        }
        int[] counts = new int[256];
        int sampleLength = 1024;
        int samples = 4;
        long step = (length - sampleLength) / (samples - 1);
        for (int s = 0; s < samples; s++) {
            int from = offset + (int) (s * step);
            for (int i = from; i < from + sampleLength; i++) {
                counts[data[i] & 0xff]++;
            }
        }
        double total = sampleLength * samples;
        double entropy = 0;
        for (int c : counts) {
            if (c > 0) {
                double p = c / total;
                entropy -= p * Math.log(p);
            }
        }
        // 4,096 uniformly random bytes measure about 7.95 bits per byte; 7.5 leaves room for sampling noise
        return entropy / Math.log(2) < 7.5;
    }

    static byte[] compress(byte[] data, int offset, int length, int level) {
        byte[] out = new byte[(int) Zstd.compressBound(length)];
        long n = Zstd.compressByteArray(out, 0, out.length, data, offset, length, level);
        if (Zstd.isError(n)) {
            throw new IllegalStateException("zstd compression failed: " + Zstd.getErrorName(n));
        }
        return Arrays.copyOf(out, (int) n);
    }
}
