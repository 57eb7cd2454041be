package io.dr4j.backup;

import java.util.List;

/**
 * What {@link Repository#verify} found.
 *
 * @param snapshot the snapshot checked
 * @param level how thoroughly
 * @param chunksChecked distinct chunks checked
 * @param bytesChecked plaintext bytes read and authenticated (0 at {@link VerifyLevel#METADATA})
 * @param problems what is wrong, one entry per bad object; empty when the snapshot is intact
 */
public record VerifyReport(SnapshotId snapshot, VerifyLevel level, long chunksChecked, long bytesChecked,
        List<Problem> problems) {

    public VerifyReport {
        problems = List.copyOf(problems);
    }

    /**
     * One bad object.
     *
     * @param object the store key of the object
     * @param reason what is wrong with it
     * @param affectedFiles paths of the files in the snapshot that need it
     */
    public record Problem(String object, String reason, List<String> affectedFiles) {
        public Problem {
            affectedFiles = List.copyOf(affectedFiles);
        }
    }

    /** Whether no problem was found. */
    public boolean ok() {
        return problems.isEmpty();
    }
}
