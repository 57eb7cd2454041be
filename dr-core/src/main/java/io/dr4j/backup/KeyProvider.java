package io.dr4j.backup;

import java.nio.charset.StandardCharsets;
import java.nio.CharBuffer;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

/**
 * Supplies the key that unlocks a repository. A repository's data is encrypted with a random
 * master key; the master key is stored in the repository's {@code config} wrapped (AES-256-GCM)
 * by a key-encryption key that a {@code KeyProvider} derives:
 * <ul>
 *   <li>{@link #password(char[])}: Argon2id over the password with the slot's salt and
 *       {@link KdfParameters} (memory-hard, so offline guessing is expensive);</li>
 *   <li>{@link #rawKey(byte[])}: a 32-byte key the application manages (a secrets manager, a
 *       KMS-decrypted data key), used directly.</li>
 * </ul>
 * A wrong password or key is detected when the repository is opened, before any data is read.
 *
 * <p>Instances are immutable and thread-safe; they copy the secret they are given, so the caller
 * may wipe its array. The secret never appears in {@link #toString()}.
 */
public final class KeyProvider {

    /** The kind of a key slot: how its key-encryption key is derived. */
    public enum Kind { PASSWORD, RAW }

    private final Kind kind;
    private final byte[] secret;

    private KeyProvider(Kind kind, byte[] secret) {
        this.kind = kind;
        this.secret = secret;
    }

    /**
     * A password-derived key (Argon2id).
     *
     * @throws IllegalArgumentException if the password is empty
     */
    public static KeyProvider password(char[] password) {
        Objects.requireNonNull(password, "password");
        if (password.length == 0) {
            throw new IllegalArgumentException("the repository password must not be empty");
        }
        ByteBuffer encoded = StandardCharsets.UTF_8.encode(CharBuffer.wrap(password));
        byte[] bytes = new byte[encoded.remaining()];
        encoded.get(bytes);
        if (encoded.hasArray()) {
            Arrays.fill(encoded.array(), (byte) 0);
        }
        return new KeyProvider(Kind.PASSWORD, bytes);
    }

    /**
     * A raw 256-bit key.
     *
     * @throws IllegalArgumentException if the key is not 32 bytes
     */
    public static KeyProvider rawKey(byte[] key) {
        Objects.requireNonNull(key, "key");
        if (key.length != 32) {
            throw new IllegalArgumentException("a raw repository key must be 32 bytes, was " + key.length);
        }
        return new KeyProvider(Kind.RAW, key.clone());
    }

    /** How this provider derives its key. */
    public Kind kind() {
        return kind;
    }

    /**
     * Derives the 32-byte key-encryption key for a slot with the given salt and KDF parameters
     * (ignored for {@link Kind#RAW}).
     */
    byte[] deriveKeyEncryptionKey(byte[] salt, KdfParameters kdf) {
        if (kind == Kind.RAW) {
            return secret.clone();
        }
        Argon2Parameters params = new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
                .withVersion(Argon2Parameters.ARGON2_VERSION_13)
                .withSalt(salt)
                .withMemoryAsKB(kdf.memoryKiB())
                .withIterations(kdf.iterations())
                .withParallelism(kdf.parallelism())
                .build();
        Argon2BytesGenerator generator = new Argon2BytesGenerator();
        generator.init(params);
        byte[] out = new byte[32];
        generator.generateBytes(secret, out);
        return out;
    }

    @Override
    public String toString() {
        return "KeyProvider[" + kind + "]";
    }
}
