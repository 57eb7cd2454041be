package io.dr4j.examples.cli;

import io.dr4j.Dr4jException;
import io.dr4j.backup.CorruptObjectException;
import io.dr4j.backup.OperationCancelledException;
import io.dr4j.backup.RepositoryLockedException;
import io.dr4j.backup.RestoreTargetException;
import io.dr4j.backup.SnapshotNotFoundException;
import io.dr4j.backup.UnsafePathException;
import io.dr4j.backup.UnsupportedFormatException;
import io.dr4j.backup.WrongKeyException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code dr4j}: the operator's tool. Everything needed to back up, check and — in the worst hour,
 * on a fresh machine, with the application dead — restore a checkpoint, in one runnable jar:
 * {@code java -jar dr4j.jar restore --repo s3://bucket/llama --key-file key latest /srv/ckpt}.
 * Exit codes are listed in {@link ExitCode}.
 */
// INHERIT: every subcommand takes -h/--help (what docs/guide.md §6 promises) and shows the exit codes
@Command(name = "dr4j", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT, version = "dr4j 0.1.0",
        description = "Back up, verify, restore and drill model checkpoints in local, S3, Azure and replicated repositories.",
        footerHeading = "%nExit codes:%n",
        footer = {"  0  success (and for verify/drill: the check passed)", "  1  failure (store, I/O, unexpected error)",
            "  2  usage error (options, URI, duration, missing key)", "  3  check failed (verify problems, drill failed, "
                + "repair incomplete, corrupt chunk)", "  4  wrong key or password", "  5  no repository or no such snapshot",
            "  6  repository locked", "  7  restore target refused (not empty, not writable, too small)",
            "  8  rollback detected (the store's newest snapshot is older than one seen before; see accept-rollback)",
            "130  interrupted or cancelled"})
public final class Dr4jCommand implements Callable<Integer> {

    /**
     * The subcommands, in the order {@code dr4j --help} lists them. Registered by
     * {@link #commandLine}, not by the {@code @Command} annotation: picocli builds the model of
     * every registered command by reflection when the {@link CommandLine} is created, which took
     * ~0.3 s of every run on 2 vCPUs, though a run needs one of them.
     */
    static final List<Class<?>> SUBCOMMANDS = List.of(Commands.Init.class, Commands.Backup.class, Commands.Restore.class,
            Commands.Verify.class, Commands.Snapshots.class, Commands.Diff.class, Commands.Forget.class, Commands.Prune.class,
            Commands.Drill.class, Commands.Repair.class, UnlockCommand.class, AcceptRollbackCommand.class, KeyCommand.class,
            LsCommand.class, DumpCommand.class, CopyCommand.class, StatsCommand.class);

    final PrintStream out;
    final PrintStream err;
    final Map<String, String> env;

    Dr4jCommand(PrintStream out, PrintStream err, Map<String, String> env) {
        this.out = out;
        this.err = err;
        this.env = Map.copyOf(env);
    }

    public static void main(String[] args) {
        if (subcommand(args) != null) {
            Preload.start(); // not for --help, --version or a misspelt command
        }
        System.exit(execute(args, System.out, System.err, System.getenv()));
    }

    /**
     * The command line for {@code args}: when the first argument names a subcommand, only that
     * one is registered (its options, help and errors are the same as with all of them); anything
     * else (no argument, {@code --help}, a misspelt name, for which picocli suggests the right one)
     * gets every subcommand.
     */
    static CommandLine commandLine(Dr4jCommand root, String[] args) {
        CommandLine cli = new CommandLine(root);
        Class<?> named = subcommand(args);
        for (Class<?> command : named == null ? SUBCOMMANDS : List.of(named)) {
            cli.addSubcommand(command);
        }
        return cli;
    }

    /** The subcommand {@code args[0]} names, or null. */
    private static Class<?> subcommand(String[] args) {
        if (args.length == 0) {
            return null;
        }
        for (Class<?> command : SUBCOMMANDS) {
            if (command.getAnnotation(Command.class).name().equals(args[0])) {
                return command;
            }
        }
        return null;
    }

    /**
     * Runs {@code dr4j} with {@code args}, writing results to {@code out}, progress and errors to
     * {@code err}, reading keys and credentials from {@code env}; returns the exit code.
     */
    public static int execute(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
        CommandLine cli = commandLine(new Dr4jCommand(out, err, env), args);
        cli.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
        cli.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            int code = exitCode(e);
            err.println("dr4j: " + (code == ExitCode.FAILURE && !(e instanceof Dr4jException) ? e.toString() : message(e)));
            return code;
        });
        int code = cli.execute(args);
        CommandLine.ParseResult parsed = cli.getParseResult();
        while (parsed != null && parsed.hasSubcommand()) {
            parsed = parsed.subcommand();
        }
        if (parsed != null && parsed.commandSpec().userObject() instanceof RepoCommand command) {
            code = command.writeMetrics(code);
        }
        return code;
    }

    @Override
    public Integer call() {
        commandLine(this, new String[0]).usage(out);
        return ExitCode.USAGE;
    }

    static int exitCode(Throwable e) {
        if (e instanceof io.dr4j.backup.RollbackDetectedException) {
            return ExitCode.ROLLBACK;
        }
        if (e instanceof WrongKeyException) {
            return ExitCode.WRONG_KEY;
        }
        if (e instanceof UnsupportedFormatException || e instanceof SnapshotNotFoundException
                || e instanceof io.dr4j.backup.PathNotFoundException
                || e instanceof NoSuchFileException) {
            return ExitCode.NOT_FOUND;
        }
        if (e instanceof RepositoryLockedException) {
            return ExitCode.LOCKED;
        }
        if (e instanceof RestoreTargetException || e instanceof UnsafePathException) {
            return ExitCode.TARGET_REFUSED;
        }
        if (e instanceof CorruptObjectException) {
            return ExitCode.CHECK_FAILED;
        }
        if (e instanceof OperationCancelledException || e instanceof InterruptedException) {
            return ExitCode.CANCELLED;
        }
        if (e instanceof IllegalArgumentException || e instanceof CommandLine.ParameterException) {
            return ExitCode.USAGE;
        }
        if (e instanceof UncheckedIOException u && u.getCause() != null) {
            return exitCode(u.getCause());
        }
        return ExitCode.FAILURE;
    }

    private static String message(Throwable e) {
        if (e instanceof NoSuchFileException n) {
            return "not found: " + n.getFile() + (n.getReason() == null ? "" : " (" + n.getReason() + ")");
        }
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }
}
