package io.dr4j.replication;

/** How deeply {@link ReplicatedBlobStore#verifyConsistency} and {@link ReplicatedBlobStore#repair} compare members. */
public enum ConsistencyCheck {
    /** Compare listings and sizes only: cheap (one listing per member). */
    SIZES,
    /** Also read every object on every member and compare CRC32C checksums: finds same-size corruption, costs a full read. */
    CONTENTS
}
