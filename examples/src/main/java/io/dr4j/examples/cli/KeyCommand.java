package io.dr4j.examples.cli;

import io.dr4j.backup.KeyProvider;
import io.dr4j.backup.KeySlot;
import io.dr4j.backup.Repository;
import io.dr4j.storage.BlobStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code dr4j key list | add | remove | passwd}: the repository's key slots. Each slot holds the
 * same master key wrapped under another key, so adding, removing or changing one rewrites only
 * {@code config} (atomically) and never the data: a removed key can no longer open the
 * repository, but whoever held it and read the master key keeps what they read. Rotating the
 * master key means copying into a new repository (docs/guide.md, "Key slots").
 */
@Command(name = "key", description = {"Manage the repository's key slots:",
        "  key list                      the slots: id, kind, when set, label; (current) marks the one the key opened",
        "  key add    --new-...  [--label TEXT]  add a slot for a new password or raw key",
        "  key remove SLOT               remove a slot (never the last one, nor the one the key opened)",
        "  key passwd --new-...          change the key of the slot the given key opens (id and label stay)",
        "The repository key options (--key-file, --password-env, ...) give a current key; the --new-* options the new one."})
final class KeyCommand extends RepoCommand {

    @Parameters(index = "0", paramLabel = "ACTION", completionCandidates = Actions.class,
            description = "list, add, remove or passwd.")
    String action;

    @Parameters(index = "1", arity = "0..1", paramLabel = "SLOT", description = "remove: the slot id, as key list shows it.")
    String slot;

    @Mixin
    NewKey newKey;

    @Option(names = "--label", paramLabel = "TEXT", description = "add: a label for the slot, e.g. who holds the key.")
    String label;

    /** The actions, for help and completion. */
    static final class Actions extends java.util.ArrayList<String> {
        Actions() {
            super(List.of("list", "add", "remove", "passwd"));
        }
    }

    @Override
    public Integer call() throws Exception {
        if (!new Actions().contains(action)) {
            throw new IllegalArgumentException("unknown key action '" + action + "': give list, add, remove or passwd");
        }
        if ((slot != null) != action.equals("remove")) {
            throw new IllegalArgumentException(action.equals("remove") ? "key remove needs the SLOT id (see key list)"
                    : "key " + action + " takes no SLOT argument");
        }
        if (label != null && !action.equals("add")) {
            throw new IllegalArgumentException("--label applies to key add only");
        }
        boolean needsNew = action.equals("add") || action.equals("passwd");
        if (!needsNew && newKey.given() > 0) {
            throw new IllegalArgumentException("--new-* options apply to key add and key passwd only");
        }
        KeyProvider replacement = needsNew ? newKey.load(root.env) : null;
        try (BlobStore store = openStore(false); Repository repo = openRepository(store)) {
            switch (action) {
                case "list" -> {
                    List<KeySlot> slots = repo.keySlots();
                    if (json) {
                        printJson(slots.stream().map(KeyCommand::json).toList());
                    } else {
                        slots.forEach(this::print);
                    }
                }
                case "add" -> report("added", repo.addKey(replacement, label == null ? "" : label));
                case "passwd" -> report("changed", repo.changeKey(keyProvider(), replacement));
                default -> {
                    repo.removeKey(slot);
                    if (json) {
                        printJson(Map.of("removed", slot));
                    } else {
                        root.out.println("removed key slot " + slot);
                    }
                }
            }
            return ExitCode.OK;
        }
    }

    private void report(String what, KeySlot s) {
        if (json) {
            printJson(json(s));
        } else {
            root.out.print(what + " ");
            print(s);
        }
    }

    private void print(KeySlot s) {
        root.out.printf("%s  %-8s %-27s %s%s%n", s.id(), s.kind(), s.created().map(Object::toString).orElse("-"),
                s.label().isEmpty() ? "-" : s.label(), s.current() ? "  (current)" : "");
    }

    static Map<String, Object> json(KeySlot s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", s.id());
        m.put("kind", s.kind());
        m.put("label", s.label());
        m.put("created", s.created().map(Object::toString).orElse(null));
        m.put("current", s.current());
        return m;
    }

    /** Where the new key of {@code add} and {@code passwd} comes from: a file or a variable, never the command line. */
    static final class NewKey {
        @Option(names = "--new-password-file", paramLabel = "FILE", description = "File whose first line is the new password.")
        Path passwordFile;

        @Option(names = "--new-password-env", paramLabel = "VAR", description = "Environment variable holding the new password.")
        String passwordEnv;

        @Option(names = "--new-key-file", paramLabel = "FILE", description = "File holding the new raw 32-byte key (binary, hex or base64).")
        Path keyFile;

        @Option(names = "--new-key-env", paramLabel = "VAR", description = "Environment variable holding the new raw key (hex or base64).")
        String keyEnv;

        int given() {
            return (passwordFile != null ? 1 : 0) + (passwordEnv != null ? 1 : 0) + (keyFile != null ? 1 : 0)
                    + (keyEnv != null ? 1 : 0);
        }

        KeyProvider load(Map<String, String> env) throws IOException {
            if (given() != 1) {
                throw new IllegalArgumentException("give exactly one of --new-password-file, --new-password-env, --new-key-file,"
                        + " --new-key-env for the new key");
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
            if (keyFile != null) {
                byte[] bytes = Files.readAllBytes(keyFile);
                try {
                    return KeyProvider.rawKey(bytes.length == 32 ? bytes
                            : KeyOptions.decode(new String(bytes, StandardCharsets.US_ASCII), "key file " + keyFile));
                } finally {
                    Arrays.fill(bytes, (byte) 0);
                }
            }
            return KeyProvider.rawKey(KeyOptions.decode(variable(env, keyEnv), "variable " + keyEnv));
        }

        private static String variable(Map<String, String> env, String name) {
            String v = env.get(name);
            if (v == null || v.isEmpty()) {
                throw new IllegalArgumentException("environment variable " + name + " is not set");
            }
            return v;
        }
    }

}
