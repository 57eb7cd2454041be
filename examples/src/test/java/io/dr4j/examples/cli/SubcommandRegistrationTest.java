package io.dr4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Only the subcommand a run names is built; help, errors and suggestions are as with all of them. */
class SubcommandRegistrationTest {

    private final CliRunner cli = new CliRunner(Map.of());
    private final PrintStream nowhere = new PrintStream(OutputStream.nullOutputStream());

    private static List<String> names() {
        return Dr4jCommand.SUBCOMMANDS.stream().map(c -> c.getAnnotation(Command.class).name()).toList();
    }

    @Test
    void aRunThatNamesASubcommandBuildsOnlyThatOne() {
        CommandLine line = Dr4jCommand.commandLine(new Dr4jCommand(nowhere, nowhere, Map.of()),
                new String[] {"snapshots", "--repo", "/tmp/r"});
        assertThat(line.getSubcommands()).containsOnlyKeys("snapshots");
    }

    @Test
    void helpAndNoArgumentsListEverySubcommandInOrder() {
        assertThat(names()).doesNotHaveDuplicates().hasSize(17);
        for (String[] args : List.of(new String[] {"--help"}, new String[0])) {
            CommandLine line = Dr4jCommand.commandLine(new Dr4jCommand(nowhere, nowhere, Map.of()), args);
            assertThat(List.copyOf(line.getSubcommands().keySet())).isEqualTo(names());
        }
        String help = cli.run("--help").out();
        int last = -1;
        for (String name : names()) {
            int at = help.indexOf("\n  " + name + " ");
            assertThat(at).as(name + " in --help").isGreaterThan(last);
            last = at;
        }
    }

    @Test
    void everyCommandTakesHelpAndAMisspeltNameIsSuggested() {
        CliRunner.Result backupHelp = cli.run("backup", "--help");
        assertThat(backupHelp.exitCode()).isZero();
        assertThat(backupHelp.out()).contains("Usage: dr4j backup").contains("-h, --help");
        assertThat(cli.run("key", "--help").out()).contains("Usage: dr4j key [-hV]");
        assertThat(cli.run("restore", "--version").out()).contains("dr4j 0.1.0");

        CliRunner.Result misspelt = cli.run("backpu", "--repo", "/tmp/r");
        assertThat(misspelt.exitCode()).isEqualTo(ExitCode.USAGE);
        assertThat(misspelt.err()).contains("backpu").contains("backup");
    }
}
