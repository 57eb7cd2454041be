package io.dr4j.backup;

import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Supplies the key that unlocks a repository: an extension point (SPI). A repository's data is
 * encrypted with a random master key; the master key is stored in the repository's {@code config}
 * once per <em>key slot</em>, wrapped (AES-256-GCM, bound to the repository's settings) by a
 * 32-byte key-encryption key (KEK) that a {@code KeyProvider} produces for a new slot and
 * recovers for an existing one (FORMAT.md §Config). The library does the wrapping itself, so
 * whatever the provider, a wrong key or a tampered config is detected when the repository is
 * opened, before any data is read.
 *
 * <p>Built in:
 * <ul>
 *   <li>{@link #password(char[])}: kind {@code password}; KEK = Argon2id over the password with
 *       the slot's salt and {@link KdfParameters} (memory-hard, so offline guessing is
 *       expensive);</li>
 *   <li>{@link #rawKey(byte[])}: kind {@code raw}; KEK = a 32-byte key the application manages
 *       (a secrets manager, a KMS-decrypted data key), used directly.</li>
 * </ul>
 *
 * <p>An application plugs in its own key management (envelope encryption, as with AWS KMS
 * {@code GenerateDataKey}/{@code Decrypt} or Azure Key Vault {@code wrapKey}/{@code unwrapKey})
 * by implementing the two methods: {@link #newSlotKey} makes a fresh KEK and returns it with the
 * parameters that recover it (for a KMS: the KEK encrypted by the KMS, and the KMS key's name);
 * {@link #keyEncryptionKey} recovers the KEK from those parameters (for a KMS: asks it to
 * decrypt). The parameters are stored in {@code config} in plain text, readable by anyone who
 * can read the store: they must not reveal the KEK. The example
 * {@code io.dr4j.examples.KmsWrappedKeyExample} does this with a local key file standing in for
 * the KMS.
 *
 * <p>Implementations must be thread-safe and must never put a secret in {@link #toString()} or
 * in an exception message. The built-in providers are immutable and copy the secret they are
 * given, so the caller may wipe its array.
 */
public interface KeyProvider {

    /** The kind of the built-in password provider. */
    String PASSWORD = "password";
    /** The kind of the built-in raw-key provider. */
    String RAW = "raw";

    /**
     * The slot kind this provider writes and opens, stored in each slot's {@code kind}: opening
     * tries only the slots of the provider's kind. An application-defined kind is 1 to 64
     * characters of {@code a-z 0-9 . _ : -}, starting with a letter, and not {@code password} or
     * {@code raw} (those are reserved for the built-in providers, whose slot layout is fixed).
     */
    String kind();

    /**
     * Makes the key-encryption key of a new slot.
     *
     * @param request the repository the slot is for, and the KDF settings a password provider uses
     * @return the 32-byte KEK and the parameters to store in the slot; the library wipes the KEK after use
     * @throws io.dr4j.Dr4jException if the key service fails
     */
    SlotKey newSlotKey(SlotRequest request);

    /**
     * Recovers the key-encryption key of an existing slot of this provider's kind from the
     * parameters {@link #newSlotKey} returned. A provider that holds another key than the slot's
     * returns a wrong KEK (the library then reports a wrong key) or throws
     * {@link WrongKeyException}.
     *
     * @param parameters the slot's stored parameters (as {@link #newSlotKey} returned them)
     * @param request the repository the slot belongs to, and the slot's KDF settings (password slots)
     * @return the 32-byte KEK; the library wipes it after use
     * @throws io.dr4j.Dr4jException if the key service fails
     */
    byte[] keyEncryptionKey(Map<String, String> parameters, SlotRequest request);

    /**
     * What a provider is told about the slot.
     *
     * @param repositoryId the repository's id (a KMS provider may bind it as encryption context)
     * @param kdf the KDF settings of a password slot; other providers ignore them
     */
    record SlotRequest(String repositoryId, KdfParameters kdf) {
        public SlotRequest {
            Objects.requireNonNull(repositoryId, "repositoryId");
            Objects.requireNonNull(kdf, "kdf");
        }
    }

    /**
     * A new slot's key-encryption key and the parameters stored with it.
     *
     * @param keyEncryptionKey 32 bytes
     * @param parameters at most 32 entries; names of 1 to 64 characters {@code A-Z a-z 0-9 . _ -},
     *                   values of at most 4096 characters; stored in plain text
     */
    record SlotKey(byte[] keyEncryptionKey, Map<String, String> parameters) {
        private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");

        public SlotKey {
            Objects.requireNonNull(keyEncryptionKey, "keyEncryptionKey");
            if (keyEncryptionKey.length != 32) {
                throw new IllegalArgumentException("a key-encryption key must be 32 bytes, was " + keyEncryptionKey.length);
            }
            parameters = Map.copyOf(parameters);
            if (parameters.size() > 32) {
                throw new IllegalArgumentException("a key slot holds at most 32 parameters, got " + parameters.size());
            }
            for (Map.Entry<String, String> e : parameters.entrySet()) {
                if (!NAME.matcher(e.getKey()).matches() || e.getValue().length() > 4096) {
                    throw new IllegalArgumentException("key slot parameter '" + e.getKey()
                            + "' has a bad name or a value over 4096 characters");
                }
            }
        }

        @Override
        public String toString() {
            return "SlotKey[parameters=" + parameters.keySet() + "]";
        }
    }

    /**
     * A password-derived key (Argon2id).
     *
     * @throws IllegalArgumentException if the password is empty
     */
    static KeyProvider password(char[] password) {
        return new PasswordKey(password);
    }

    /**
     * A raw 256-bit key.
     *
     * @throws IllegalArgumentException if the key is not 32 bytes
     */
    static KeyProvider rawKey(byte[] key) {
        return new RawKey(key);
    }
}
