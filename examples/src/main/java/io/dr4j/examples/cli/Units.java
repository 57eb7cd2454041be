package io.dr4j.examples.cli;

import java.time.Duration;
import java.util.Locale;

/** Figures for people: binary byte units and short durations. */
final class Units {

    private Units() {
    }

    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    static String duration(Duration d) {
        long ms = d.toMillis();
        if (ms < 1_000) {
            return ms + " ms";
        }
        if (ms < 60_000) {
            return String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
        }
        long s = d.toSeconds();
        return s < 3_600 ? (s / 60) + " min " + (s % 60) + " s" : (s / 3_600) + " h " + (s % 3_600 / 60) + " min";
    }

    static String rate(long bytes, Duration d) {
        double seconds = Math.max(1e-3, d.toNanos() / 1e9);
        return bytes((long) (bytes / seconds)) + "/s";
    }
}
