package io.dr4j.backup;

import io.dr4j.Dr4jException;
import io.dr4j.backup.internal.Crypto;
import io.dr4j.backup.internal.RepositoryConfig;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStore;
import java.io.IOException;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Key slots: making one for a provider, opening one, and rewriting {@code config} when slots are
 * added, removed or changed.
 *
 * <p><b>Crash safety.</b> A slot change is one {@link BlobStore#put} of the whole config, which
 * the SPI makes atomic: a reader (and a process killed mid-change) sees the old config or the new
 * one, and every config written holds at least one slot wrapping the same master key under
 * unchanged settings, so it opens with the old keys or the new ones.
 *
 * <p><b>Concurrency.</b> Changes from one {@link Repository} are serialized. Two processes
 * changing slots at the same moment can overwrite each other's change (the store offers no
 * compare-and-swap of an existing object). Each re-reads {@code config} after writing and
 * reports a {@link Dr4jException} if its change is not there, which catches an overwrite that
 * lands before that re-read but not one that lands after it: then one change is lost although
 * both reported success. No interleaving leaves a config without a slot or with a slot that does
 * not open. Run key changes from one place at a time, and list the slots afterwards.
 */
final class KeyRing {

    static final BlobKey CONFIG = BlobKey.of("config");

    private KeyRing() {
    }

    /** The master key and the slot that unwrapped it. */
    record Unlocked(byte[] master, String slotId, KdfParameters kdf) {
    }

    /** A new slot holding {@code master} under {@code key}'s KEK. */
    static RepositoryConfig.KeySlot newSlot(RepositoryConfig config, KeyProvider key, byte[] master, KdfParameters kdf,
            String label, Instant now, String id) {
        String kind = key.kind();
        boolean builtIn = key instanceof PasswordKey || key instanceof RawKey;
        if (!RepositoryConfig.KeySlot.validKind(kind) || (!builtIn && (kind.equals(KeyProvider.PASSWORD)
                || kind.equals(KeyProvider.RAW)))) {
            throw new IllegalArgumentException("key provider " + key + " has kind '" + kind + "': a provider's kind is 1 to 64"
                    + " characters a-z 0-9 . _ : - starting with a letter, and 'password' and 'raw' are reserved for the"
                    + " built-in providers");
        }
        if (label.length() > 200 || label.chars().anyMatch(Character::isISOControl)) {
            throw new IllegalArgumentException("a key slot label is at most 200 characters without control characters");
        }
        KeyProvider.SlotKey slotKey = key.newSlotKey(new KeyProvider.SlotRequest(config.id(), kdf));
        byte[] kek = slotKey.keyEncryptionKey();
        try {
            byte[] wrapped = Crypto.wrap(kek, master, config.context());
            return new RepositoryConfig.KeySlot(id, kind, label, now, kind.equals(KeyProvider.PASSWORD) ? kdf : null,
                    slotKey.parameters(), wrapped);
        } finally {
            Arrays.fill(kek, (byte) 0);
        }
    }

    static String newId(RepositoryConfig config) {
        while (true) {
            String id = HexFormat.of().formatHex(Crypto.randomBytes(4));
            if (config.slots().stream().noneMatch(s -> s.id().equals(id))) {
                return id;
            }
        }
    }

    /** Opens the first slot of {@code key}'s kind that it unlocks, in array order (FORMAT.md §Config). */
    static Optional<Unlocked> unlock(RepositoryConfig config, KeyProvider key) {
        for (RepositoryConfig.KeySlot slot : config.slots()) {
            if (!slot.kind().equals(key.kind())) {
                continue;
            }
            KdfParameters kdf = slot.kdf() == null ? KdfParameters.DEFAULT : slot.kdf();
            byte[] kek;
            try {
                kek = key.keyEncryptionKey(slot.parameters(), new KeyProvider.SlotRequest(config.id(), kdf));
            } catch (WrongKeyException e) {
                continue;
            }
            if (kek == null || kek.length != 32) {
                continue;
            }
            try {
                byte[] master = Crypto.unwrap(kek, slot.wrapped(), config.context());
                if (master != null && master.length == Crypto.MASTER_LENGTH) {
                    return Optional.of(new Unlocked(master, slot.id(), kdf));
                }
            } finally {
                Arrays.fill(kek, (byte) 0);
            }
        }
        return Optional.empty();
    }

    static boolean hasKind(RepositoryConfig config, String kind) {
        return config.slots().stream().anyMatch(s -> s.kind().equals(kind));
    }

    static KeySlot describe(RepositoryConfig.KeySlot slot, String currentId) {
        return new KeySlot(slot.id(), slot.kind(), slot.label(), Optional.ofNullable(slot.created()),
                slot.id().equals(currentId));
    }

    static RepositoryConfig read(BlobStore store) {
        try {
            return RepositoryConfig.fromJson(store.getBytes(CONFIG), store.name() + ": config");
        } catch (IOException e) {
            throw new Dr4jException("cannot read the repository config from " + store.name() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Rewrites {@code config} with {@code change} applied to its current slot list. Refuses a
     * config whose settings differ from {@code opened} (another repository, or tampered), and a
     * result without a slot; re-reads after writing to detect a concurrent overwrite.
     */
    static RepositoryConfig update(BlobStore store, RepositoryConfig opened, UnaryOperator<List<RepositoryConfig.KeySlot>> change) {
        RepositoryConfig stored = read(store);
        if (!MessageDigest.isEqual(stored.context(), opened.context())) {
            throw new Dr4jException("the config in " + store.name() + " no longer has the settings this repository was opened"
                    + " with; nothing was changed");
        }
        // every slot kept must still open to this master key: a slot list is only ever edited, never replaced
        List<RepositoryConfig.KeySlot> slots = change.apply(new ArrayList<>(stored.slots()));
        if (slots.isEmpty()) {
            throw new IllegalArgumentException("a repository keeps at least one key slot; nothing was changed");
        }
        RepositoryConfig next = stored.withSlots(slots);
        byte[] json = next.toJson();
        try {
            store.put(CONFIG, json);
        } catch (IOException e) {
            throw new Dr4jException("writing the repository config to " + store.name() + " failed (the old or the new key"
                    + " slots are in place; list them to see which): " + e.getMessage(), e);
        }
        RepositoryConfig after = read(store);
        if (!Arrays.equals(after.toJson(), json)) {
            throw new Dr4jException("another key change to " + store.name() + " overwrote this one at the same moment; list"
                    + " the key slots and repeat the change");
        }
        return after;
    }
}
