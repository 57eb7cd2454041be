package io.dr4j.backup;

import java.security.GeneralSecurityException;
import java.security.Provider;
import java.util.Locale;
import javax.crypto.Cipher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses who computes AES-256-GCM: Conscrypt (BoringSSL through JNI) where its native library
 * loads, else the JDK's own provider. Both implement the same standard, so objects sealed by one
 * open with the other; the repository format does not depend on the choice.
 *
 * <p>Why not always the JDK: JDK 17 runs GHASH and AES-CTR as plain Java until C2 has compiled
 * their callers, which in a fresh JVM takes one to several seconds at 30–70 MB/s (measured:
 * a 2 GiB restore spent ~75% of its first seconds there). BoringSSL is at full speed from the
 * first byte. Set the system property {@value #PROPERTY} to {@code jdk} to force the JDK
 * provider, or to {@code conscrypt} to fail instead of falling back. Thread-safe.
 */
final class GcmProvider {

    /** System property choosing the provider: {@code auto} (default), {@code conscrypt} or {@code jdk}. */
    public static final String PROPERTY = "dr4j.crypto.gcm";
    static final String TRANSFORMATION = "AES/GCM/NoPadding";
    private static final Logger LOG = LoggerFactory.getLogger(GcmProvider.class);
    private static final Provider CHOSEN = choose(System.getProperty(PROPERTY, "auto").toLowerCase(Locale.ROOT));

    private GcmProvider() {
    }

    /** The provider in use, or null for the JDK's default. */
    static Provider provider() {
        return CHOSEN;
    }

    /** A short name of the implementation in use, for logs and reports: "Conscrypt" or "JDK". */
    public static String name() {
        return CHOSEN == null ? "JDK" : CHOSEN.getName();
    }

    /** A new AES/GCM/NoPadding cipher from the chosen provider. */
    static Cipher newCipher() {
        return newCipher(CHOSEN);
    }

    /** A new AES/GCM/NoPadding cipher from {@code provider} (null: the JDK's default). */
    static Cipher newCipher(Provider provider) {
        try {
            return provider == null ? Cipher.getInstance(TRANSFORMATION) : Cipher.getInstance(TRANSFORMATION, provider);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(TRANSFORMATION + " unavailable from " + (provider == null ? "the JDK" : provider.getName()), e);
        }
    }

    /** Loads Conscrypt, or returns null if it cannot run here. */
    static Provider conscrypt() {
        try {
            if (!org.conscrypt.Conscrypt.isAvailable()) {
                return null;
            }
            Provider p = org.conscrypt.Conscrypt.newProvider();
            Cipher.getInstance(TRANSFORMATION, p); // the native library really works
            return p;
        } catch (LinkageError | RuntimeException | GeneralSecurityException e) {
            LOG.debug("Conscrypt unavailable: {}", e.toString());
            return null;
        }
    }

    private static Provider choose(String setting) {
        switch (setting) {
            case "jdk":
                return null;
            case "conscrypt": {
                Provider p = conscrypt();
                if (p == null) {
                    throw new IllegalStateException(PROPERTY + "=conscrypt, but Conscrypt's native library does not load on "
                            + System.getProperty("os.name") + "/" + System.getProperty("os.arch"));
                }
                return p;
            }
            case "auto": {
                Provider p = conscrypt();
                if (p == null) {
                    LOG.info("AES-GCM: Conscrypt does not load on {}/{}; using the JDK's provider (slower in a fresh JVM)",
                            System.getProperty("os.name"), System.getProperty("os.arch"));
                }
                return p;
            }
            default:
                throw new IllegalStateException(PROPERTY + " must be auto, conscrypt or jdk, was '" + setting + "'");
        }
    }
}
