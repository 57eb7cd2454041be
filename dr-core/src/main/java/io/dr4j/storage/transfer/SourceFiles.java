package io.dr4j.storage.transfer;

import io.dr4j.storage.BlobKey;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.zip.CRC32C;

/**
 * Reading the caller's sources of a put: the size of a file (with the SPI's
 * {@link NoSuchFileException}), one hashing pass over a file region before its upload, and
 * reading exactly {@code n} bytes of a stream. Stateless and thread-safe.
 */
public final class SourceFiles {

    private SourceFiles() {
    }

    /**
     * The size of {@code source}, the file to be stored under {@code key}.
     *
     * @throws NoSuchFileException naming the file and the key if it does not exist
     */
    public static long size(Path source, BlobKey key) throws IOException {
        try {
            return Files.size(source);
        } catch (NoSuchFileException e) {
            NoSuchFileException missing = new NoSuchFileException(source.toString(), null,
                    "source file for " + key + " does not exist");
            missing.initCause(e);
            throw missing;
        }
    }

    /**
     * Feeds bytes {@code [offset, offset + length)} of {@code channel} to {@code crc} and
     * {@code md5} (either may be null) through {@code scratch}.
     *
     * @throws EOFException if the file ends early (it shrank during the put); nothing was stored
     */
    public static void hash(FileChannel channel, long offset, long length, ByteBuffer scratch, CRC32C crc,
            MessageDigest md5, String what) throws IOException {
        long done = 0;
        while (done < length) {
            scratch.clear().limit((int) Math.min(scratch.capacity(), length - done));
            int n = channel.read(scratch, offset + done);
            if (n < 0) {
                throw new EOFException(what + ": the file shrank to " + (offset + done)
                        + " bytes during the put; nothing was stored");
            }
            scratch.flip();
            if (crc != null) {
                crc.update(scratch.duplicate());
            }
            if (md5 != null) {
                md5.update(scratch);
            }
            done += n;
        }
    }

    /**
     * Reads exactly {@code length} bytes of {@code in} into {@code buffer[offset, offset + length)}.
     *
     * @throws EOFException naming {@code what} if the stream ends early; nothing was stored
     */
    public static void readFully(InputStream in, byte[] buffer, int offset, int length, String what) throws IOException {
        int n = in.readNBytes(buffer, offset, length);
        if (n < length) {
            throw new EOFException(what + ": the source ended after " + n + " of " + length
                    + " bytes; nothing was stored");
        }
    }
}
