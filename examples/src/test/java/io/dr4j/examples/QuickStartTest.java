package io.dr4j.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class QuickStartTest {

    @Test
    void quickStartRunsEveryStepAndRemovesItsFiles() throws Exception {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        long before = quickStartDirs(tmp);
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            QuickStart.main(new String[0]);
        } finally {
            System.setOut(original);
        }
        String output = captured.toString(StandardCharsets.UTF_8);
        original.print(output);

        assertThat(output).contains("identical to the source: yes", "DR drill PASSED", "intact")
                .contains("5 calls answered by: [eu-west, eu-west, eu-west, eu-west, eu-west]");
        assertThat(quickStartDirs(tmp)).as("temporary directory removed").isEqualTo(before);
    }

    private static long quickStartDirs(Path tmp) throws Exception {
        try (Stream<Path> list = Files.list(tmp)) {
            return list.filter(p -> p.getFileName().toString().startsWith("dr4j-quickstart-")).count();
        }
    }
}
