package io.dr4j.aws;

import io.dr4j.storage.transfer.KeyPrefixRules;
import java.time.Clock;
import java.time.Duration;

/**
 * The resolved, immutable settings of one {@link S3BlobStore}, as {@link S3BlobStoreBuilder}
 * validated them; read by the store's parts ({@link S3Uploader}, {@link S3Reader}).
 */
record S3Options(
        String bucket,
        String keyPrefix,
        long partSize,
        long multipartThreshold,
        int concurrency,
        boolean conditionalPuts,
        boolean contentMd5,
        int listPageSize,
        KeyPrefixRules<S3StorageClass> storageClasses,
        KeyPrefixRules<LockRule> locks,
        Clock clock) {

    /** An Object Lock rule: objects are retained in {@code mode} until the write time plus {@code retention}. */
    record LockRule(S3ObjectLockMode mode, Duration retention) {
    }

    /** The store's name: {@code s3://bucket[/prefix]}. */
    String storeName() {
        return "s3://" + bucket + (keyPrefix.isEmpty() ? "" : "/" + keyPrefix);
    }

    /** The S3 object key prefix: the key prefix and a slash, or empty. */
    String objectPrefix() {
        return keyPrefix.isEmpty() ? "" : keyPrefix + "/";
    }
}
