package io.dr4j.storage;

/**
 * Optional features a {@link BlobStore} declares through {@link BlobStore#capabilities()}. A
 * declared capability is a tested one: the contract suite runs the tests of every capability a
 * store declares.
 */
public enum Capability {
    /**
     * {@link BlobStore#putIfAbsent} is enforced by the store atomically: of concurrent writers of
     * one key exactly one succeeds. Without it, {@code putIfAbsent} is a best-effort check then
     * write.
     */
    CONDITIONAL_PUT,
    /** Objects can be made immutable until a retain-until time (S3 Object Lock, Azure immutability). */
    OBJECT_LOCK,
    /** Objects can be placed in colder storage classes or tiers per key prefix. */
    STORAGE_TIERS
}
