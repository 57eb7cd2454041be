package io.dr4j.failover;

/**
 * How many calls one endpoint may have in flight from this router. A call that finds every
 * eligible endpoint at its limit is handled like one that finds them all saturated: it waits up
 * to the router's {@linkplain FailoverRouterBuilder#whenAllSaturated saturation wait} for a free
 * place, then fails with {@link AllEndpointsSaturatedException}.
 *
 * <p>The adaptive limits are Netflix's {@code concurrency-limits} algorithms, fed with each
 * call's latency and with every saturation answer (429) or timeout as a drop: {@linkplain #vegas
 * Vegas} (TCP Vegas: grows while latency stays near the minimum, shrinks as queueing shows) and
 * {@linkplain #gradient gradient} (the ratio of long-term to short-term latency). Immutable
 * values, hence thread-safe.
 */
public sealed interface ConcurrencyLimit {

    /** No limit (the default). */
    static ConcurrencyLimit none() {
        return Unlimited.INSTANCE;
    }

    /** A fixed limit of {@code max} calls in flight per endpoint, 1 to 100 000. */
    static ConcurrencyLimit fixed(int max) {
        return new Fixed(max);
    }

    /** An adaptive TCP-Vegas-style limit starting at {@code initial}, never above {@code max} (1 to 100 000). */
    static ConcurrencyLimit vegas(int initial, int max) {
        return new Adaptive(Adaptive.Algorithm.VEGAS, initial, max);
    }

    /** An adaptive gradient limit (Netflix's Gradient2) starting at {@code initial}, never above {@code max}. */
    static ConcurrencyLimit gradient(int initial, int max) {
        return new Adaptive(Adaptive.Algorithm.GRADIENT, initial, max);
    }

    /** No limit. */
    enum Unlimited implements ConcurrencyLimit {
        INSTANCE
    }

    /**
     * A fixed limit.
     *
     * @param max calls in flight per endpoint, 1 to 100 000
     */
    record Fixed(int max) implements ConcurrencyLimit {
        /** Validates the limit. */
        public Fixed {
            check("max", max);
        }
    }

    /**
     * An adaptive limit.
     *
     * @param algorithm which algorithm
     * @param initial the limit before any sample, 1 to {@code max}
     * @param max the largest limit, 1 to 100 000
     */
    record Adaptive(Algorithm algorithm, int initial, int max) implements ConcurrencyLimit {

        /** The limit algorithm. */
        public enum Algorithm { VEGAS, GRADIENT }

        /** Validates the limits. */
        public Adaptive {
            java.util.Objects.requireNonNull(algorithm, "algorithm");
            check("max", max);
            check("initial", initial);
            if (initial > max) {
                throw new IllegalArgumentException("initial concurrency limit " + initial + " must not exceed max " + max);
            }
        }
    }

    private static void check(String what, int value) {
        if (value < 1 || value > 100_000) {
            throw new IllegalArgumentException("concurrency limit " + what + " must be 1 to 100000, was " + value);
        }
    }
}
