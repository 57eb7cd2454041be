package io.dr4j.examples.cli;

import io.dr4j.backup.KeyProvider;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * Where the repository key comes from: a file or an environment variable, never the command
 * line (it would show in {@code ps} and shell history). A raw key is 32 bytes: a 32-byte binary
 * file, or 64 hex digits, or base64, in a file or a variable. A password is the first line of a
 * file, or a variable. With no option, {@code DR4J_PASSWORD} and then {@code DR4J_KEY} are tried.
 */
final class KeyOptions {

    @Option(names = "--key-file", paramLabel = "FILE", description = "File holding the raw 32-byte key (binary, hex or base64).")
    Path keyFile;

    @Option(names = "--key-env", paramLabel = "VAR", description = "Environment variable holding the raw key (hex or base64).")
    String keyEnv;

    @Option(names = "--password-file", paramLabel = "FILE", description = "File whose first line is the repository password.")
    Path passwordFile;

    @Option(names = "--password-env", paramLabel = "VAR", description = "Environment variable holding the repository password.")
    String passwordEnv;

    KeyProvider load(Map<String, String> env) throws IOException {
        int given = (keyFile != null ? 1 : 0) + (keyEnv != null ? 1 : 0) + (passwordFile != null ? 1 : 0)
                + (passwordEnv != null ? 1 : 0);
        if (given > 1) {
            throw new CommandLine.ParameterException(new CommandLine(this), "give one of --key-file, --key-env, "
                    + "--password-file, --password-env");
        }
        if (keyFile != null) {
            byte[] bytes = Files.readAllBytes(keyFile);
            try {
                return KeyProvider.rawKey(bytes.length == 32 ? bytes : decode(new String(bytes, StandardCharsets.US_ASCII),
                        "key file " + keyFile));
            } finally {
                Arrays.fill(bytes, (byte) 0);
            }
        }
        if (keyEnv != null) {
            return KeyProvider.rawKey(decode(variable(env, keyEnv), "variable " + keyEnv));
        }
        if (passwordFile != null) {
            String first = Files.readAllLines(passwordFile, StandardCharsets.UTF_8).stream().findFirst().orElse("");
            if (first.isEmpty()) {
                throw new IllegalArgumentException("password file " + passwordFile + " is empty");
            }
            return KeyProvider.password(first.toCharArray());
        }
        if (passwordEnv != null) {
            return KeyProvider.password(variable(env, passwordEnv).toCharArray());
        }
        if (env.get("DR4J_PASSWORD") != null && !env.get("DR4J_PASSWORD").isEmpty()) {
            return KeyProvider.password(env.get("DR4J_PASSWORD").toCharArray());
        }
        if (env.get("DR4J_KEY") != null && !env.get("DR4J_KEY").isEmpty()) {
            return KeyProvider.rawKey(decode(env.get("DR4J_KEY"), "variable DR4J_KEY"));
        }
        throw new IllegalArgumentException("no repository key: give --key-file FILE, --key-env VAR, --password-file FILE "
                + "or --password-env VAR (or set DR4J_PASSWORD or DR4J_KEY)");
    }

    private static String variable(Map<String, String> env, String name) {
        String v = env.get(name);
        if (v == null || v.isEmpty()) {
            throw new IllegalArgumentException("environment variable " + name + " is not set");
        }
        return v;
    }

    /** Hex or base64 of 32 bytes; the message never contains the value. */
    static byte[] decode(String text, String where) {
        String t = text.strip();
        if (t.matches("[0-9a-fA-F]{64}")) {
            return HexFormat.of().parseHex(t);
        }
        try {
            byte[] b = Base64.getDecoder().decode(t);
            if (b.length == 32) {
                return b;
            }
        } catch (IllegalArgumentException e) {
            // fall through to the message below
        }
        throw new IllegalArgumentException(where + " does not hold a 32-byte key (64 hex digits, base64, or 32 raw bytes)");
    }
}
