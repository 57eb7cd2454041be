package io.dr4j.failover;

import java.net.http.HttpHeaders;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * Reads how long an overloaded HTTP endpoint asks to be left alone. {@code retry-after-ms}
 * (milliseconds, sent by OpenAI-style and Azure OpenAI endpoints, and read first by their SDKs)
 * wins when valid; otherwise {@code Retry-After} (RFC 9110) as delta-seconds or an HTTP-date
 * (relative to the router's clock; a date in the past is zero). Anything malformed or negative
 * counts as absent, so the router's default applies; a huge value is returned as it is and
 * capped by the router.
 */
final class RetryAfterHeader {

    private RetryAfterHeader() {
    }

    /** Whether the response carries any retry-after advice, valid or not. */
    static boolean present(HttpHeaders headers) {
        return headers.firstValue("retry-after").isPresent() || headers.firstValue("retry-after-ms").isPresent();
    }

    static Optional<Duration> parse(HttpHeaders headers, Clock clock) {
        Optional<Duration> ms = headers.firstValue("retry-after-ms").flatMap(RetryAfterHeader::millis);
        if (ms.isPresent()) {
            return ms;
        }
        return headers.firstValue("retry-after").flatMap(v -> parse(v, clock));
    }

    /** One {@code Retry-After} value: delta-seconds or an HTTP-date. */
    static Optional<Duration> parse(String value, Clock clock) {
        String v = value.trim();
        if (v.isEmpty()) {
            return Optional.empty();
        }
        if (v.chars().allMatch(c -> c >= '0' && c <= '9')) {
            // More digits than a long holds is still a (huge) delay, not garbage.
            return Optional.of(v.length() > 18 ? Duration.ofSeconds(Long.MAX_VALUE) : Duration.ofSeconds(Long.parseLong(v)));
        }
        try {
            Instant at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
            Duration d = Duration.between(clock.instant(), at);
            return Optional.of(d.isNegative() ? Duration.ZERO : d);
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    private static Optional<Duration> millis(String value) {
        try {
            double ms = Double.parseDouble(value.trim());
            if (!(ms >= 0) || Double.isInfinite(ms)) {
                return Optional.empty();
            }
            return Optional.of(ms > 1e15 ? Duration.ofSeconds(Long.MAX_VALUE) : Duration.ofNanos((long) (ms * 1_000_000)));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
