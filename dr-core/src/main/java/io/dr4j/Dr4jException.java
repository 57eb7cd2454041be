package io.dr4j;

/**
 * The root of dr4j's unchecked exceptions, as {@code FailsafeException} is for Failsafe: catch it
 * to handle every failure the library reports above the storage SPI. Subclasses name the cause
 * (a corrupt object, a wrong key, no healthy endpoint…); messages name the object and store
 * involved and never contain a secret.
 */
public class Dr4jException extends RuntimeException {

    /** @param message what failed and why */
    public Dr4jException(String message) {
        super(message);
    }

    /**
     * @param message what failed and why
     * @param cause the underlying failure
     */
    public Dr4jException(String message, Throwable cause) {
        super(message, cause);
    }
}
