package io.dr4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Runs {@code dr4j} in-process with captured output and a given environment; the CLI tests' shared fixture. */
final class CliRunner {

    record Result(int exitCode, String out, String err) {
    }

    private final Map<String, String> env;

    CliRunner(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Dr4jCommand.execute(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), env);
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Runs {@code args} and asserts exit code 0, naming the command and its stderr if not. */
    Result ok(String... args) {
        Result r = run(args);
        assertThat(r.exitCode()).as(String.join(" ", args) + ": " + r.err()).isZero();
        return r;
    }

    /**
     * {@code command} (words split on spaces, e.g. {@code "key add"}), then the repository options
     * {@code repo}, {@code --key-file keyFile} and {@code rest}.
     */
    static String[] args(List<String> repo, Path keyFile, String command, String... rest) {
        List<String> all = new ArrayList<>(Arrays.asList(command.split(" ")));
        all.addAll(repo);
        all.add("--key-file");
        all.add(keyFile.toString());
        all.addAll(Arrays.asList(rest));
        return all.toArray(String[]::new);
    }

    /** {@code --repo} of a local repository in {@code dir}, as a {@code file:} URI. */
    static List<String> localRepo(Path dir) {
        return List.of("--repo", dir.toUri().toString());
    }
}
