package io.dr4j.examples.cli;

import io.dr4j.backup.ProgressListener;
import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A one-line progress bar on stderr for long backups and restores, redrawn at most ten times a
 * second. Thread-safe: the engine reports from worker threads; one of them draws at a time.
 */
final class ProgressBar implements ProgressListener, AutoCloseable {

    private static final long REDRAW_NANOS = 100_000_000L;
    private static final int WIDTH = 30;

    private final PrintStream err;
    private final String label;
    private final long startNanos = System.nanoTime();
    private final AtomicLong lastDraw = new AtomicLong(Long.MIN_VALUE);
    private volatile long done;
    private volatile long total;
    private volatile boolean drawn;
    private boolean finished;

    ProgressBar(PrintStream err, String label) {
        this.err = err;
        this.label = label;
    }

    @Override
    public void onProgress(long bytesDone, long bytesTotal) {
        done = bytesDone;
        total = bytesTotal;
        long now = System.nanoTime();
        long last = lastDraw.get();
        if ((last == Long.MIN_VALUE || now - last >= REDRAW_NANOS) && lastDraw.compareAndSet(last, now)) {
            draw(now);
        }
    }

    private synchronized void draw(long now) {
        if (finished) {
            return;
        }
        long t = total;
        long d = Math.min(done, t);
        int filled = t <= 0 ? WIDTH : (int) (WIDTH * d / t);
        double seconds = Math.max(1e-3, (now - startNanos) / 1e9);
        String bar = "=".repeat(filled) + (filled < WIDTH ? ">" + " ".repeat(WIDTH - filled - 1) : "");
        err.printf(Locale.ROOT, "\r%s [%s] %3d%% %s / %s  %s/s   ", label, bar, t <= 0 ? 100 : (int) (100 * d / t),
                Units.bytes(d), Units.bytes(t), Units.bytes((long) (d / seconds)));
        err.flush();
        drawn = true;
    }

    /** Draws the final state and ends the line, if anything was drawn. Idempotent. */
    synchronized void finish() {
        if (drawn && !finished) {
            draw(System.nanoTime());
            err.println();
        }
        finished = true;
    }

    @Override
    public void close() {
        finish();
    }
}
