package io.dr4j;

/**
 * The unchecked root of every dr4j failure above the storage SPI (which speaks
 * {@link java.io.IOException}), as {@code FailsafeException} is Failsafe's: catch this to catch
 * anything the library throws on purpose.
 *
 * <p>Immutable, hence thread-safe.
 */
public class Dr4jException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** @param message what failed, naming the object involved and the cause */
    public Dr4jException(String message) {
        super(message);
    }

    /**
     * @param message what failed, naming the object involved
     * @param cause the underlying failure
     */
    public Dr4jException(String message, Throwable cause) {
        super(message, cause);
    }
}
