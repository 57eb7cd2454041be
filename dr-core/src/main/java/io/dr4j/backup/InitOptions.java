package io.dr4j.backup;

import java.util.Objects;

/**
 * Format settings fixed when a repository is created ({@link Repository#init}); stored in its
 * config and authenticated. Immutable.
 *
 * @param chunker chunk sizes (default {@link ChunkerParameters#DEFAULT})
 * @param kdf Argon2id parameters for a password key (default {@link KdfParameters#DEFAULT}; ignored for raw keys)
 * @param compressionLevel zstd level 1–19 for chunks that compress, or 0 for none (default 3)
 */
public record InitOptions(ChunkerParameters chunker, KdfParameters kdf, int compressionLevel) {

    public InitOptions {
        Objects.requireNonNull(chunker, "chunker");
        Objects.requireNonNull(kdf, "kdf");
        if (compressionLevel < 0 || compressionLevel > 19) {
            throw new IllegalArgumentException("compressionLevel must be 0 (off) to 19, was " + compressionLevel);
        }
    }

    /** The defaults. */
    public static InitOptions defaults() {
        return new InitOptions(ChunkerParameters.DEFAULT, KdfParameters.DEFAULT, 3);
    }

    /** These options with other chunk sizes. */
    public InitOptions withChunker(ChunkerParameters chunker) {
        return new InitOptions(chunker, kdf, compressionLevel);
    }

    /** These options with other KDF parameters. */
    public InitOptions withKdf(KdfParameters kdf) {
        return new InitOptions(chunker, kdf, compressionLevel);
    }

    /** These options with another compression level. */
    public InitOptions withCompressionLevel(int level) {
        return new InitOptions(chunker, kdf, level);
    }
}
