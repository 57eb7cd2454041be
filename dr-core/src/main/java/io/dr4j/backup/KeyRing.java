package io.dr4j.backup;

import io.dr4j.Dr4jException;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.BlobStore;
import java.io.IOException;
import java.security.MessageDigest;
import java.time.Duration;
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
 * <p><b>Concurrency.</b> A change is a read-modify-write of {@code config}, which the store
 * cannot compare-and-swap, so it runs under the repository's exclusive lock
 * ({@link RepositoryLock}, as prune): two processes changing slots at once are serialized and
 * both changes survive. A change that meets another key change's lock waits for it (with jitter,
 * up to {@link #WAIT_FOR_OTHER_CHANGES}); one that meets a backup, copy or prune is refused with
 * a {@link RepositoryLockedException} naming the holder, and changes nothing. After writing, the
 * config is read again and a change not there is reported, as a last guard against a writer
 * that ignores the lock (an older client).
 */
final class KeyRing {

    static final BlobKey CONFIG = BlobKey.of("config");
    /** The purpose a key change's lock carries; other key changes wait for a lock with it. */
    static final String LOCK_PURPOSE = "key slot change";
    /** How long a key change waits for other key changes' locks before it gives up. */
    static final Duration WAIT_FOR_OTHER_CHANGES = Duration.ofSeconds(60);

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

    /**
     * Reads and parses {@code config}, within {@code limits}, through
     * {@link BlobStore#getBytesVerified}: a damaged copy (not a whole config of any dr4j version) is
     * rejected, so a store with several copies reads around it and repairs it; a genuine copy this
     * reader cannot use (a newer version, over {@code limits}, or, given {@code opened}, other
     * settings than it) is accepted by the check and refused after it, so no copy is repaired from it. The check is deliberately not "opens with this key": a store repairs the copies that
     * fail the check from one that passes, and an older config still holding a removed (or
     * changed) key slot would pass it where the current one fails, rolling the removal back.
     *
     * @param opened the config the repository was opened with, or null when opening it
     * @throws java.nio.file.NoSuchFileException if there is no config
     * @throws UnsupportedFormatException or {@link ReaderLimitException} if no copy parses within the limits
     */
    static RepositoryConfig read(BlobStore store, ReaderLimits limits, RepositoryConfig opened) throws IOException {
        String where = store.name() + ": config";
        // Only a damaged copy is rejected inside the check: a genuine config this reader cannot use
        // (a newer version, over its limits, other settings) passes it and is refused afterwards, so
        // a replicated store never repairs a newer config with an older copy this reader prefers.
        Object outcome = Ceilings.read(store, CONFIG, limits.maxConfigBytes(), "maxConfigBytes", where, json -> {
            RepositoryConfig config;
            try {
                config = RepositoryConfig.fromJson(json, where, limits);
            } catch (UnsupportedFormatException | ReaderLimitException e) {
                if (RepositoryConfig.isWrittenWhole(json)) {
                    return e;
                }
                throw e;
            }
            if (opened != null && !MessageDigest.isEqual(config.context(), opened.context())) {
                return new Dr4jException("the config in " + store.name() + " no longer has the settings this repository was"
                        + " opened with; nothing was changed");
            }
            return config;
        });
        if (outcome instanceof Dr4jException unusable) {
            throw unusable;
        }
        return (RepositoryConfig) outcome;
    }

    /** {@link #read(BlobStore, ReaderLimits, RepositoryConfig)} of an open repository's config, failures unchecked. */
    static RepositoryConfig read(BlobStore store, RepositoryOptions options, RepositoryConfig opened) {
        try {
            return read(store, options.readerLimits(), opened);
        } catch (IOException e) {
            throw new Dr4jException("cannot read the repository config from " + store.name() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Rewrites {@code config} with {@code change} applied to its current slot list, under the
     * exclusive lock (see the class comment). Refuses a config whose settings differ from
     * {@code opened} (another repository, or tampered), and a result without a slot; re-reads
     * after writing to detect an overwrite by a writer that ignored the lock.
     *
     * @throws RepositoryLockedException if a backup, copy or prune holds the repository, or other
     *         key changes held it for longer than {@link #WAIT_FOR_OTHER_CHANGES}
     */
    static RepositoryConfig update(BlobStore store, RepositoryConfig opened, RepositoryOptions options,
            UnaryOperator<List<RepositoryConfig.KeySlot>> change) {
        RepositoryLock lock = lockForChange(store, options);
        try {
            return updateLocked(store, opened, options, change);
        } finally {
            try {
                lock.close();
            } catch (IOException e) {
                // a lock left behind goes stale and is removed by the next prune or unlock
            }
        }
    }

    /**
     * Takes the exclusive lock for a slot change, waiting while only other slot changes hold the
     * repository (they are short), and refusing at once when anything else does.
     */
    private static RepositoryLock lockForChange(BlobStore store, RepositoryOptions options) {
        long deadline = System.nanoTime() + WAIT_FOR_OTHER_CHANGES.toNanos();
        while (true) {
            try {
                return RepositoryLock.acquire(store, RepositoryLock.Mode.EXCLUSIVE, options.host(), options.clock(),
                        options.lockStaleAfter(), LOCK_PURPOSE);
            } catch (RepositoryLockedException e) {
                boolean onlyKeyChanges;
                try {
                    onlyKeyChanges = RepositoryLock.holders(store, options.lockStaleAfter()).stream()
                            .filter(h -> !h.stale()).allMatch(h -> h.purpose().equals(LOCK_PURPOSE));
                } catch (IOException listing) {
                    e.addSuppressed(listing);
                    onlyKeyChanges = false;
                }
                if (!onlyKeyChanges || System.nanoTime() > deadline) {
                    throw new RepositoryLockedException(e.getMessage() + "; no key slot was changed", e);
                }
                try {
                    // both racers may back off: a random pause lets one of them win the next round
                    Thread.sleep(20 + java.util.concurrent.ThreadLocalRandom.current().nextInt(200));
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new OperationCancelledException("key slot change in " + store.name()
                            + " was interrupted while waiting for another key change; nothing was changed");
                }
            } catch (IOException e) {
                throw new Dr4jException("cannot lock the repository in " + store.name() + " for a key slot change: "
                        + e.getMessage() + "; nothing was changed", e);
            }
        }
    }

    /** {@link #update(BlobStore, RepositoryConfig, RepositoryOptions, UnaryOperator)} once the lock is held. */
    private static RepositoryConfig updateLocked(BlobStore store, RepositoryConfig opened, RepositoryOptions options,
            UnaryOperator<List<RepositoryConfig.KeySlot>> change) {
        RepositoryConfig stored = read(store, options, opened); // refuses a config with other settings
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
        RepositoryConfig after = read(store, options, opened);
        if (!Arrays.equals(after.toJson(), json)) {
            throw new Dr4jException("another key change to " + store.name() + " overwrote this one at the same moment; list"
                    + " the key slots and repeat the change");
        }
        return after;
    }
}
