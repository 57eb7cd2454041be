package io.dr4j.backup;

import java.util.Map;
import java.util.Objects;

/** The built-in {@link KeyProvider#rawKey} provider: the 32-byte key is the KEK; no parameters. Immutable, thread-safe. */
final class RawKey implements KeyProvider {

    private final byte[] secret;

    RawKey(byte[] key) {
        Objects.requireNonNull(key, "key");
        if (key.length != 32) {
            throw new IllegalArgumentException("a raw repository key must be 32 bytes, was " + key.length);
        }
        this.secret = key.clone();
    }

    @Override
    public String kind() {
        return RAW;
    }

    @Override
    public SlotKey newSlotKey(SlotRequest request) {
        return new SlotKey(secret.clone(), Map.of());
    }

    @Override
    public byte[] keyEncryptionKey(Map<String, String> parameters, SlotRequest request) {
        return secret.clone();
    }

    @Override
    public String toString() {
        return "KeyProvider[raw]";
    }
}
