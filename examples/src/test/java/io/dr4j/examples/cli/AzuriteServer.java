package io.dr4j.examples.cli;

import com.azure.storage.blob.BlobServiceClientBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Azurite's Blob service as a child process on a loopback port, from the install dr-azure's build
 * makes ({@code npm ci}); its location comes from the system property {@code dr4j.azurite.home}.
 * A missing install fails loudly, as in dr-azure: Azure tests are never skipped.
 */
final class AzuriteServer {

    /** Azurite's well-known development account key (public, documented by Microsoft). */
    private static final String KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private final Process process;
    private final int port;

    AzuriteServer(Path location) throws IOException, InterruptedException {
        Path main = Path.of(System.getProperty("dr4j.azurite.home", "../dr-azure/node_modules/azurite"), "dist", "src", "blob", "main.js");
        if (!Files.isRegularFile(main)) {
            throw new IllegalStateException("Azurite is not installed at " + main.toAbsolutePath()
                    + ": build dr-azure with Maven first (it runs npm ci), which needs Node.js and npm");
        }
        Files.createDirectories(location);
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        process = new ProcessBuilder(List.of("node", main.toString(), "--blobHost", "127.0.0.1", "--blobPort",
                Integer.toString(port), "--location", location.toString(), "--silent", "--skipApiVersionCheck", "--loose",
                "--disableTelemetry"))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(location.resolve("azurite.log").toFile()))
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            if (!process.isAlive()) {
                throw new IllegalStateException("Azurite exited with " + process.exitValue() + " while starting; see "
                        + location.resolve("azurite.log"));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline) {
                    process.destroyForcibly();
                    throw new IllegalStateException("Azurite did not listen on 127.0.0.1:" + port + " within 60 s");
                }
                process.waitFor(50, TimeUnit.MILLISECONDS);
            }
        }
    }

    String connectionString() {
        return "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + KEY
                + ";BlobEndpoint=http://127.0.0.1:" + port + "/devstoreaccount1;";
    }

    void createContainer(String name) {
        new BlobServiceClientBuilder().connectionString(connectionString()).buildClient().createBlobContainer(name);
    }

    void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }
}
