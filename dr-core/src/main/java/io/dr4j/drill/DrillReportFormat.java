package io.dr4j.drill;

import java.time.Duration;

/**
 * How drill reports write figures for people, for applications that print their own figures next
 * to a report's (the {@code dr4j} CLI does): durations such as {@code 850 ms}, {@code 12.4 s} or {@code 3 min 5 s},
 * sizes such as {@code 1.5 GiB}. The report's own renderings are {@link DrillReport#toText()} and
 * {@link DrillReport#toJson()}. Stateless and thread-safe.
 */
public final class DrillReportFormat {

    private DrillReportFormat() {
    }

    /** {@code d} as a drill report writes it. */
    public static String duration(Duration d) {
        return ReportCodec.duration(d);
    }

    /** {@code bytes} as a drill report writes a size (binary units). */
    public static String bytes(long bytes) {
        return ReportCodec.bytes(bytes);
    }
}
