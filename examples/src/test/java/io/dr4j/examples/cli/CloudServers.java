package io.dr4j.examples.cli;

import io.dr4j.aws.S3ProxyServer;
import io.dr4j.azure.Azurite;
import io.dr4j.testing.TestFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * An S3Proxy and an Azurite started for one CLI test class (in {@code @BeforeAll}), and the
 * environment that points {@code dr4j} at them. {@link #close()} stops both and deletes
 * Azurite's data.
 */
final class CloudServers implements AutoCloseable {

    final S3ProxyServer s3;
    final Azurite azurite;
    private final Path azuriteData;

    private CloudServers(S3ProxyServer s3, Azurite azurite, Path azuriteData) {
        this.s3 = s3;
        this.azurite = azurite;
        this.azuriteData = azuriteData;
    }

    static CloudServers start() throws Exception {
        S3ProxyServer s3 = new S3ProxyServer();
        s3.start();
        Path data = Files.createTempDirectory("dr4j-cli-azurite-");
        try {
            return new CloudServers(s3, Azurite.start(data), data);
        } catch (Exception e) {
            s3.close();
            TestFiles.deleteTree(data);
            throw e;
        }
    }

    /** Credentials for both servers, and no state directory (nothing may be written outside the test's tree). */
    Map<String, String> env() {
        return Map.of("AWS_ACCESS_KEY_ID", S3ProxyServer.ACCESS_KEY, "AWS_SECRET_ACCESS_KEY", S3ProxyServer.SECRET_KEY,
                "XDG_STATE_HOME", "/nonexistent-never-used", "DR4J_AZURE_CONNECTION_STRING", azurite.connectionString());
    }

    @Override
    public void close() throws Exception {
        try (Azurite a = azurite) {
            s3.close();
        } finally {
            TestFiles.deleteTree(azuriteData);
        }
    }
}
