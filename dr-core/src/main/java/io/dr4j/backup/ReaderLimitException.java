package io.dr4j.backup;

/**
 * An object in the store asks for more than a {@link ReaderLimits} ceiling allows (a KDF that
 * would take gigabytes of memory, thousands of key slots, an oversized manifest, index file or
 * pack header), and was refused before any resource was spent on it. The message names the
 * object, the field, the value found and the ceiling; if the value is legitimate, raise the
 * ceiling with {@link RepositoryOptions.Builder#readerLimits(ReaderLimits)}.
 *
 * <p>A subtype of {@link CorruptObjectException}: a repository dr4j wrote with its defaults never
 * exceeds the default ceilings, so an object that does is treated as damaged or hostile.
 */
public class ReaderLimitException extends CorruptObjectException {

    /** @param message names the object, the field, its value and the ceiling */
    public ReaderLimitException(String message) {
        super(message);
    }
}
