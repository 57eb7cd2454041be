package io.dr4j.backup;

import com.github.luben.zstd.Zstd;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The repository's keys and the sealing of objects (see FORMAT.md §Sealed objects).
 *
 * <p>A sealed object is {@code version(1) flags(1) nonce(12) AES-256-GCM(payload) tag(16)}, with
 * associated data {@code domain || name || version || flags}, where the domain separates chunks
 * from manifests and the name is the chunk id or snapshot id, so an object cannot be swapped for
 * another. Flag bit 0 means the payload is a zstd frame, bit 1 (chunks only) that it is a
 * {@link TensorCodec} encoding; at most one is set. A chunk's plaintext must also hash
 * (HMAC-SHA-256 under the id key) to its id, which is checked after decoding, so a codec bug
 * cannot restore wrong bytes either.
 *
 * <p>A chunk known to hold floating-point weights (a {@link SafetensorsHeader.CodecHint}) is
 * first offered to the tensor codec; only if that does not pay is the usual zstd-or-raw choice
 * made. The codec's per-thread {@link TensorCodec.Scratch} lives beside the other per-thread
 * buffers and grows to the largest chunk seen, so steady state allocates nothing.
 *
 * <p>AES-GCM comes from {@link GcmProvider} (Conscrypt where it loads, else the JDK). The
 * parts: {@link SealedObject} (the byte layout and AES-GCM for any key, also used for key
 * slots), {@link Compression} (the entropy estimate and zstd), {@link CryptoScratch} (per-thread
 * buffers); this class holds the keys and the chunk, manifest and object paths over them.
 *
 * <p>Thread-safe: JCA objects are kept per thread.
 */
final class Crypto {

    /** Length of the master key material: encryption key, id key, chunker key. */
    public static final int MASTER_LENGTH = 96;
    static final byte VERSION = 1;
    static final int FLAG_ZSTD = 1;
    /** Chunk payload is a {@link TensorCodec} encoding (docs/tensor-codec.md); exclusive with {@link #FLAG_ZSTD}. */
    static final int FLAG_TENSOR = 2;
    /** Where {@link #sealChunkInto} returns the blob flags: above any sealed length (at most 64 MiB + overhead). */
    private static final int FLAGS_SHIFT = 29;
    static final int NONCE = 12;
    static final int TAG = 16;
    /** Bytes a sealed object adds to its payload. */
    public static final int OVERHEAD = 2 + NONCE + TAG;
    private static final byte[] CHUNK_DOMAIN = "dr4j/chunk/v1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SNAPSHOT_DOMAIN = "dr4j/snapshot/v1".getBytes(StandardCharsets.US_ASCII);

    private final SecretKeySpec encryptionKey;
    private final SecretKeySpec idKey;
    private final byte[] chunkerKey;
    private final ThreadLocal<Cipher> ciphers = ThreadLocal.withInitial(GcmProvider::newCipher);
    private final ThreadLocal<CryptoScratch> scratch = ThreadLocal.withInitial(CryptoScratch::new);
    private final ThreadLocal<Mac> macs;

    /** @param master 96 bytes of key material (copied) */
    public Crypto(byte[] master) {
        if (master.length != MASTER_LENGTH) {
            throw new IllegalArgumentException("master key material must be " + MASTER_LENGTH + " bytes");
        }
        this.encryptionKey = new SecretKeySpec(Arrays.copyOfRange(master, 0, 32), "AES");
        this.idKey = new SecretKeySpec(Arrays.copyOfRange(master, 32, 64), "HmacSHA256");
        this.chunkerKey = Arrays.copyOfRange(master, 64, 96);
        this.macs = ThreadLocal.withInitial(() -> {
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(idKey);
                return mac;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("HmacSHA256 unavailable", e);
            }
        });
    }

    /** Fresh random bytes from a {@link SecureRandom}. */
    public static byte[] randomBytes(int n) {
        byte[] bytes = new byte[n];
        SealedObject.RANDOM.nextBytes(bytes);
        return bytes;
    }

    /** The chunker for these keys: FastCDC with a gear table derived from the chunker key. */
    public FastCdc chunker(ChunkerParameters parameters) {
        long[] gear = new long[256];
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(chunkerKey, "HmacSHA256"));
            for (int i = 0; i < 256; i += 4) {
                byte[] block = mac.doFinal(("dr4j/gear/" + i).getBytes(StandardCharsets.US_ASCII));
                ByteBuffer b = ByteBuffer.wrap(block);
                for (int j = 0; j < 4; j++) {
                    gear[i + j] = b.getLong();
                }
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
        return new FastCdc(parameters, gear);
    }

    /** The id of a chunk: HMAC-SHA-256 of {@code data[offset..offset+length)}. */
    public ChunkId chunkId(byte[] data, int offset, int length) {
        Mac mac = macs.get();
        mac.update(data, offset, length);
        return ChunkId.wrap(mac.doFinal());
    }

    /**
     * Seals a chunk. Compresses with zstd only where a quick entropy estimate says it may help, and
     * keeps the result only if it is at least 3% smaller, so incompressible weights cost no
     * compression time.
     */
    public byte[] sealChunk(ChunkId id, byte[] data, int offset, int length, int zstdLevel) {
        byte[] payload = data;
        int payloadOffset = offset;
        int payloadLength = length;
        int flags = 0;
        if (zstdLevel > 0 && Compression.worthCompressing(data, offset, length)) {
            byte[] compressed = Compression.compress(data, offset, length, zstdLevel);
            if (compressed.length < length - (length >> 5)) {
                payload = compressed;
                payloadOffset = 0;
                payloadLength = compressed.length;
                flags = FLAG_ZSTD;
            }
        }
        return seal(CHUNK_DOMAIN, id.unsafeBytes(), flags, payload, payloadOffset, payloadLength);
    }

    /**
     * Opens a sealed chunk and checks that its plaintext hashes to {@code id}.
     *
     * @param where the object's store and key, for messages
     * @throws CorruptObjectException if the object is truncated, tampered with, or does not match its id
     */
    public byte[] openChunk(ChunkId id, byte[] sealed, int maxSize, String where) {
        byte[] plain = open(CHUNK_DOMAIN, id.unsafeBytes(), sealed, maxSize, where);
        Mac mac = macs.get();
        mac.update(plain);
        if (!MessageDigest.isEqual(mac.doFinal(), id.unsafeBytes())) {
            throw new CorruptObjectException(where + ": chunk content does not match its id");
        }
        return plain;
    }

    /** Seals a snapshot manifest (always zstd-compressed: JSON shrinks well). */
    public byte[] sealManifest(String snapshotId, byte[] json) {
        byte[] compressed = Compression.compress(json, 0, json.length, 3);
        return seal(SNAPSHOT_DOMAIN, snapshotId.getBytes(StandardCharsets.UTF_8), FLAG_ZSTD, compressed, 0, compressed.length);
    }

    /** Opens a sealed snapshot manifest; {@code maxSize} bounds the decompressed size. */
    public byte[] openManifest(String snapshotId, byte[] sealed, int maxSize, String where) {
        return open(SNAPSHOT_DOMAIN, snapshotId.getBytes(StandardCharsets.UTF_8), sealed, maxSize, where);
    }

    /** Wraps the master key material with a key-encryption key; {@code context} is bound as associated data. */
    public static byte[] wrap(byte[] kek, byte[] master, byte[] context) {
        return SealedObject.seal(GcmProvider.newCipher(), new SecretKeySpec(kek, "AES"), context, new byte[0], 0, master, 0, master.length);
    }

    /**
     * Unwraps master key material.
     *
     * @return the material, or null if the key-encryption key is wrong or the slot was tampered with
     */
    public static byte[] unwrap(byte[] kek, byte[] wrapped, byte[] context) {
        try {
            return SealedObject.decrypt(GcmProvider.newCipher(), new SecretKeySpec(kek, "AES"), context, new byte[0], wrapped);
        } catch (AEADBadTagException e) {
            return null;
        }
    }

    private byte[] seal(byte[] domain, byte[] name, int flags, byte[] payload, int offset, int length) {
        return SealedObject.seal(ciphers.get(), encryptionKey, domain, name, flags, payload, offset, length);
    }

    /** The largest a sealed chunk of {@code plainLength} bytes can be (compression is kept only when it shrinks). */
    public static int maxSealedLength(int plainLength) {
        return OVERHEAD + plainLength;
    }

    /** {@link #sealChunkInto(ChunkId, byte[], int, int, int, SafetensorsHeader.CodecHint, byte[], int)} without a codec hint. */
    public int sealChunkInto(ChunkId id, byte[] data, int offset, int length, int zstdLevel, byte[] out, int outOffset) {
        return sealChunkInto(id, data, offset, length, zstdLevel, null, out, outOffset);
    }

    /**
     * Seals a chunk straight into {@code out} at {@code outOffset} (a pack buffer), as
     * {@link #sealChunk} but without allocating the sealed copy; compression goes through a
     * per-thread scratch buffer. {@code out} needs {@link #maxSealedLength} bytes of room (the
     * tensor codec, like zstd, is kept only when it shrinks the chunk).
     *
     * @param hint the dtype and phase of the chunk's bytes, or null (no tensor codec: the
     *     repository has it off, or the bytes are not known to be weights)
     * @return the sealed length, with the blob flags in the top bits: see {@link #sealedLength} and {@link #sealedFlags}
     */
    public int sealChunkInto(ChunkId id, byte[] data, int offset, int length, int zstdLevel,
            SafetensorsHeader.CodecHint hint, byte[] out, int outOffset) {
        CryptoScratch t = scratch.get();
        byte[] payload = data;
        int payloadOffset = offset;
        int payloadLength = length;
        int flags = 0;
        if (hint != null && hint.dtype() != TensorCodec.Dtype.OTHER) {
            byte[] z = t.compressed(length);
            int n = t.codec(length).encode(hint.dtype(), hint.phase(), data, offset, length, z, 0, t.tensor);
            if (n >= 0) {
                payload = z;
                payloadOffset = 0;
                payloadLength = n;
                flags = FLAG_TENSOR;
            }
        }
        if (flags == 0 && zstdLevel > 0 && Compression.worthCompressing(data, offset, length)) {
            byte[] z = t.compressed(length);
            long n = Zstd.compressByteArray(z, 0, z.length, data, offset, length, zstdLevel);
            if (Zstd.isError(n)) {
                throw new IllegalStateException("zstd compression failed: " + Zstd.getErrorName(n));
            }
            if (n < length - (length >> 5)) {
                payload = z;
                payloadOffset = 0;
                payloadLength = (int) n;
                flags = FLAG_ZSTD;
            }
        }
        Cipher cipher = ciphers.get();
        int sealed;
        if (stageThroughDirectBuffers(cipher)) {
            sealed = sealDirect(cipher, t, flags, id.unsafeBytes(), payload, payloadOffset, payloadLength, out, outOffset);
        } else {
            sealed = SealedObject.sealInto(cipher, encryptionKey, CHUNK_DOMAIN, id.unsafeBytes(), flags, payload, payloadOffset,
                    payloadLength, out, outOffset, t.nonce);
        }
        return sealed | flags << FLAGS_SHIFT;
    }

    /** The sealed length part of what {@link #sealChunkInto} returns. */
    public static int sealedLength(int sealResult) {
        return sealResult & ((1 << FLAGS_SHIFT) - 1);
    }

    /** The blob flags part of what {@link #sealChunkInto} returns: 0, {@link #FLAG_ZSTD} or {@link #FLAG_TENSOR}. */
    public static int sealedFlags(int sealResult) {
        return sealResult >>> FLAGS_SHIFT;
    }

    /** Whether a flags byte is one a sealed object may carry: none, zstd, or (chunks only) the tensor codec. */
    private static boolean knownFlags(int flags, boolean chunk) {
        return flags == 0 || flags == FLAG_ZSTD || chunk && flags == FLAG_TENSOR;
    }

    /**
     * Opens the sealed chunk at {@code sealed[offset, offset+length)} into {@code out} (at least
     * {@code maxSize} bytes) and checks that the plaintext hashes to {@code id}. Allocates nothing
     * per call beyond what the cipher does: decompression goes through a per-thread scratch.
     *
     * @return the plaintext length
     * @throws CorruptObjectException if the blob is truncated, tampered with or does not match its id
     */
    public int openChunkInto(ChunkId id, byte[] sealed, int offset, int length, int maxSize, byte[] out, String where) {
        return openChunkInto(id, sealed, offset, length, maxSize, out, where, null);
    }

    /**
     * As {@link #openChunkInto(ChunkId, byte[], int, int, int, byte[], String)}; when {@code hint} is
     * not null, also stores in {@code hint[0]} the dtype and phase a tensor-codec blob was encoded
     * with (null for a zstd or raw blob), so a copy can re-encode the plaintext the same way.
     */
    int openChunkInto(ChunkId id, byte[] sealed, int offset, int length, int maxSize, byte[] out, String where,
            SafetensorsHeader.CodecHint[] hint) {
        if (length < OVERHEAD) {
            throw new CorruptObjectException(where + ": truncated (" + length + " bytes is shorter than any sealed object)");
        }
        if (sealed[offset] != VERSION) {
            throw new CorruptObjectException(where + ": unknown object version " + sealed[offset]);
        }
        int flags = sealed[offset + 1];
        if (!knownFlags(flags, true)) {
            throw new CorruptObjectException(where + ": unknown flags " + flags);
        }
        CryptoScratch t = scratch.get();
        int cipherLength = length - 2 - NONCE;
        boolean zstd = flags == FLAG_ZSTD;
        boolean tensor = flags == FLAG_TENSOR;
        if (!zstd && cipherLength - TAG > maxSize) {
            // a tensor encoding is kept only when smaller than its chunk, so the same bound holds
            throw new CorruptObjectException(where + ": " + (cipherLength - TAG) + " bytes exceeds the limit of " + maxSize);
        }
        byte[] target = zstd || tensor ? t.compressed(cipherLength) : out;
        if (target.length < cipherLength) {
            throw new CorruptObjectException(where + ": " + (cipherLength - TAG) + " bytes exceeds the limit of " + maxSize);
        }
        int payloadLength;
        try {
            Cipher cipher = ciphers.get();
            cipher.init(Cipher.DECRYPT_MODE, encryptionKey, new GCMParameterSpec(TAG * 8, sealed, offset + 2, NONCE));
            cipher.updateAAD(CHUNK_DOMAIN);
            cipher.updateAAD(id.unsafeBytes());
            cipher.updateAAD(sealed, offset, 2);
            if (stageThroughDirectBuffers(cipher)) {
                ByteBuffer in = t.in(cipherLength);
                in.put(sealed, offset + 2 + NONCE, cipherLength).flip();
                ByteBuffer outBuffer = t.out(cipherLength);
                payloadLength = cipher.doFinal(in, outBuffer);
                outBuffer.flip().get(target, 0, payloadLength);
            } else {
                payloadLength = cipher.doFinal(sealed, offset + 2 + NONCE, cipherLength, target, 0);
            }
        } catch (AEADBadTagException e) {
            throw new CorruptObjectException(where + ": failed authentication (corrupt, truncated or tampered with)");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM opening failed", e);
        }
        int plainLength = payloadLength;
        if (zstd) {
            long size = Zstd.getFrameContentSize(target, 0, payloadLength);
            if (size < 0 || size > maxSize || size > out.length) {
                throw new CorruptObjectException(where + ": compressed size header " + size + " is invalid or exceeds " + maxSize);
            }
            long n;
            try {
                n = Zstd.decompressByteArray(out, 0, (int) size, target, 0, payloadLength);
            } catch (RuntimeException e) {
                throw new CorruptObjectException(where + ": zstd payload cannot be decompressed: " + e.getMessage(), e);
            }
            if (Zstd.isError(n) || n != size) {
                throw new CorruptObjectException(where + ": decompressed to " + n + " bytes, expected " + size);
            }
            plainLength = (int) size;
        } else if (tensor) {
            plainLength = decodeTensor(t, target, payloadLength, maxSize, out, where);
        }
        if (hint != null) {
            // the encoding's header gives dtype (byte 1) and phase (byte 4); decodeTensor checked both
            hint[0] = tensor ? new SafetensorsHeader.CodecHint(TensorCodec.Dtype.ofCode(target[1] & 0xff), target[4] & 0xff) : null;
        }
        Mac mac = macs.get();
        mac.update(out, 0, plainLength);
        try {
            mac.doFinal(t.digest, 0);
        } catch (javax.crypto.ShortBufferException e) {
            throw new IllegalStateException(e);
        }
        if (!MessageDigest.isEqual(t.digest, id.unsafeBytes())) {
            throw new CorruptObjectException(where + ": chunk content does not match its id");
        }
        return plainLength;
    }

    /**
     * Decodes an authenticated tensor-codec payload into {@code out}; the plain length comes from
     * the encoding and is bounded by {@code maxSize} and {@code out} before anything is written.
     */
    private static int decodeTensor(CryptoScratch t, byte[] payload, int payloadLength, int maxSize, byte[] out, String where) {
        long size = TensorCodec.plainLengthOf(payload, 0, payloadLength);
        if (size < 0 || size > maxSize || size > out.length) {
            throw new CorruptObjectException(where + ": tensor codec plain length " + size + " is invalid or exceeds " + maxSize);
        }
        try {
            return t.codec((int) size).decode(payload, 0, payloadLength, out, 0, (int) size, t.tensor);
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            throw new CorruptObjectException(where + ": " + e.getMessage(), e);
        }
    }

    /** Seals an object of another domain (pack headers, index files, catalog entries) under the repository key. */
    public byte[] sealObject(byte[] domain, byte[] name, boolean compress, byte[] payload) {
        if (compress) {
            byte[] compressed = Compression.compress(payload, 0, payload.length, 3);
            return seal(domain, name, FLAG_ZSTD, compressed, 0, compressed.length);
        }
        return seal(domain, name, 0, payload, 0, payload.length);
    }

    /** Opens an object sealed by {@link #sealObject}; {@code maxSize} bounds its (decompressed) payload. */
    public byte[] openObject(byte[] domain, byte[] name, byte[] sealed, int maxSize, String where) {
        return open(domain, name, sealed, maxSize, where);
    }

    /**
     * Whether to hand the cipher direct buffers instead of slices of Java arrays. Conscrypt reaches
     * Java arrays through JNI {@code GetByteArrayElements}, which on HotSpot copies the whole
     * array in and out: sealing each 256 KiB chunk straight into a 16 MiB pack buffer (or opening
     * it from a 16 MiB range buffer) copied 32 MiB per chunk, 13 s of CPU in memcpy for a 2 GiB
     * backup. Direct buffers are passed by address; the chunk is copied once in and once out.
     */
    private static boolean stageThroughDirectBuffers(Cipher cipher) {
        return "Conscrypt".equals(cipher.getProvider().getName());
    }

    private int sealDirect(Cipher cipher, CryptoScratch t, int flags, byte[] name, byte[] payload, int offset, int length,
            byte[] out, int outOffset) {
        out[outOffset] = VERSION;
        out[outOffset + 1] = (byte) flags;
        SealedObject.RANDOM.nextBytes(t.nonce);
        System.arraycopy(t.nonce, 0, out, outOffset + 2, NONCE);
        try {
            cipher.init(Cipher.ENCRYPT_MODE, encryptionKey, new GCMParameterSpec(TAG * 8, t.nonce));
            cipher.updateAAD(CHUNK_DOMAIN);
            cipher.updateAAD(name);
            cipher.updateAAD(out, outOffset, 2);
            ByteBuffer in = t.in(length);
            in.put(payload, offset, length).flip();
            ByteBuffer sealedOut = t.out(length + TAG);
            int written = cipher.doFinal(in, sealedOut);
            if (written != length + TAG) {
                throw new IllegalStateException("unexpected GCM output length " + written);
            }
            sealedOut.flip().get(out, outOffset + 2 + NONCE, written);
            return OVERHEAD + length;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM sealing failed", e);
        }
    }

    private byte[] open(byte[] domain, byte[] name, byte[] sealed, int maxSize, String where) {
        if (sealed.length < OVERHEAD) {
            throw new CorruptObjectException(where + ": truncated (" + sealed.length + " bytes is shorter than any sealed object)");
        }
        if (sealed[0] != VERSION) {
            throw new CorruptObjectException(where + ": unknown object version " + sealed[0]);
        }
        int flags = sealed[1];
        if (!knownFlags(flags, domain == CHUNK_DOMAIN)) {
            throw new CorruptObjectException(where + ": unknown flags " + flags);
        }
        byte[] payload;
        try {
            payload = SealedObject.decrypt(ciphers.get(), encryptionKey, domain, name, sealed);
        } catch (AEADBadTagException e) {
            throw new CorruptObjectException(where + ": failed authentication (corrupt, truncated or tampered with)");
        }
        if (flags == FLAG_TENSOR) {
            long size = TensorCodec.plainLengthOf(payload, 0, payload.length);
            if (size < 0 || size > maxSize) {
                throw new CorruptObjectException(where + ": tensor codec plain length " + size + " is invalid or exceeds " + maxSize);
            }
            byte[] plain = new byte[(int) size];
            decodeTensor(scratch.get(), payload, payload.length, maxSize, plain, where);
            return plain;
        }
        if ((flags & FLAG_ZSTD) == 0) {
            if (payload.length > maxSize) {
                throw new CorruptObjectException(where + ": " + payload.length + " bytes exceeds the limit of " + maxSize);
            }
            return payload;
        }
        long size = Zstd.getFrameContentSize(payload);
        if (size < 0 || size > maxSize) {
            throw new CorruptObjectException(where + ": compressed size header " + size + " is invalid or exceeds " + maxSize);
        }
        try {
            byte[] plain = new byte[(int) size];
            long n = Zstd.decompressByteArray(plain, 0, plain.length, payload, 0, payload.length);
            if (n != size) {
                throw new CorruptObjectException(where + ": decompressed to " + n + " bytes, expected " + size);
            }
            return plain;
        } catch (RuntimeException e) {
            if (e instanceof CorruptObjectException) {
                throw e;
            }
            throw new CorruptObjectException(where + ": zstd payload cannot be decompressed: " + e.getMessage(), e);
        }
    }

}
