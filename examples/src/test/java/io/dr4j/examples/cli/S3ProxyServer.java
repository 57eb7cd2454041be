package io.dr4j.examples.cli;

import java.net.URI;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;

/**
 * An in-process S3Proxy on an ephemeral loopback port over jclouds' in-memory store, with static
 * test credentials (as in dr-aws's tests).
 */
final class S3ProxyServer {

    static final String ACCESS_KEY = "dr4j-test-access";
    static final String SECRET_KEY = "dr4j-test-secret-0123456789";

    private final BlobStoreContext context;
    private final S3Proxy proxy;

    S3ProxyServer() throws Exception {
        context = ContextBuilder.newBuilder("transient-nio2").credentials("identity", "credential")
                .build(BlobStoreContext.class);
        proxy = S3Proxy.builder()
                .blobStore(context.getBlobStore())
                .endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                .build();
        proxy.start();
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + proxy.getPort());
    }

    void createBucket(String bucket) {
        context.getBlobStore().createContainerInLocation(null, bucket);
    }

    void stop() throws Exception {
        proxy.stop();
        context.close();
    }
}
