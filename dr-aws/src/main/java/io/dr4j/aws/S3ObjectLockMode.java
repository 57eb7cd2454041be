package io.dr4j.aws;

/**
 * The S3 Object Lock retention mode of {@link S3BlobStoreBuilder#objectLock}. dr4j's own enum, so
 * that no AWS SDK type is part of the builder's signature. Immutable and thread-safe.
 */
public enum S3ObjectLockMode {
    /** Users with {@code s3:BypassGovernanceRetention} can still shorten or remove the retention. */
    GOVERNANCE,
    /** Nobody, not even the account's root user, can shorten or remove the retention: choose it deliberately. */
    COMPLIANCE
}
