package io.dr4j.examples.cli;

import javax.crypto.Cipher;

/**
 * Loads, on a daemon thread, what every repository command needs after the password is known,
 * while the main thread parses the command line and runs the key derivation (Argon2id, one core
 * for ~0.6 s on the project's VM): Conscrypt's native library and its AES-GCM cipher, the JCE
 * policy, zstd's native library and BouncyCastle's Argon2. On 2 vCPUs the second core is
 * otherwise idle until the data phase starts.
 *
 * <p>Only loading that cannot change an outcome is done here: a library that fails to load is
 * ignored, and the code that needs it reports the failure itself, as without the preload
 * ({@code Conscrypt.isAvailable()} and zstd's {@code Native.load()} keep no poisoned state; no
 * class of the engine is initialised here, so no failure of theirs moves to this thread). Only
 * {@link Dr4jCommand#main} starts it; {@link Dr4jCommand#execute} (tests, embedding) does not.
 */
final class Preload {

    private Preload() {
    }

    static void start() {
        Thread thread = new Thread(Preload::run, "dr4j-preload");
        thread.setDaemon(true);
        thread.setPriority(Thread.MIN_PRIORITY);
        thread.start();
    }

    private static void run() {
        quietly(() -> {
            if (org.conscrypt.Conscrypt.isAvailable()) {
                Cipher.getInstance("AES/GCM/NoPadding", org.conscrypt.Conscrypt.newProvider());
            }
        });
        quietly(com.github.luben.zstd.util.Native::load);
        quietly(() -> Class.forName("org.bouncycastle.crypto.generators.Argon2BytesGenerator", true,
                Preload.class.getClassLoader()));
        // not SLF4J: initialising it here while the main thread gets loggers makes SLF4J print a
        // "logging calls intercepted during initialization" notice, which would change the output
    }

    private interface Step {
        void run() throws Exception;
    }

    private static void quietly(Step step) {
        try {
            step.run();
        } catch (Exception | LinkageError e) {
            // the code that needs it loads it again and reports what fails
        }
    }
}
