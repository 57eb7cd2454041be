package io.dr4j.backup;

import io.dr4j.storage.BlobKey;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * A chunk's id: HMAC-SHA-256 of its plaintext under the repository's id key (32 bytes). Keyed, so
 * the store cannot confirm guesses about content. Immutable.
 */
final class ChunkId {

    /** Length of an id in bytes. */
    public static final int LENGTH = 32;
    private static final HexFormat HEX = HexFormat.of();

    private final byte[] bytes;
    private final int hash;

    private ChunkId(byte[] bytes) {
        this.bytes = bytes;
        this.hash = (bytes[0] & 0xff) << 24 | (bytes[1] & 0xff) << 16 | (bytes[2] & 0xff) << 8 | (bytes[3] & 0xff);
    }

    /** Wraps {@code bytes} (not copied: the caller hands it over). */
    public static ChunkId wrap(byte[] bytes) {
        if (bytes.length != LENGTH) {
            throw new IllegalArgumentException("chunk id must be " + LENGTH + " bytes, was " + bytes.length);
        }
        return new ChunkId(bytes);
    }

    /** Copies an id from {@code source[offset..offset+32)}. */
    public static ChunkId copyOf(byte[] source, int offset) {
        return new ChunkId(Arrays.copyOfRange(source, offset, offset + LENGTH));
    }

    /** Parses 64 hex digits. */
    public static ChunkId parse(String hex) {
        if (hex.length() != 2 * LENGTH) {
            throw new IllegalArgumentException("chunk id must be " + (2 * LENGTH) + " hex digits: '" + hex + "'");
        }
        return new ChunkId(HEX.parseHex(hex));
    }

    /** The store key of the chunk: {@code chunks/<first two hex digits>/<64 hex digits>}. */
    public BlobKey key() {
        String hex = hex();
        return BlobKey.of("chunks/" + hex.substring(0, 2) + "/" + hex);
    }

    /** A copy of the id's bytes. */
    public byte[] bytes() {
        return bytes.clone();
    }

    /** Writes the id's bytes into {@code target} at {@code offset}. */
    public void copyTo(byte[] target, int offset) {
        System.arraycopy(bytes, 0, target, offset, LENGTH);
    }

    byte[] unsafeBytes() {
        return bytes;
    }

    /** The id as 64 lowercase hex digits. */
    public String hex() {
        return HEX.formatHex(bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChunkId && Arrays.equals(((ChunkId) o).bytes, bytes);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return hex();
    }
}
