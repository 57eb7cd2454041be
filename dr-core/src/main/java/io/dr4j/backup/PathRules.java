package io.dr4j.backup;

import java.text.Normalizer;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The rules a snapshot's paths must pass before a restore writes anything (FORMAT.md §Snapshots,
 * path). Two tiers: {@link #unsafe} paths could escape the target or mean different things to
 * different readers and are refused everywhere, always; {@link #nonPortable} paths are harmless
 * on POSIX but unsafe or ambiguous on Windows (drive-relative names, alternate data streams,
 * device names, names Windows silently trims, names that collide on a case-insensitive or
 * normalizing file system) and are refused on every platform unless the caller explicitly allows
 * them, which is honoured only where the platform is not Windows. Applying the Windows rules
 * everywhere means a snapshot restores the same way, or is refused the same way, on every host.
 */
final class PathRules {

    private static final Pattern RESERVED = Pattern.compile("(?i)(CON|PRN|AUX|NUL|COM[0-9\u00b9\u00b2\u00b3]|LPT[0-9\u00b9\u00b2\u00b3])");
    private static final String WINDOWS_FORBIDDEN = "<>:\"|?*";

    private PathRules() {
    }

    /** Whether the running platform resolves paths the Windows way. */
    static boolean windows() {
        return java.io.File.separatorChar == '\\';
    }

    /** Why {@code path} is unsafe on any platform, or null. */
    static String unsafe(String path) {
        if (path.isEmpty()) {
            return "empty";
        }
        if (path.startsWith("/") || (path.length() >= 2 && isAsciiLetter(path.charAt(0)) && path.charAt(1) == ':')) {
            return "absolute";
        }
        if (path.indexOf('\\') >= 0) {
            return "backslash";
        }
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                return "control character";
            }
        }
        for (String segment : path.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                return "'" + segment + "' segment";
            }
        }
        return null;
    }

    /** Why {@code path} (already {@linkplain #unsafe safe}) is not portable to Windows, or null. */
    static String nonPortable(String path) {
        for (String segment : path.split("/", -1)) {
            for (int i = 0; i < segment.length(); i++) {
                char c = segment.charAt(i);
                if (WINDOWS_FORBIDDEN.indexOf(c) >= 0) {
                    return c == ':' ? "':' (a Windows drive or alternate data stream)" : "'" + c + "' (not allowed in Windows names)";
                }
            }
            char last = segment.charAt(segment.length() - 1);
            if (last == '.' || last == ' ') {
                return "segment '" + segment + "' ends with " + (last == '.' ? "a dot" : "a space") + " (Windows drops it)";
            }
            int dot = segment.indexOf('.');
            String stem = (dot < 0 ? segment : segment.substring(0, dot)).stripTrailing();
            if (RESERVED.matcher(stem).matches()) {
                return "segment '" + segment + "' is the Windows device name " + stem.toUpperCase(Locale.ROOT);
            }
        }
        return null;
    }

    /**
     * The key under which two paths collide on a case-insensitive, normalizing file system
     * (Windows, macOS by default): NFC, then case-folded.
     */
    static String foldKey(String path) {
        String nfc = Normalizer.normalize(path, Normalizer.Form.NFC);
        return nfc.toUpperCase(Locale.ROOT).toLowerCase(Locale.ROOT);
    }

    private static boolean isAsciiLetter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }
}
