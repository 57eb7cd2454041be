package io.dr4j.examples;

import io.dr4j.backup.InitOptions;
import io.dr4j.backup.KeyProvider;
import io.dr4j.backup.KeySlot;
import io.dr4j.backup.Repository;
import io.dr4j.backup.RepositoryOptions;
import io.dr4j.backup.Snapshot;
import io.dr4j.backup.VerifyLevel;
import io.dr4j.backup.WrongKeyException;
import io.dr4j.storage.LocalBlobStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Unlocking a repository through the application's own key service (KMS) instead of a password:
 * an implementation of the {@link KeyProvider} SPI doing envelope encryption. Each key slot gets
 * a fresh random key-encryption key (a "data key"); the provider stores it in the slot only
 * encrypted by the KMS key, with the repository id bound as encryption context, and asks the KMS
 * to decrypt it when the repository is opened. The master key never leaves dr4j; the KMS never
 * sees it; revoking the KMS key (or the application's permission to use it) locks the slot.
 *
 * <p>Here a local 32-byte key file stands in for the KMS: {@link LocalKmsKeyProvider} is what an
 * AWS KMS provider looks like with {@code GenerateDataKey} and {@code Decrypt} (or Azure Key
 * Vault with {@code wrapKey}/{@code unwrapKey}) in place of the two AES-GCM calls.
 *
 * <p>Run: {@code mvn -B -q -pl examples -am package -DskipTests && java -cp examples/target/dr4j.jar
 * io.dr4j.examples.KmsWrappedKeyExample}
 */
public final class KmsWrappedKeyExample {

    private KmsWrappedKeyExample() {
    }

    /**
     * A {@link KeyProvider} of kind {@code local-kms} over a key file. Slot parameters:
     * {@code keyId} (the SHA-256 fingerprint of the KMS key, so a slot names the key it needs),
     * {@code nonce} and {@code encryptedKey} (the data key under AES-256-GCM, repository id as
     * associated data). Immutable and thread-safe; the key never appears in {@link #toString()}.
     */
    public static final class LocalKmsKeyProvider implements KeyProvider {
        private final byte[] kmsKey;
        private final String keyId;

        /** Reads the 32-byte KMS key from {@code keyFile}. */
        public LocalKmsKeyProvider(Path keyFile) throws IOException {
            byte[] key = Files.readAllBytes(keyFile);
            if (key.length != 32) {
                throw new IllegalArgumentException("KMS key file " + keyFile + " must hold 32 bytes, holds " + key.length);
            }
            this.kmsKey = key;
            this.keyId = fingerprint(key);
        }

        @Override
        public String kind() {
            return "local-kms";
        }

        @Override
        public SlotKey newSlotKey(SlotRequest request) {
            SecureRandom random = new SecureRandom();
            byte[] dataKey = new byte[32];
            random.nextBytes(dataKey);
            byte[] nonce = new byte[12];
            random.nextBytes(nonce);
            byte[] encrypted = crypt(Cipher.ENCRYPT_MODE, nonce, dataKey, request.repositoryId());
            return new SlotKey(dataKey, Map.of("keyId", keyId, "nonce", Base64.getEncoder().encodeToString(nonce),
                    "encryptedKey", Base64.getEncoder().encodeToString(encrypted)));
        }

        @Override
        public byte[] keyEncryptionKey(Map<String, String> parameters, SlotRequest request) {
            if (!keyId.equals(parameters.get("keyId"))) {
                // another KMS key's slot: not ours to try (the library moves on to the next slot)
                throw new WrongKeyException("slot is wrapped by KMS key " + parameters.get("keyId") + ", not " + keyId);
            }
            return crypt(Cipher.DECRYPT_MODE, Base64.getDecoder().decode(parameters.get("nonce")),
                    Base64.getDecoder().decode(parameters.get("encryptedKey")), request.repositoryId());
        }

        private byte[] crypt(int mode, byte[] nonce, byte[] data, String repositoryId) {
            try {
                Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
                c.init(mode, new SecretKeySpec(kmsKey, "AES"), new GCMParameterSpec(128, nonce));
                c.updateAAD(("dr4j-example-kms|" + repositoryId).getBytes(StandardCharsets.UTF_8));
                return c.doFinal(data);
            } catch (AEADBadTagException e) {
                throw new WrongKeyException("KMS key " + keyId + " cannot decrypt this slot's key (wrong key or tampered slot)");
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("AES-GCM is unavailable", e);
            }
        }

        private static String fingerprint(byte[] key) {
            try {
                return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key), 0, 8);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public String toString() {
            return "LocalKmsKeyProvider[" + keyId + "]";
        }
    }

    /** Writes a new random 32-byte key file readable by its owner only (the stand-in for creating a KMS key). */
    public static Path createKmsKey(Path file) throws IOException {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        Files.write(file, key);
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: the directory's permissions protect it
        }
        Arrays.fill(key, (byte) 0);
        return file;
    }

    public static void main(String[] args) throws IOException {
        Path dir = Files.createTempDirectory("dr4j-kms-example-");
        try {
            run(dir);
        } finally {
            try (var walk = Files.walk(dir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
                    try {
                        Files.delete(p);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
        }
    }

    /** The example's steps, in {@code dir}; returns what it printed, for its test. */
    static String run(Path dir) throws IOException {
        StringBuilder log = new StringBuilder();
        Path kmsKey = createKmsKey(dir.resolve("kms.key"));
        Path checkpoint = Files.createDirectories(dir.resolve("ckpt"));
        Files.writeString(checkpoint.resolve("config.json"), "{\"hidden_size\": 4096}\n");
        try (LocalBlobStore store = LocalBlobStore.open(dir.resolve("repo"))) {
            // 1. an operator creates the repository with a break-glass password kept offline
            KeyProvider breakGlass = KeyProvider.password("break-glass: printed, in the safe".toCharArray());
            try (Repository repo = Repository.init(store, breakGlass, InitOptions.defaults(), RepositoryOptions.defaults())) {
                // 2. and adds a slot the application unlocks through the KMS, with no secret on its disk
                KeySlot slot = repo.addKey(new LocalKmsKeyProvider(kmsKey), "model-server via KMS");
                log.append("added key slot ").append(slot.id()).append(" (").append(slot.kind()).append(")\n");
            }
            // 3. the model server opens the repository with the KMS alone
            try (Repository repo = Repository.open(store, new LocalKmsKeyProvider(kmsKey))) {
                Snapshot s = repo.backup(checkpoint);
                log.append("backed up ").append(s.id().shortId()).append(" through the KMS slot; verify: ")
                        .append(repo.verify(s.id(), VerifyLevel.DATA).ok() ? "intact" : "DAMAGED").append('\n');
                for (KeySlot k : repo.keySlots()) {
                    log.append("  slot ").append(k.id()).append(' ').append(k.kind()).append(' ').append(k.label())
                            .append(k.current() ? " (current)" : "").append('\n');
                }
            }
            // 4. another KMS key does not open it
            Path otherKey = createKmsKey(dir.resolve("other-kms.key"));
            try (Repository repo = Repository.open(store, new LocalKmsKeyProvider(otherKey))) {
                log.append("UNEXPECTED: another KMS key opened the repository\n");
            } catch (WrongKeyException e) {
                log.append("another KMS key is refused: ").append(e.getMessage()).append('\n');
            }
        }
        System.out.print(log);
        return log.toString();
    }
}
