package io.dr4j.drill;

/**
 * A caller's check that a restored checkpoint is usable, run by a {@link DrillRunner} after the
 * restore and before the scratch copy is removed: load the model from {@code restored} and run one
 * inference, say. Throwing fails the drill with the exception's message; returning passes it.
 * The time it takes counts towards the recovery time. Implementations are called from the thread
 * that runs the drill, one drill at a time per runner.
 */
@FunctionalInterface
public interface SmokeCheck {

    /**
     * Checks the restored checkpoint.
     *
     * @param restored the directory (or file) the snapshot was restored to; removed after this returns
     * @throws Exception if the checkpoint is not usable
     */
    void check(java.nio.file.Path restored) throws Exception;
}
