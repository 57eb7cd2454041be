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

    /**
     * Parses a size that must not be misread, between {@code min} and {@code max} bytes: a whole
     * number of bytes ({@code 8388608}) or of {@code KiB}, {@code MiB}, {@code GiB}, {@code TiB}
     * (powers of 1024), spelled so. {@code 32M} and {@code 32MB} are refused, because tools disagree
     * on whether they mean 1000² or 1024² (for a setting fixed for a repository's life a guess is
     * worse than a question), and so are {@code 32mib} and fractions; every message names the range
     * and the spelling to use.
     *
     * @throws IllegalArgumentException naming {@code what}, the range, the text and the spelling to use
     */
    static long parseExactBytes(String what, String text, long min, long max) {
        String range = what + " takes " + exact(min) + " to " + exact(max);
        String t = text == null ? "" : text.trim();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("([0-9]+)(\\.[0-9]+)?\\s*([A-Za-z]*)").matcher(t);
        if (!m.matches()) {
            throw new IllegalArgumentException(range + ": '" + text + "' is not a size; write a whole number of MiB, KiB "
                    + "or bytes, e.g. " + exact(min));
        }
        String unit = m.group(3);
        int power = switch (unit) {
            case "", "B" -> 0;
            case "KiB" -> 1;
            case "MiB" -> 2;
            case "GiB" -> 3;
            case "TiB" -> 4;
            default -> -1;
        };
        if (power < 0) {
            String iec = switch (unit.toUpperCase(java.util.Locale.ROOT)) {
                case "K", "KB", "KIB" -> "KiB";
                case "M", "MB", "MIB" -> "MiB";
                case "G", "GB", "GIB" -> "GiB";
                case "T", "TB", "TIB" -> "TiB";
                default -> null;
            };
            if (iec == null) {
                throw new IllegalArgumentException(range + ": unknown unit '" + unit + "' in '" + text + "'; write a whole "
                        + "number of KiB, MiB, GiB or bytes");
            }
            String number = m.group(1) + (m.group(2) == null ? "" : m.group(2));
            if (m.group(2) != null) { // suggest only spellings that are accepted: a fraction never is
                throw new IllegalArgumentException(range + ": '" + text + "' is not a whole number; write a whole number of "
                        + iec + ", KiB or bytes, e.g. 4608KiB rather than 4.5MiB");
            }
            if (unit.equalsIgnoreCase(iec)) {
                throw new IllegalArgumentException(range + ": write the unit of '" + text + "' as " + iec + ": " + number + iec);
            }
            throw new IllegalArgumentException(range + ": '" + text + "' is ambiguous (" + unit + " means powers of 1000 to "
                    + "some tools and of 1024 to others); write " + number + iec + " for powers of 1024, or the number of bytes");
        }
        if (m.group(2) != null) {
            throw new IllegalArgumentException(range + ": '" + text + "' is not a whole number of " + (unit.isEmpty() ? "bytes" : unit)
                    + "; write a whole number of KiB, MiB or bytes, e.g. 4608KiB rather than 4.5MiB");
        }
        // as many digits as the user typed: compared as a BigInteger, so that no overflow slips into the range
        java.math.BigInteger bytes = new java.math.BigInteger(m.group(1)).shiftLeft(10 * power);
        if (bytes.compareTo(java.math.BigInteger.valueOf(min)) < 0 || bytes.compareTo(java.math.BigInteger.valueOf(max)) > 0) {
            throw new IllegalArgumentException(range + ", was " + t + (power == 0 ? "" : " (" + bytes + " bytes)"));
        }
        return bytes.longValueExact();
    }

    /** {@code n} bytes in the largest of B, KiB, MiB, GiB, TiB that holds it as a whole number: {@code 4MiB}, {@code 4608KiB}. */
    static String exact(long n) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        int p = 0;
        while (p < units.length - 1 && n != 0 && n % (1L << (10 * (p + 1))) == 0) {
            p++;
        }
        return (n >> (10 * p)) + units[p];
    }
}
