/**
 * The transfer core shared by the cloud backends ({@code S3BlobStore} in dr-aws,
 * {@code AzureBlobStore} in dr-azure): what every object-store backend needs and that does not
 * speak any SDK. Ranged parallel read-ahead ({@link io.dr4j.storage.transfer.ReadAheadInputStream},
 * {@link io.dr4j.storage.transfer.ParallelRangeReads}), bounded parallel part uploads
 * ({@link io.dr4j.storage.transfer.PartUpload}), the CRC-32C that dr4j keeps in object metadata
 * ({@link io.dr4j.storage.transfer.Crc32c}, {@link io.dr4j.storage.transfer.VerifyingInputStream}),
 * per-prefix rules ({@link io.dr4j.storage.transfer.KeyPrefixRules}), builder checks, paged
 * listings and the SDK-independent parts of failure mapping.
 *
 * <p>This package is an extension point for people who write a {@code BlobStore} backend, in the
 * sense of Failsafe's {@code spi} package: applications never need it, and nothing in it appears
 * in the signature of {@link io.dr4j.storage.BlobStore}. Its types are public only because the
 * backends live in other modules. Every type states its thread safety.
 */
package io.dr4j.storage.transfer;
