package io.dr4j.backup;

import java.util.Objects;

/**
 * Format settings fixed when a repository is created ({@link Repository#init}); stored in its
 * config and authenticated. Immutable.
 *
 * @param chunker chunk sizes (default {@link ChunkerParameters#DEFAULT})
 * @param kdf Argon2id parameters for a password key (default {@link KdfParameters#DEFAULT}; ignored for raw keys)
 * @param compressionLevel zstd level 1–19 for chunks that compress, or 0 for none (default 3)
 * @param packSize target size of a pack object in bytes, {@value #MIN_PACK_SIZE} to
 *     {@value #MAX_PACK_SIZE} (default {@value #DEFAULT_PACK_SIZE}, 16 MiB as restic): larger packs mean fewer
 *     objects and requests, and more memory (each CPU worker fills one pack buffer) and coarser prune
 * @param tensorCodec whether chunks of BF16, F16 and F32 tensors in safetensors files are stored
 *     with the lossless byte-plane tensor codec (docs/tensor-codec.md) where it beats zstd (default
 *     on; turn it off with {@link #withTensorCodec withTensorCodec(false)}, or {@code init
 *     --no-tensor-codec} on the CLI, to store weights as plain zstd-or-raw chunks, e.g. for a reader
 *     that predates it). Tensor-aligned chunk cuts apply either way.
 */
public record InitOptions(ChunkerParameters chunker, KdfParameters kdf, int compressionLevel, int packSize,
        boolean tensorCodec) {

    /** 16 MiB. */
    public static final int DEFAULT_PACK_SIZE = 16 << 20;
    /** 4 MiB. */
    public static final int MIN_PACK_SIZE = 4 << 20;
    /** 128 MiB. */
    public static final int MAX_PACK_SIZE = 128 << 20;

    public InitOptions {
        Objects.requireNonNull(chunker, "chunker");
        Objects.requireNonNull(kdf, "kdf");
        if (compressionLevel < 0 || compressionLevel > 19) {
            throw new IllegalArgumentException("compressionLevel must be 0 (off) to 19, was " + compressionLevel);
        }
        if (packSize < MIN_PACK_SIZE || packSize > MAX_PACK_SIZE) {
            throw new IllegalArgumentException("packSize must be " + MIN_PACK_SIZE + " to " + MAX_PACK_SIZE + " bytes, was " + packSize);
        }
    }

    /** The defaults. */
    public static InitOptions defaults() {
        return new InitOptions(ChunkerParameters.DEFAULT, KdfParameters.DEFAULT, 3, DEFAULT_PACK_SIZE, true);
    }

    /** These options with other chunk sizes. */
    public InitOptions withChunker(ChunkerParameters chunker) {
        return new InitOptions(chunker, kdf, compressionLevel, packSize, tensorCodec);
    }

    /** These options with other KDF parameters. */
    public InitOptions withKdf(KdfParameters kdf) {
        return new InitOptions(chunker, kdf, compressionLevel, packSize, tensorCodec);
    }

    /** These options with another compression level. */
    public InitOptions withCompressionLevel(int level) {
        return new InitOptions(chunker, kdf, level, packSize, tensorCodec);
    }

    /** These options with another pack size. */
    public InitOptions withPackSize(int bytes) {
        return new InitOptions(chunker, kdf, compressionLevel, bytes, tensorCodec);
    }

    /** These options with the tensor codec on or off. */
    public InitOptions withTensorCodec(boolean on) {
        return new InitOptions(chunker, kdf, compressionLevel, packSize, on);
    }
}
