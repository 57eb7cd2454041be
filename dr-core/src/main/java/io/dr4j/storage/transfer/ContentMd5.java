package io.dr4j.storage.transfer;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * The MD5 that S3 ({@code Content-MD5}) and Azure (Put Blob, Put Block) check on uploads, and that
 * Azure returns for small ranges. Stateless and thread-safe.
 */
public final class ContentMd5 {

    private ContentMd5() {
    }

    /** A new MD5 digest (every Java platform has one). */
    public static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is required of every Java platform", e);
        }
    }

    /** The MD5 of {@code data[offset, offset + length)}. */
    public static byte[] of(byte[] data, int offset, int length) {
        MessageDigest md = newDigest();
        md.update(data, offset, length);
        return md.digest();
    }

    /** The MD5 of {@code data[offset, offset + length)}, Base64-encoded as the header carries it. */
    public static String base64(byte[] data, int offset, int length) {
        return Base64.getEncoder().encodeToString(of(data, offset, length));
    }
}
