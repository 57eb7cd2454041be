package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.backup.SafetensorsHeader.CodecHint;
import io.dr4j.backup.TensorCodec.Dtype;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsHeaderTest {

    @TempDir
    Path dir;

    /** 3 tensors: BF16 [4, 8] (64 bytes), F32 [3] (12 bytes), BF16 [1000] (2,000 bytes); header padded to 8. */
    private static final String GOOD = "{\"__metadata__\":{\"format\":\"pt\"},"
            + "\"b.weight\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[64,76]},"
            + "\"a.weight\":{\"dtype\":\"BF16\",\"shape\":[4,8],\"data_offsets\":[0,64]},"
            + "\"c.weight\":{\"dtype\":\"BF16\",\"shape\":[1000],\"data_offsets\":[76,2076]}}";

    @Test
    void parsesTensorsInFileOrderWithAbsoluteOffsets() throws IOException {
        SafetensorsHeader h = parse(GOOD, 2076);
        long d = h.dataStart();
        assertThat(d % 8).isZero();
        assertThat(h.metadata()).containsEntry("format", "pt");
        assertThat(h.tensors()).extracting(SafetensorsHeader.Tensor::name).containsExactly("a.weight", "b.weight", "c.weight");
        assertThat(h.tensors().get(0).shape()).containsExactly(4L, 8L);
        assertThat(h.tensors().get(1).start()).isEqualTo(d + 64);
        assertThat(h.tensors().get(1).end()).isEqualTo(d + 76);
        assertThat(h.boundaries(0, h.fileSize() + 1)).containsExactly(d, d + 64, d + 76, d + 2076);
        assertThat(h.boundaries(d + 1, d + 76)).containsExactly(d + 64);
        assertThat(h.nextBoundary(d + 65)).isEqualTo(d + 76);
        assertThat(h.nextBoundary(d + 2077)).isEqualTo(-1);
    }

    @Test
    void codecHintIsTheMajorityDtypeWithThePhaseOfItsElementGrid() throws IOException {
        SafetensorsHeader h = parse(GOOD, 2076);
        long d = h.dataStart();
        assertThat(h.codecHint(d, d + 64)).isEqualTo(new CodecHint(Dtype.BF16, 0));
        assertThat(h.codecHint(d + 3, d + 60)).isEqualTo(new CodecHint(Dtype.BF16, 1));
        assertThat(h.codecHint(d + 64, d + 76)).isEqualTo(new CodecHint(Dtype.F32, 0));
        assertThat(h.codecHint(d + 66, d + 76)).isEqualTo(new CodecHint(Dtype.F32, 2));
        // mostly c.weight, which starts 76 - 70 = 6 bytes in: phase 0 on its grid
        assertThat(h.codecHint(d + 70, d + 1000)).isEqualTo(new CodecHint(Dtype.BF16, 0));
        assertThat(h.codecHint(d + 71, d + 1000)).isEqualTo(new CodecHint(Dtype.BF16, 1));
        // the header is not tensor data
        assertThat(h.dtypeOf(0, d + 10)).isEqualTo(Dtype.OTHER);
        assertThat(h.dtypeOf(d + 2076, d + 3000)).isEqualTo(Dtype.OTHER);
        assertThat(h.dtypeOf(d + 10, d + 10)).isEqualTo(Dtype.OTHER);
    }

    @Test
    void mixedOrUnknownDtypesAreOther() throws IOException {
        String json = "{\"a\":{\"dtype\":\"I8\",\"shape\":[100],\"data_offsets\":[0,100]},"
                + "\"b\":{\"dtype\":\"F8_E4M3\",\"shape\":[50],\"data_offsets\":[100,150]},"
                + "\"c\":{\"dtype\":\"F16\",\"shape\":[50],\"data_offsets\":[150,250]},"
                + "\"d\":{\"dtype\":\"X9_FUTURE\",\"shape\":[7],\"data_offsets\":[250,261]}}";
        SafetensorsHeader h = parse(json, 261);
        long d = h.dataStart();
        assertThat(h.dtypeOf(d, d + 250)).isEqualTo(Dtype.OTHER);
        assertThat(h.dtypeOf(d + 120, d + 250)).isEqualTo(Dtype.F16);
        assertThat(h.tensors().get(3).codecDtype()).isEqualTo(Dtype.OTHER);
    }

    @Test
    void holesAndTrailingBytesAreAllowed() throws IOException {
        String json = "{\"a\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[8,12]}}";
        SafetensorsHeader h = parse(json, 100);
        assertThat(h.boundaries(0, h.fileSize())).containsExactly(h.dataStart(), h.dataStart() + 8, h.dataStart() + 12);
    }

    @Test
    void emptyHeaderHasNoTensors() throws IOException {
        SafetensorsHeader h = parse("{}", 0);
        assertThat(h.tensors()).isEmpty();
        assertThat(h.dtypeOf(0, h.fileSize())).isEqualTo(Dtype.OTHER);
    }

    @Test
    void hostileHeaderLengthsAreRejected() throws IOException {
        assertRejected(withLength(Long.MAX_VALUE, "{}", 10), "header length");
        assertRejected(withLength(-1, "{}", 10), "header length");
        assertRejected(withLength(SafetensorsHeader.MAX_HEADER_LENGTH + 1, "{}", 10), "header length");
        assertRejected(withLength(1000, "{}", 10), "header length"); // larger than the file
        assertRejected(withLength(0, "", 0), "header length");
        Path tiny = dir.resolve("tiny");
        Files.write(tiny, new byte[] {1, 2, 3});
        assertRejected(tiny, "shorter than");
    }

    @Test
    void malformedJsonIsRejected() throws IOException {
        assertRejected(file("[1,2]", 0), "start with '{'");
        assertRejected(file("{\"a\": ", 0), "not valid JSON");
        assertRejected(file("{} {}", 0), "not valid JSON");
        assertRejected(file("{\"a\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[0,2]},"
                + "\"a\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[2,4]}}", 4), "not valid JSON");
        assertRejected(file("{\"a\":7}", 0), "not an object");
        assertRejected(file("{\"__metadata__\":{\"k\":1}}", 0), "not a string");
        assertRejected(file("{\"a\":{\"shape\":[1],\"data_offsets\":[0,2]}}", 2), "no dtype");
        assertRejected(file("{\"a\":{\"dtype\":\"BF16\",\"data_offsets\":[0,2]}}", 2), "no shape");
        assertRejected(file("{\"a\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[0]}}", 2), "data_offsets");
        assertRejected(file("{\"a\":{\"dtype\":\"BF16\",\"shape\":[-1],\"data_offsets\":[0,2]}}", 2), "non-negative");
        assertRejected(file("{\"a\":{\"dtype\":\"BF16\",\"shape\":[1.5],\"data_offsets\":[0,2]}}", 2), "non-negative");
    }

    @Test
    void offsetsOutsideTheFileAreRejected() throws IOException {
        assertRejected(file("{\"a\":{\"dtype\":\"BF16\",\"shape\":[100],\"data_offsets\":[0,200]}}", 199), "after the end of the file");
        assertRejected(file("{\"a\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[4,2]}}", 8), "before it begins");
        assertRejected(file("{\"a\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[0,99999999999999999999]}}", 8),
                "non-negative integer");
    }

    @Test
    void overlappingTensorsAreRejected() throws IOException {
        assertRejected(file("{\"a\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[6,14]}}", 14), "overlaps");
    }

    @Test
    void sizeThatDoesNotMatchShapeAndDtypeIsRejected() throws IOException {
        assertRejected(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,8]}}", 8), "needs 16");
        assertRejected(file("{\"a\":{\"dtype\":\"BF16\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8),
                "overflows");
        // 4-bit values: 3 of them take 2 bytes
        assertThat(parse("{\"a\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}", 2).tensors()).hasSize(1);
    }

    private SafetensorsHeader parse(String json, long dataBytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file(json, dataBytes), StandardOpenOption.READ)) {
            return SafetensorsHeader.tryParse(ch).orElseThrow();
        }
    }

    private void assertRejected(Path path, String message) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            assertThatThrownBy(() -> SafetensorsHeader.parse(ch))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("not a valid safetensors file")
                    .hasMessageContaining(message);
            assertThat(SafetensorsHeader.tryParse(ch)).isEmpty();
        }
    }

    /** A safetensors file: the JSON padded with spaces to a multiple of 8, then dataBytes bytes. */
    private Path file(String json, long dataBytes) throws IOException {
        byte[] j = json.getBytes(StandardCharsets.UTF_8);
        int padded = (j.length + 7) / 8 * 8;
        StringBuilder s = new StringBuilder(json);
        while (s.length() < padded) {
            s.append(' ');
        }
        return withLength(padded, s.toString(), dataBytes);
    }

    private int files;

    private Path withLength(long headerLength, String json, long dataBytes) throws IOException {
        Path p = dir.resolve("f" + files++ + ".safetensors");
        byte[] j = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + j.length + (int) dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLength).put(j);
        Files.write(p, b.array());
        return p;
    }

    @Test
    void readsFromAChannelWithoutMovingIt() throws IOException {
        try (FileChannel ch = FileChannel.open(file(GOOD, 2076), StandardOpenOption.READ)) {
            ch.position(5);
            assertThat(SafetensorsHeader.tryParse(ch)).isPresent();
            assertThat(ch.position()).isEqualTo(5);
        }
    }
}
