package io.dr4j.backup;

import io.dr4j.Dr4jException;
import java.util.List;
import java.util.Objects;

/**
 * The key-slot operations of one open {@link Repository}: list, add, remove and change slots,
 * over {@link KeyRing}'s reading, wrapping and rewriting of {@code config}. The crash-safety and
 * concurrency rules are {@link KeyRing}'s; {@link Repository} serializes the changes of one
 * repository (its key methods are {@code synchronized}).
 */
final class KeySlots {

    private final Context ctx;
    private final KeyRing.Unlocked unlocked;
    private final String storeName;

    KeySlots(Context ctx, KeyRing.Unlocked unlocked, String storeName) {
        this.ctx = ctx;
        this.unlocked = unlocked;
        this.storeName = storeName;
    }

    /** The KDF settings of the slot the repository was opened with. */
    KdfParameters openedKdf() {
        return unlocked.kdf();
    }

    List<KeySlot> list() {
        return KeyRing.read(ctx.store(), ctx.options(), null).slots().stream()
                .map(s -> KeyRing.describe(s, unlocked.slotId())).toList();
    }

    KeySlot add(KeyProvider key, String label, KdfParameters kdf) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(label, "label");
        Objects.requireNonNull(kdf, "kdf");
        RepositoryConfig current = KeyRing.read(ctx.store(), ctx.options(), null);
        RepositoryConfig.KeySlot slot = KeyRing.newSlot(ctx.config(), key, unlocked.master(), kdf, label,
                ctx.options().clock().instant(), KeyRing.newId(current));
        KeyRing.update(ctx.store(), ctx.config(), ctx.options(), slots -> {
            slots.add(slot);
            return slots;
        });
        return KeyRing.describe(slot, unlocked.slotId());
    }

    void remove(String slotId) {
        Objects.requireNonNull(slotId, "slotId");
        if (slotId.equals(unlocked.slotId())) {
            throw new IllegalArgumentException("key slot " + slotId + " is the one this repository was opened with; open it"
                    + " with another key to remove this one");
        }
        KeyRing.update(ctx.store(), ctx.config(), ctx.options(), slots -> {
            if (slots.stream().noneMatch(s -> s.id().equals(slotId))) {
                throw new IllegalArgumentException("no key slot " + slotId + " in " + storeName + " (see the key slot list)");
            }
            if (slots.size() == 1) {
                throw new IllegalArgumentException("key slot " + slotId + " is the repository's only one; add another before"
                        + " removing it");
            }
            slots.removeIf(s -> s.id().equals(slotId));
            return slots;
        });
    }

    KeySlot change(KeyProvider current, KeyProvider replacement) {
        Objects.requireNonNull(current, "current");
        Objects.requireNonNull(replacement, "replacement");
        RepositoryConfig stored = KeyRing.read(ctx.store(), ctx.options(), null);
        KeyRing.Unlocked old = KeyRing.unlock(stored, current).filter(u -> java.security.MessageDigest.isEqual(u.master(),
                unlocked.master())).orElseThrow(() -> new WrongKeyException("the current " + (current.kind().equals(
                        KeyProvider.PASSWORD) ? "password" : "key") + " does not open any key slot of the repository in "
                        + storeName + "; nothing was changed"));
        RepositoryConfig.KeySlot before = stored.slots().stream().filter(s -> s.id().equals(old.slotId())).findFirst().orElseThrow();
        RepositoryConfig.KeySlot slot = KeyRing.newSlot(ctx.config(), replacement, unlocked.master(), old.kdf(), before.label(),
                ctx.options().clock().instant(), before.id());
        KeyRing.update(ctx.store(), ctx.config(), ctx.options(), slots -> {
            int at = -1;
            for (int i = 0; i < slots.size(); i++) {
                if (slots.get(i).id().equals(before.id())) {
                    at = i;
                }
            }
            if (at < 0) {
                throw new Dr4jException("key slot " + before.id() + " was removed meanwhile; nothing was changed");
            }
            slots.set(at, slot);
            return slots;
        });
        return KeyRing.describe(slot, unlocked.slotId());
    }
}
