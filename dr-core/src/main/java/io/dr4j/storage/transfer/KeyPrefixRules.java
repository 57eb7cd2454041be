package io.dr4j.storage.transfer;

import io.dr4j.storage.BlobKey;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Values chosen by key prefix (a storage class, an access tier, a retention rule): the longest
 * matching prefix wins and {@code ""} matches every key. Prefixes match whole segments as in
 * {@link BlobKey#isUnder}, and a prefix also matches the key equal to it, so {@code snapshots}
 * matches {@code snapshots/x} and {@code snapshots} but not {@code snapshots-old/x}.
 *
 * <p>Immutable and thread-safe; built by {@link Builder}, which is not thread-safe.
 */
public final class KeyPrefixRules<T> {

    private static final KeyPrefixRules<?> NONE = new KeyPrefixRules<>(Map.of());

    private final Map<String, T> rules;

    private KeyPrefixRules(Map<String, T> rules) {
        this.rules = Map.copyOf(rules);
    }

    /** No rules: {@link #forKey} is always empty. */
    @SuppressWarnings("unchecked")
    public static <T> KeyPrefixRules<T> none() {
        return (KeyPrefixRules<T>) NONE;
    }

    /** Returns a builder whose messages call the value {@code what} (e.g. "storage class"). */
    public static <T> Builder<T> builder(String what) {
        return new Builder<>(what);
    }

    /** Whether there are no rules. */
    public boolean isEmpty() {
        return rules.isEmpty();
    }

    /** The value of the longest prefix that matches {@code key}, if any. */
    public Optional<T> forKey(BlobKey key) {
        Optional<String> best = prefixFor(key);
        return best.map(rules::get);
    }

    /** The longest prefix that matches {@code key}, if any (for messages). */
    public Optional<String> prefixFor(BlobKey key) {
        String best = null;
        for (String prefix : rules.keySet()) {
            boolean matches = prefix.isEmpty() || key.isUnder(prefix) || key.value().equals(prefix);
            if (matches && (best == null || prefix.length() > best.length())) {
                best = prefix;
            }
        }
        return Optional.ofNullable(best);
    }

    @Override
    public String toString() {
        return rules.toString();
    }

    /** Collects rules; refuses a prefix given twice. Not thread-safe. */
    public static final class Builder<T> {
        private final String what;
        private final Map<String, T> rules = new LinkedHashMap<>();

        private Builder(String what) {
            this.what = what;
        }

        /**
         * Adds the rule {@code prefix -> value}.
         *
         * @throws IllegalArgumentException if {@code prefix} is neither empty nor a valid key
         * @throws IllegalStateException if a rule for {@code prefix} was already added
         */
        public Builder<T> add(String prefix, T value) {
            BlobKey.checkPrefix(prefix);
            Objects.requireNonNull(value, what);
            if (rules.putIfAbsent(prefix, value) != null) {
                throw new IllegalStateException(what + " for prefix '" + prefix + "' was already set");
            }
            return this;
        }

        /** Whether no rule was added yet. */
        public boolean isEmpty() {
            return rules.isEmpty();
        }

        /** The rules added so far. */
        public KeyPrefixRules<T> build() {
            return rules.isEmpty() ? none() : new KeyPrefixRules<>(rules);
        }
    }
}
