package io.dr4j.backup;

import static io.dr4j.backup.Crypto.NONCE;
import static io.dr4j.backup.Crypto.TAG;

import com.github.luben.zstd.Zstd;
import java.nio.ByteBuffer;

/**
 * Per-thread buffers of {@link Crypto}'s allocation-free chunk paths: nonce, digest, compression
 * and direct staging buffers, and the tensor codec with its scratch, each grown to the largest
 * chunk seen. Confined to one thread (held in a {@link ThreadLocal}).
 */
final class CryptoScratch {
    /** Smallest size of the grown buffers: the default largest chunk, so they grow once. */
    static final int FLOOR = 1 << 20;

    final byte[] nonce = new byte[NONCE];
    final byte[] digest = new byte[32];
    private byte[] compressed = new byte[0];
    private ByteBuffer in = ByteBuffer.allocateDirect(0);
    private ByteBuffer out = ByteBuffer.allocateDirect(0);
    private TensorCodec codec;
    TensorCodec.Scratch tensor;

    /**
     * The tensor codec for chunks of up to {@code length} bytes, with {@link #tensor} its
     * scratch. Replaced only when a larger chunk comes (at most a few times: chunks are
     * bounded by the repository's maximum), so steady state allocates nothing.
     */
    TensorCodec codec(int length) {
        if (codec == null || codec.maxChunk() < length) {
            int size = Math.max(length, TensorCodec.DEFAULT_MAX_CHUNK);
            TensorCodec next = size == TensorCodec.DEFAULT_MAX_CHUNK ? TensorCodec.defaults()
                    : new TensorCodec(TensorCodec.DEFAULT_LEVEL, TensorCodec.Split.EXPONENT_BYTE, size);
            if (tensor != null) {
                tensor.close();
            }
            tensor = next.newScratch();
            codec = next;
        }
        return codec;
    }

    ByteBuffer in(int length) {
        if (in.capacity() < length) {
            in = ByteBuffer.allocateDirect(Math.max(length, FLOOR) + 64);
        }
        return in.clear();
    }

    ByteBuffer out(int length) {
        if (out.capacity() < length + TAG) {
            out = ByteBuffer.allocateDirect(Math.max(length, FLOOR) + 64);
        }
        return out.clear();
    }

    /**
     * A buffer for the zstd or tensor encoding of a chunk of up to {@code length} bytes. Sized at
     * once for {@link #FLOOR} bytes (the default largest chunk), as the direct buffers are:
     * grown to each chunk's exact need instead, it was reallocated every time a larger chunk came
     * (about ln(n) times per thread for chunk sizes in random order), 26 MB of garbage in a 2 GiB
     * restore of BF16 weights, which a fresh JVM pays for in heap it touches.
     */
    byte[] compressed(int length) {
        if (compressed.length < encodedBound(length)) {
            compressed = new byte[encodedBound(Math.max(length, FLOOR))];
        }
        return compressed;
    }

    private static int encodedBound(int length) {
        return (int) Math.max(Math.max(Zstd.compressBound(length), length + TAG), TensorCodec.maxEncodedLength(length));
    }
}
