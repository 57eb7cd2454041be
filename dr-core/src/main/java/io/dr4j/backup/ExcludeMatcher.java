package io.dr4j.backup;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Exclude globs of a backup, matched against paths relative to the backup source with
 * {@code /} between names (the paths a snapshot records), in the spirit of {@code .gitignore}:
 * <ul>
 *   <li>{@code *} matches any run of characters within one name, {@code ?} one character,
 *       {@code [abc]}, {@code [a-z]}, {@code [!abc]} one character of (or not of) a set;</li>
 *   <li>{@code **} matches any number of whole names, none included: {@code **}{@code /*.tmp},
 *       {@code optimizer/**}, {@code a/**}{@code /b};</li>
 *   <li>a pattern with no {@code /} but a trailing one matches a name at any depth
 *       ({@code *.tmp} excludes {@code a/b/x.tmp}); a pattern with a {@code /} inside is anchored
 *       at the source ({@code shards/*.bin} does not exclude {@code old/shards/x.bin}); a leading
 *       {@code /} anchors explicitly and is dropped;</li>
 *   <li>a pattern that matches a directory excludes everything below it; a trailing {@code /}
 *       matches directories only ({@code tmp/}).</li>
 * </ul>
 * Immutable and thread-safe.
 */
final class ExcludeMatcher {

    private record Rule(String glob, Pattern regex, boolean directoriesOnly) {
    }

    private final List<Rule> rules;

    private ExcludeMatcher(List<Rule> rules) {
        this.rules = List.copyOf(rules);
    }

    /**
     * Compiles {@code globs}.
     *
     * @throws IllegalArgumentException naming the first pattern that is blank, has a {@code ..},
     *     {@code .} or empty name, or an unclosed {@code [}
     */
    public static ExcludeMatcher of(List<String> globs) {
        List<Rule> rules = new ArrayList<>();
        for (String glob : globs) {
            rules.add(compile(glob));
        }
        return new ExcludeMatcher(rules);
    }

    /** Checks one pattern; see {@link #of}. */
    public static void check(String glob) {
        compile(glob);
    }

    /** Whether there are no patterns. */
    public boolean isEmpty() {
        return rules.isEmpty();
    }

    /** Whether {@code relativePath} (a directory if {@code directory}) is excluded by a pattern. */
    public boolean excludes(String relativePath, boolean directory) {
        for (Rule r : rules) {
            if ((directory || !r.directoriesOnly()) && r.regex().matcher(relativePath).matches()) {
                return true;
            }
        }
        return false;
    }

    private static Rule compile(String glob) {
        if (glob == null || glob.isBlank()) {
            throw new IllegalArgumentException("an exclude pattern must not be blank");
        }
        if (glob.indexOf('\0') >= 0 || glob.indexOf('\\') >= 0) {
            throw new IllegalArgumentException("exclude pattern '" + glob + "' holds a NUL or a backslash; "
                    + "separate names with /");
        }
        String g = glob.trim();
        boolean dirOnly = g.endsWith("/");
        if (dirOnly) {
            g = g.substring(0, g.length() - 1);
        }
        boolean anchored = g.startsWith("/") || g.contains("/");
        if (g.startsWith("/")) {
            g = g.substring(1);
        }
        if (g.isEmpty()) {
            throw new IllegalArgumentException("exclude pattern '" + glob + "' names nothing (it would exclude the "
                    + "source itself)");
        }
        for (String name : g.split("/", -1)) {
            if (name.isEmpty() || name.equals(".") || name.equals("..")) {
                throw new IllegalArgumentException("exclude pattern '" + glob + "' has an empty, '.' or '..' name; "
                        + "patterns are relative to the backup source, e.g. optimizer/** or *.tmp");
            }
        }
        StringBuilder re = new StringBuilder(anchored ? "" : "(?:.*/)?");
        for (int i = 0; i < g.length(); i++) {
            char c = g.charAt(i);
            if (c == '*' && i + 1 < g.length() && g.charAt(i + 1) == '*') {
                boolean slashAfter = i + 2 < g.length() && g.charAt(i + 2) == '/';
                if (slashAfter) {
                    re.append("(?:[^/]+/)*");
                    i += 2;
                } else {
                    re.append(".*");
                    i += 1;
                }
            } else if (c == '*') {
                re.append("[^/]*");
            } else if (c == '?') {
                re.append("[^/]");
            } else if (c == '[') {
                int end = g.indexOf(']', i + 2);
                if (end < 0) {
                    throw new IllegalArgumentException("exclude pattern '" + glob + "' has an unclosed '['");
                }
                String set = g.substring(i + 1, end);
                if (set.contains("/")) {
                    throw new IllegalArgumentException("exclude pattern '" + glob + "' has a '/' inside [...]");
                }
                re.append('[');
                if (set.startsWith("!")) {
                    re.append('^');
                    set = set.substring(1);
                }
                for (char s : set.toCharArray()) {
                    re.append(s == '-' || Character.isLetterOrDigit(s) ? String.valueOf(s) : "\\" + s);
                }
                re.append(']');
                i = end;
            } else {
                re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return new Rule(glob, Pattern.compile(re.toString()), dirOnly);
    }

    @Override
    public String toString() {
        return rules.stream().map(Rule::glob).toList().toString();
    }
}
