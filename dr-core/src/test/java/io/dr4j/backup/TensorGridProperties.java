package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

/**
 * The cuts of a safetensors file ({@link FileChunker}'s tensor grid): they rebuild the file, stay
 * within [1, maxSize], put every tensor's end on a cut when it is at least minSize after the cut
 * before it, depend on the header only (rewriting any data bytes moves no cut), and inside a
 * large tensor fall on the grid of its start. Small chunk sizes (min 256, max 2048: stride 1536)
 * so that layouts with many strides stay small.
 */
class TensorGridProperties {

    private static final ChunkerParameters CHUNKS = new ChunkerParameters(256, 1024, 2048);
    private static final int STRIDE = CHUNKS.maxSize() - 2 * CHUNKS.minSize();

    /** A random layout: tiny (norms), mid-sized and large (several strides) tensors, each of whole BF16 values. */
    private static byte[] file(long seed, int tensors, byte[][] jsonOut) {
        Random r = new Random(seed);
        StringBuilder json = new StringBuilder("{");
        long offset = 0;
        for (int i = 0; i < tensors; i++) {
            int kind = r.nextInt(3);
            long values = switch (kind) {
                case 0 -> 1 + r.nextInt(CHUNKS.minSize() / 2);
                case 1 -> CHUNKS.minSize() / 2 + r.nextInt(CHUNKS.maxSize());
                default -> CHUNKS.maxSize() + r.nextInt(6 * CHUNKS.maxSize());
            };
            long end = offset + 2 * values;
            json.append(i == 0 ? "" : ",").append("\"t").append(i).append("\":{\"dtype\":\"BF16\",\"shape\":[").append(values)
                    .append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
            offset = end;
        }
        json.append('}');
        while ((json.length() + 8) % 8 != 0) {
            json.append(' ');
        }
        byte[] header = json.toString().getBytes(StandardCharsets.UTF_8);
        jsonOut[0] = header;
        byte[] file = new byte[8 + header.length + (int) offset];
        long n = header.length;
        for (int i = 0; i < 8; i++) {
            file[i] = (byte) (n >>> (8 * i));
        }
        System.arraycopy(header, 0, file, 8, header.length);
        for (int i = 8 + header.length; i < file.length; i++) {
            file[i] = (byte) r.nextInt();
        }
        return file;
    }

    private static List<long[]> cuts(byte[] file, SafetensorsHeader header, byte[] out) throws IOException {
        FastCdc cdc = new Crypto(new byte[Crypto.MASTER_LENGTH]).chunker(CHUNKS);
        List<long[]> chunks = new ArrayList<>();
        new FileChunker(cdc).chunk(Channels.newChannel(new ByteArrayInputStream(file)), header, (buf, off, len, pos) -> {
            System.arraycopy(buf, off, out, (int) pos, len);
            chunks.add(new long[] {pos, pos + len});
        }, () -> false);
        return chunks;
    }

    @Property(tries = 200)
    void cutsRebuildTheFileDependOnTheHeaderOnlyAndFollowTheGrid(@ForAll @LongRange(min = 0, max = 1_000_000) long seed,
            @ForAll @IntRange(min = 1, max = 12) int tensors) throws IOException {
        byte[][] json = new byte[1][];
        byte[] file = file(seed, tensors, json);
        SafetensorsHeader header = SafetensorsHeader.parse(json[0], file.length);
        byte[] rebuilt = new byte[file.length];
        List<long[]> chunks = cuts(file, header, rebuilt);
        assertThat(rebuilt).isEqualTo(file);

        long previousCut = 0;
        List<Long> ends = new ArrayList<>();
        for (long[] c : chunks) {
            assertThat(c[1] - c[0]).isBetween(1L, (long) CHUNKS.maxSize());
            ends.add(c[1]);
        }
        for (SafetensorsHeader.Tensor t : header.tensors()) {
            // the cut before the tensor's end
            long before = previousCut;
            for (long e : ends) {
                if (e < t.end()) {
                    before = Math.max(before, e);
                }
            }
            if (t.end() - before >= CHUNKS.minSize()) {
                assertThat(ends).as("tensor [%d, %d) ends on a cut", t.start(), t.end()).contains(t.end());
            }
            if (ends.contains(t.start())) {
                // inside a tensor that starts on a cut, every cut is on its grid
                for (long e : ends) {
                    if (e > t.start() && e < t.end()) {
                        assertThat((e - t.start()) % STRIDE).as("cut %d inside [%d, %d)", e, t.start(), t.end()).isZero();
                    }
                }
            }
        }

        // Rewriting every data byte moves no cut: they come from the header alone.
        byte[] rewritten = file.clone();
        Random r = new Random(~seed);
        for (int i = (int) header.dataStart(); i < rewritten.length; i++) {
            rewritten[i] = (byte) r.nextInt();
        }
        List<long[]> again = cuts(rewritten, header, new byte[file.length]);
        assertThat(again).hasSameSizeAs(chunks);
        for (int i = 0; i < chunks.size(); i++) {
            assertThat(again.get(i)).isEqualTo(chunks.get(i));
        }
    }
}
