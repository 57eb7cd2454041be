package io.dr4j.azure;

/**
 * The access tier a new blob is written to, chosen per key prefix with
 * {@link AzureBlobStoreBuilder#accessTier(String, AzureAccessTier)}. Colder tiers cost less to
 * keep and more to read; an {@link #ARCHIVE} blob must be rehydrated (hours) before it can be read,
 * so it suits old snapshots kept for compliance, not the latest restore point.
 *
 * <p>Which tiers an account accepts depends on its kind (premium and some HNS accounts have none);
 * a refused tier fails the put with a {@link io.dr4j.storage.PermanentBlobStoreException} that
 * names the tier.
 */
public enum AzureAccessTier {
    /** Frequent access: the account default for most accounts. */
    HOT("Hot"),
    /** Infrequent access, kept at least 30 days. */
    COOL("Cool"),
    /** Rare access, kept at least 90 days. */
    COLD("Cold"),
    /** Offline: must be rehydrated before reading; kept at least 180 days. */
    ARCHIVE("Archive");

    private final String wireName;

    AzureAccessTier(String wireName) {
        this.wireName = wireName;
    }

    /** The tier's name as the Blob service spells it ({@code Hot}, {@code Cool}, …). */
    public String wireName() {
        return wireName;
    }
}
