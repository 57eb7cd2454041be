package io.dr4j.aws;

import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.S3Configuration;

/**
 * Builds the {@link S3Client} of a store that owns its client: the SDK's standard retry strategy
 * with the builder's attempts (see the retry plan in {@code docs/guide.md}), a connection pool
 * sized for the store's concurrency, and in S3-compatible mode checksums only where required and
 * no aws-chunked bodies. Stateless.
 */
final class S3ClientFactory {

    private S3ClientFactory() {
    }

    static S3Client build(S3BlobStoreBuilder b) {
        S3ClientBuilder builder = S3Client.builder()
                .httpClientBuilder(ApacheHttpClient.builder().maxConnections(Math.max(50, 4 * b.concurrency)))
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder()
                        .maxAttempts(b.sdkMaxAttempts).build()))
                .forcePathStyle(b.pathStyle);
        if (b.region != null) {
            builder.region(b.region);
        } else if (b.endpoint != null) {
            builder.region(Region.US_EAST_1); // S3-compatible servers ignore the region but the signer needs one
        }
        if (b.endpoint != null) {
            builder.endpointOverride(b.endpoint);
        }
        if (b.credentials != null) {
            builder.credentialsProvider(b.credentials);
        }
        if (b.s3Compatible) {
            builder.requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                    .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                    .serviceConfiguration(S3Configuration.builder().chunkedEncodingEnabled(false).build());
        }
        if (b.clientCustomizer != null) {
            b.clientCustomizer.accept(builder);
        }
        return builder.build();
    }
}
