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

    /**
     * Parses a size such as {@code 50MiB}, {@code 100M}, {@code 1.5GiB}, {@code 800KB} or {@code 4096}
     * (bytes), with an optional {@code /s}: {@code K}, {@code M}, {@code G}, {@code T} and their
     * {@code iB} forms are powers of 1024, {@code KB}, {@code MB}, {@code GB}, {@code TB} powers of 1000.
     *
     * @throws IllegalArgumentException naming {@code what} if the text is not a size or not positive
     */
    static long parseBytes(String what, String text) {
        String t = text == null ? "" : text.trim();
        if (t.endsWith("/s")) {
            t = t.substring(0, t.length() - 2).trim();
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(-?[0-9]+(?:\\.[0-9]+)?)\\s*([A-Za-z]*)").matcher(t);
        if (!m.matches()) {
            throw new IllegalArgumentException(what + ": '" + text + "' is not a size; write e.g. 50MiB, 100M or 800KB");
        }
        double scale = switch (m.group(2).toUpperCase(java.util.Locale.ROOT)) {
            case "", "B" -> 1;
            case "K", "KIB" -> 1L << 10;
            case "M", "MIB" -> 1L << 20;
            case "G", "GIB" -> 1L << 30;
            case "T", "TIB" -> 1L << 40;
            case "KB" -> 1e3;
            case "MB" -> 1e6;
            case "GB" -> 1e9;
            case "TB" -> 1e12;
            default -> throw new IllegalArgumentException(what + ": unknown unit '" + m.group(2) + "' in '" + text
                    + "'; use B, K/KiB, M/MiB, G/GiB, T/TiB (powers of 1024) or KB, MB, GB, TB (powers of 1000)");
        };
        double bytes = Double.parseDouble(m.group(1)) * scale;
        if (!(bytes >= 1)) {
            throw new IllegalArgumentException(what + " must be positive (at least 1 byte), was '" + text + "'");
        }
        if (bytes > Long.MAX_VALUE / 2) {
            throw new IllegalArgumentException(what + ": '" + text + "' is too large");
        }
        return (long) bytes;
    }
}
