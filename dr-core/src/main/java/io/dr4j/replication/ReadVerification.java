package io.dr4j.replication;

/** How {@link ReplicatedBlobStore} checks the bytes a member returns before handing them out. */
public enum ReadVerification {
    /**
     * The bytes must have the size the member itself reports ({@code stat}) and, while a write of
     * the key is owed, the size of that write. Catches truncated and padded reads.
     */
    SIZE,
    /**
     * As {@link #SIZE}, and {@code getBytes} also reads a second member and compares CRC32C
     * checksums; on a mismatch a third member decides by majority. Catches bit flips at the cost
     * of a second read.
     */
    REPLICAS
}
