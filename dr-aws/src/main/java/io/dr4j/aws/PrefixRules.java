package io.dr4j.aws;

import io.dr4j.storage.BlobKey;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Values chosen by key prefix, where the longest matching prefix wins and {@code ""} matches
 * every key; prefixes match whole segments as in {@link BlobKey#isUnder}, and a prefix also
 * matches the key equal to it. Immutable and thread-safe once built.
 */
final class PrefixRules<T> {

    private final Map<String, T> rules;

    private PrefixRules(Map<String, T> rules) {
        this.rules = Map.copyOf(rules);
    }

    static <T> PrefixRules<T> of(Map<String, T> rules) {
        return new PrefixRules<>(new LinkedHashMap<>(rules));
    }

    boolean isEmpty() {
        return rules.isEmpty();
    }

    Optional<T> forKey(BlobKey key) {
        String best = null;
        for (String prefix : rules.keySet()) {
            boolean matches = prefix.isEmpty() || key.isUnder(prefix) || key.value().equals(prefix);
            if (matches && (best == null || prefix.length() > best.length())) {
                best = prefix;
            }
        }
        return best == null ? Optional.empty() : Optional.of(rules.get(best));
    }

    @Override
    public String toString() {
        return rules.toString();
    }
}
