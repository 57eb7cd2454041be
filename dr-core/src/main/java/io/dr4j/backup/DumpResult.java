package io.dr4j.backup;

/**
 * What {@link Repository#dump} wrote and read.
 *
 * @param snapshot the snapshot the file came from
 * @param path the file's path in the snapshot
 * @param bytes bytes written (the file's size)
 * @param storeReads ranged reads of packs
 * @param storedBytesRead stored bytes those reads fetched (about the file's stored size, never whole packs for one file)
 */
public record DumpResult(SnapshotId snapshot, String path, long bytes, long storeReads, long storedBytesRead) {
}
