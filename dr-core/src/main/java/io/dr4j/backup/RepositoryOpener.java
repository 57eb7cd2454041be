package io.dr4j.backup;

import io.dr4j.Dr4jException;
import io.dr4j.storage.BlobStore;
import io.dr4j.storage.RateLimitedBlobStore;
import io.dr4j.storage.RetryingBlobStore;
import io.dr4j.storage.transfer.NamedThreadFactory;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Creating and opening a repository's {@code config} for {@link Repository#init} and
 * {@link Repository#open}: the first config with its first key slot, reading and checking a
 * stored one, unlocking the master key, the store stack (rate limits, then retries) every
 * operation goes through, and the engine's {@link Context}. Stateless.
 */
final class RepositoryOpener {

    /** A config and the master key one of its slots unwrapped. */
    record Opened(RepositoryConfig config, KeyRing.Unlocked unlocked) {
    }

    private RepositoryOpener() {
    }

    /** Writes the config of a new repository into {@code store}, refusing a store that already holds one. */
    static Opened create(BlobStore store, KeyProvider key, InitOptions init, RepositoryOptions options) {
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(key, "key");
        String id = HexFormat.of().formatHex(Crypto.randomBytes(16));
        byte[] master = Crypto.randomBytes(Crypto.MASTER_LENGTH);
        RepositoryConfig unsigned = new RepositoryConfig(id, options.clock().instant(), init.chunker(),
                init.compressionLevel(), init.packSize(), init.tensorCodec(), List.of());
        RepositoryConfig config = unsigned.withSlots(List.of(KeyRing.newSlot(unsigned, key, master, init.kdf(), "",
                options.clock().instant(), HexFormat.of().formatHex(Crypto.randomBytes(4)))));
        try {
            store.putIfAbsent(KeyRing.CONFIG, config.toJson());
        } catch (FileAlreadyExistsException e) {
            throw new Dr4jException(store.name() + " already holds a repository (it has a config object); open it instead", e);
        } catch (IOException e) {
            throw new Dr4jException("cannot create a repository in " + store.name() + ": " + e.getMessage(), e);
        }
        return new Opened(config, new KeyRing.Unlocked(master, config.slots().get(0).id(), init.kdf()));
    }

    /** Reads and checks the config in {@code store} and unlocks it with {@code key}. */
    static Opened open(BlobStore store, KeyProvider key, RepositoryOptions options) {
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(key, "key");
        RepositoryConfig config;
        try {
            config = KeyRing.read(RetryingBlobStore.builder(store).maxAttempts(options.storeAttempts()).build(),
                    options.readerLimits(), null);
        } catch (NoSuchFileException e) {
            throw new UnsupportedFormatException(store.name() + " holds no dr4j repository (no config object); create one with init", e);
        } catch (IOException e) {
            throw new Dr4jException("cannot read the repository config from " + store.name() + ": " + e.getMessage(), e);
        }
        Optional<KeyRing.Unlocked> unlocked = KeyRing.unlock(config, key);
        if (unlocked.isPresent()) {
            return new Opened(config, unlocked.get());
        }
        String kind = key.kind();
        if (!KeyRing.hasKind(config, kind)) {
            throw new WrongKeyException("the repository in " + store.name() + " has no " + kind
                    + " key slot; open it with the kind of key it was created with");
        }
        throw new WrongKeyException("wrong " + (kind.equals(KeyProvider.PASSWORD) ? "password" : "key") + " for the repository in "
                + store.name() + " (or its config was tampered with)");
    }

    /**
     * What the engine needs of an opened repository: the {@link #engineStore}, the keys, the keyed
     * chunker, and the repository's two executors ({@link RepositoryOptions#workers()} CPU
     * threads, {@link RepositoryOptions#ioConcurrency()} I/O threads; the repository shuts them down).
     */
    static Context context(BlobStore rawStore, Opened opened, RepositoryOptions options) {
        RepositoryConfig config = opened.config();
        BlobStore store = engineStore(rawStore, options);
        Crypto crypto = new Crypto(opened.unlocked().master());
        ExecutorService cpu = Executors.newFixedThreadPool(options.workers(), new NamedThreadFactory("dr4j-cpu"));
        ExecutorService io = Executors.newFixedThreadPool(options.ioConcurrency(), new NamedThreadFactory("dr4j-io"));
        return new Context(store, crypto, crypto.chunker(config.chunker()), config, options, cpu, io);
    }

    /** {@code rawStore} as the engine sees it: rate-limited if limits are set, then retrying. */
    static BlobStore engineStore(BlobStore rawStore, RepositoryOptions options) {
        BlobStore limited = options.uploadLimit().isPresent() || options.downloadLimit().isPresent()
                ? RateLimitedBlobStore.wrap(rawStore, options.uploadLimit(), options.downloadLimit())
                : rawStore;
        return options.storeAttempts() > 1
                ? RetryingBlobStore.builder(limited).maxAttempts(options.storeAttempts()).build()
                : limited;
    }
}
