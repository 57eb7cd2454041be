package io.dr4j.azure;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Azurite's Blob service as a child process on a loopback port, with its data in a directory of
 * the test's. Installed by the build ({@code npm ci} in dr-azure); its location comes from the
 * system property {@code dr4j.azurite.home}. A missing install fails loudly: Azure tests are never
 * skipped. Shipped in dr-azure's test-jar: the one Azurite launcher of dr4j's tests (the
 * examples' CLI tests use it too). Not thread-safe: one test drives it, one call at a time (a
 * kill or restart may come from another of its threads).
 */
public final class Azurite implements AutoCloseable {

    /** Azurite's well-known development account (public, documented by Microsoft). */
    public static final String ACCOUNT = "devstoreaccount1";
    public static final String KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final Path main;
    private final Path location;
    private final Path log;
    private final int port;
    private volatile Process process; // kill and restart may come from a test's other threads, one at a time

    private Azurite(Path main, Path location, int port) {
        this.main = main;
        this.location = location;
        this.log = location.resolve("azurite.log");
        this.port = port;
    }

    /** Starts Azurite on a free loopback port, keeping its data in {@code location}. */
    public static Azurite start(Path location) throws IOException {
        String home = System.getProperty("dr4j.azurite.home", "node_modules/azurite");
        Path main = Path.of(home, "dist", "src", "blob", "main.js");
        if (!Files.isRegularFile(main)) {
            throw new IllegalStateException("Azurite is not installed at " + main.toAbsolutePath()
                    + ": build dr-azure with Maven (it runs npm ci), which needs Node.js and npm");
        }
        Files.createDirectories(location);
        Azurite azurite = new Azurite(main, location, freePort());
        azurite.startProcess();
        return azurite;
    }

    public int port() {
        return port;
    }

    public String endpoint() {
        return "http://127.0.0.1:" + port + "/" + ACCOUNT;
    }

    public String connectionString() {
        return connectionString(KEY);
    }

    public String connectionString(String accountKey) {
        return "DefaultEndpointsProtocol=http;AccountName=" + ACCOUNT + ";AccountKey=" + accountKey
                + ";BlobEndpoint=" + endpoint() + ";";
    }

    public boolean isRunning() {
        return process != null && process.isAlive();
    }

    /**
     * Kills the process and any children at once (SIGKILL), as a crash would; data saved before
     * survives. Waits for the exit even if the calling thread is interrupted (a part upload that
     * fails because of this very kill cancels its sibling parts, one of which may be the caller),
     * then restores the interrupt: an interrupt must not leave a dead process that
     * {@link #restart()} refuses to replace.
     */
    public void kill() throws IOException {
        Process p = process;
        if (p != null) {
            process = null;
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            if (!waitUninterruptibly(p, Duration.ofSeconds(30))) {
                throw new IOException("Azurite process " + p.pid() + " did not exit within 30 s of SIGKILL");
            }
        }
    }

    /** Stops the process gracefully (SIGTERM: Azurite saves its metadata), killing it if it lingers. */
    public void stop() throws IOException {
        if (process != null) {
            process.destroy();
            if (!waitQuietly(process, Duration.ofSeconds(10))) {
                process.destroyForcibly();
                waitFor(process, Duration.ofSeconds(30));
            }
            process = null;
        }
    }

    /** Starts the process again on the same port with the same data. */
    public void restart() throws IOException {
        if (isRunning()) {
            throw new IllegalStateException("Azurite (pid " + process.pid() + ") is still running");
        }
        startProcess();
    }

    @Override
    public void close() throws IOException {
        stop();
    }

    private void startProcess() throws IOException {
        ProcessBuilder pb = new ProcessBuilder(List.of("node", main.toString(),
                "--blobHost", "127.0.0.1", "--blobPort", Integer.toString(port),
                "--location", location.toString(), "--silent", "--skipApiVersionCheck", "--loose",
                "--disableTelemetry"))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run node to start Azurite: install Node.js (" + e.getMessage() + ")", e);
        }
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            if (!p.isAlive()) {
                throw new IllegalStateException("Azurite exited with " + p.exitValue() + " while starting: " + logText());
            }
            // Port restarts can race the old socket's release; connecting proves the server listens.
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                break;
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline) {
                    p.destroyForcibly();
                    throw new IllegalStateException("Azurite did not listen on 127.0.0.1:" + port + " within "
                            + START_TIMEOUT + ": " + logText());
                }
                try {
                    p.waitFor(50, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    p.destroyForcibly();
                    throw new IOException("interrupted while starting Azurite", e);
                }
            }
        }
        process = p;
    }

    private String logText() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }

    private static void waitFor(Process p, Duration timeout) throws IOException {
        if (!waitQuietly(p, timeout)) {
            throw new IOException("Azurite process " + p.pid() + " did not exit within " + timeout);
        }
    }

    private static boolean waitUninterruptibly(Process p, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static boolean waitQuietly(Process p, Duration timeout) throws IOException {
        try {
            return p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while stopping Azurite", e);
        }
    }
}
