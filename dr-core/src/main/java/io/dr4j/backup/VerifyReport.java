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
 * @param subset which packs were to be read ({@link PackSubset#ALL} unless a subset was asked for)
 * @param packsRead packs whose needed blobs were read (0 at {@link VerifyLevel#METADATA})
 * @param packsTotal packs the snapshot needs (that exist)
 * @param storedBytesRead stored (sealed) bytes read from packs
 * @param storedBytesTotal stored bytes of all the blobs the snapshot needs: what a full data check reads
 */
public record VerifyReport(SnapshotId snapshot, VerifyLevel level, long chunksChecked, long bytesChecked,
        List<Problem> problems, PackSubset subset, long packsRead, long packsTotal, long storedBytesRead,
        long storedBytesTotal) {

    public VerifyReport {
        problems = List.copyOf(problems);
        java.util.Objects.requireNonNull(subset, "subset");
    }

    /** A report of a check of every pack, without pack counts. */
    public VerifyReport(SnapshotId snapshot, VerifyLevel level, long chunksChecked, long bytesChecked, List<Problem> problems) {
        this(snapshot, level, chunksChecked, bytesChecked, problems, PackSubset.ALL, 0, 0, 0, 0);
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
