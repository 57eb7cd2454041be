package io.dr4j.aws;

/**
 * The S3 storage class new objects are written in, chosen per key prefix with
 * {@link S3BlobStoreBuilder#storageClass(String, S3StorageClass)}. Colder classes cost less to
 * keep and more (or longer) to read: {@link #GLACIER} and {@link #DEEP_ARCHIVE} objects must be
 * restored before they can be read, so they suit old snapshots kept for compliance, not the
 * latest restore point. S3-compatible servers accept a subset (often only {@link #STANDARD}).
 *
 * <p>dr4j's own enum, so that no AWS SDK type is part of the builder's signature; the wire
 * names are S3's. Immutable and thread-safe.
 */
public enum S3StorageClass {
    /** The default class. */
    STANDARD("STANDARD"),
    /** Infrequent access, multi-zone. */
    STANDARD_IA("STANDARD_IA"),
    /** Infrequent access, one zone. */
    ONEZONE_IA("ONEZONE_IA"),
    /** Moved between tiers by access pattern. */
    INTELLIGENT_TIERING("INTELLIGENT_TIERING"),
    /** Glacier Instant Retrieval: archive prices, millisecond reads. */
    GLACIER_IR("GLACIER_IR"),
    /** Glacier Flexible Retrieval: must be restored before reading. */
    GLACIER("GLACIER"),
    /** Glacier Deep Archive: must be restored (hours) before reading. */
    DEEP_ARCHIVE("DEEP_ARCHIVE");

    private final String wireName;

    S3StorageClass(String wireName) {
        this.wireName = wireName;
    }

    /** The class's name as S3 spells it ({@code x-amz-storage-class}). */
    public String wireName() {
        return wireName;
    }
}
