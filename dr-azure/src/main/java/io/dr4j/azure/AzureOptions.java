package io.dr4j.azure;

import io.dr4j.storage.transfer.KeyPrefixRules;
import java.time.Clock;

/**
 * The resolved, immutable settings of one {@link AzureBlobStore}, as {@link AzureBlobStoreBuilder}
 * validated them; read by the store's parts ({@link AzureUploader}, {@link AzureReader}).
 */
record AzureOptions(
        String prefix,
        long blockSize,
        long singlePutThreshold,
        long rangeSize,
        int concurrency,
        boolean verifyChecksums,
        boolean contentMd5,
        int sdkMaxTries,
        int listPageSize,
        KeyPrefixRules<AzureAccessTier> tiers,
        KeyPrefixRules<Immutability> immutability,
        Clock clock) {

    /** The blob name prefix: the key prefix and a slash, or empty. */
    String blobPrefix() {
        return prefix.isEmpty() ? "" : prefix + "/";
    }
}
