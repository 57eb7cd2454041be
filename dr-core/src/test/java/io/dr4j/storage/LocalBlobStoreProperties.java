package io.dr4j.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

class LocalBlobStoreProperties {

    private static final byte[] DATA = new byte[20_000];
    private static Path dir;
    private static LocalBlobStore store;

    @BeforeContainer
    static void setUp() throws IOException {
        new Random(7).nextBytes(DATA);
        dir = Files.createTempDirectory("dr4j-props");
        store = LocalBlobStore.builder(dir).sync(false).build();
        store.put(BlobKey.of("object"), DATA);
    }

    @AfterContainer
    static void tearDown() throws IOException {
        store.close();
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Property(tries = 300)
    void rangedReadEqualsSliceOfWholeRead(@ForAll @IntRange(min = 0, max = 20_000) int offset,
            @ForAll @IntRange(min = 0, max = 25_000) int length) throws IOException {
        byte[] expected = Arrays.copyOfRange(DATA, offset, Math.min(DATA.length, offset + length));
        try (InputStream in = store.get(BlobKey.of("object"), offset, length)) {
            assertThat(in.readAllBytes()).isEqualTo(expected);
        }
    }
}
