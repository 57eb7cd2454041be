package io.dr4j.backup;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

/**
 * The built-in {@link KeyProvider#password} provider: KEK = Argon2id (version 0x13) of the
 * password's UTF-8 bytes with the slot's 16-byte salt. Its one parameter is {@code salt}
 * (base64); the KDF settings travel in {@link KeyProvider.SlotRequest#kdf()}. Immutable, thread-safe.
 */
final class PasswordKey implements KeyProvider {

    private final byte[] secret;

    PasswordKey(char[] password) {
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
        this.secret = bytes;
    }

    @Override
    public String kind() {
        return PASSWORD;
    }

    @Override
    public SlotKey newSlotKey(SlotRequest request) {
        byte[] salt = Crypto.randomBytes(16);
        return new SlotKey(derive(salt, request.kdf()), Map.of("salt", Base64.getEncoder().encodeToString(salt)));
    }

    @Override
    public byte[] keyEncryptionKey(Map<String, String> parameters, SlotRequest request) {
        return derive(Base64.getDecoder().decode(parameters.get("salt")), request.kdf());
    }

    private byte[] derive(byte[] salt, KdfParameters kdf) {
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
        return "KeyProvider[password]";
    }
}
