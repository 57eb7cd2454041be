package io.dr4j.failover;

import java.util.Objects;

/**
 * One place a call can be sent to: a model server, a gateway, a regional deployment.
 *
 * <p>{@code priority} orders regions: 0 is the most preferred level, and traffic spills to
 * higher numbers only when a level's healthy share falls (see {@link FailoverRouter}).
 * {@code weight} scales the endpoint's capacity relative to the others of its level.
 * The {@code payload} is whatever the caller needs to reach it: a base {@code URI}, a client,
 * a channel.
 *
 * <p>Immutable, hence thread-safe (if the payload is).
 *
 * @param id unique name within a router, 1 to 128 characters, no whitespace
 * @param region a label for metrics and events, such as {@code "eu-west-1"}
 * @param priority 0 (most preferred) to {@value #MAX_PRIORITY}
 * @param weight 1 to {@value #MAX_WEIGHT}
 * @param payload what the call function uses to reach the endpoint
 * @param <E> the payload type
 */
public record Endpoint<E>(String id, String region, int priority, int weight, E payload) {

    /** The largest priority number (least preferred level). */
    public static final int MAX_PRIORITY = 127;
    /** The largest weight. */
    public static final int MAX_WEIGHT = 10_000;

    /** Validates every component; throws {@link IllegalArgumentException} naming the bad one. */
    public Endpoint {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(region, "region");
        Objects.requireNonNull(payload, "payload of endpoint " + id);
        if (id.isEmpty() || id.length() > 128 || id.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException("endpoint id must be 1 to 128 characters without whitespace, was '" + id + "'");
        }
        if (region.isBlank()) {
            throw new IllegalArgumentException("region of endpoint " + id + " must not be blank");
        }
        if (priority < 0 || priority > MAX_PRIORITY) {
            throw new IllegalArgumentException("priority of endpoint " + id + " must be 0 to " + MAX_PRIORITY + ", was " + priority);
        }
        if (weight < 1 || weight > MAX_WEIGHT) {
            throw new IllegalArgumentException("weight of endpoint " + id + " must be 1 to " + MAX_WEIGHT + ", was " + weight);
        }
    }

    /** An endpoint of weight 1. */
    public static <E> Endpoint<E> of(String id, String region, int priority, E payload) {
        return new Endpoint<>(id, region, priority, 1, payload);
    }

    /** A copy with another weight. */
    public Endpoint<E> withWeight(int newWeight) {
        return new Endpoint<>(id, region, priority, newWeight, payload);
    }

    @Override
    public String toString() {
        return id + "(" + region + ", priority " + priority + ", weight " + weight + ")";
    }
}
