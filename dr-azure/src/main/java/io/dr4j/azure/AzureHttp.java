package io.dr4j.azure;

import com.azure.core.http.HttpClient;
import com.azure.core.http.netty.NettyAsyncHttpClientBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import reactor.netty.resources.ConnectionProvider;

/**
 * The Netty resources of an Azure client that the store builds (event loop, connection pool),
 * sized for the store's concurrency and released by {@link #close()} when the store closes. A
 * client the application passed in has none. Thread-safe.
 */
final class AzureHttp implements AutoCloseable {

    final HttpClient client;
    private final EventLoopGroup loop;
    private final ConnectionProvider connections;

    AzureHttp(int concurrency) {
        this.loop = new NioEventLoopGroup(Math.max(1, Math.min(concurrency, Runtime.getRuntime().availableProcessors())),
                // Netty's own factory: its FastThreadLocalThreads are what Netty's pooled buffers expect
                new DefaultThreadFactory("dr4j-azure-netty", true));
        this.connections = ConnectionProvider.builder("dr4j-azure")
                .maxConnections(Math.max(16, 2 * concurrency))
                .maxIdleTime(Duration.ofSeconds(30))
                .build();
        this.client = new NettyAsyncHttpClientBuilder()
                .eventLoopGroup(loop)
                .connectionProvider(connections)
                .build();
    }

    @Override
    public void close() {
        try {
            connections.disposeLater().block(Duration.ofSeconds(10));
        } finally {
            loop.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
    }
}
