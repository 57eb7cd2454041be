package io.dr4j.examples.cli;

import io.dr4j.drill.DrillReportFormat;
import java.time.Duration;

/** Figures for people, formatted exactly as drill reports format them ({@link DrillReportFormat}). */
final class Units {

    private Units() {
    }

    static String bytes(long n) {
        return DrillReportFormat.bytes(n);
    }

    static String duration(Duration d) {
        return DrillReportFormat.duration(d);
    }

    static String rate(long bytes, Duration d) {
        double seconds = Math.max(1e-3, d.toNanos() / 1e9);
        return bytes((long) (bytes / seconds)) + "/s";
    }
}
