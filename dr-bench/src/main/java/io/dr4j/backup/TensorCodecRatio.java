package io.dr4j.backup;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Stored bytes of a checkpoint directory per chunk, as the engine will store them, with and
 * without the tensor codec: each file is cut into chunks of at most 1 MiB, a cut snapped to a
 * tensor boundary where one lies more than 64 KiB into the window, or 64 KiB short of a boundary
 * that lies less than 64 KiB past it, so that the next chunk ends on the boundary instead of
 * spilling a small tail of one tensor into the next (the tensor-aligned chunking of issue 16
 * emulated; not FastCDC, so this measures the codec and the alignment, not dedup). A chunk takes the tensor codec
 * when {@link SafetensorsHeader#codecHint} names a dtype and the codec pays, else zstd -3 when that
 * saves 3%, else raw; the baseline is zstd -3 per chunk on the same cuts (dr4j today).
 * Single-threaded; the times are CPU-bound wall times of this one thread.
 *
 * <p>Given a second directory (version 1 of the same checkpoint), it also reports the chunks
 * whose bytes differ from version 1's at the same cuts: what an incremental backup would store.
 *
 * <pre>
 * java -cp dr-bench/target/benchmarks.jar io.dr4j.backup.TensorCodecRatio /tmp/weights [/tmp/weights-v1]
 * </pre>
 */
public final class TensorCodecRatio {

    private static final int CHUNK = 1 << 20;
    private static final int MIN_SNAP = 64 << 10;
    private static final int ZSTD_LEVEL = 3;

    private TensorCodecRatio() {
    }

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args.length > 0 ? args[0] : "/tmp/weights");
        Path previous = args.length > 1 ? Path.of(args[1]) : null;
        byte[] before = new byte[CHUNK];
        long changedRaw = 0;
        long changedStored = 0;
        long changedChunks = 0;
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(Files::isRegularFile).sorted().collect(Collectors.toList());
        }
        TensorCodec codec = TensorCodec.defaults();
        byte[] plain = new byte[CHUNK];
        byte[] out = new byte[Math.max(TensorCodec.maxEncodedLength(CHUNK), (int) Zstd.compressBound(CHUNK))];
        Map<TensorCodec.Dtype, long[]> perDtype = new EnumMap<>(TensorCodec.Dtype.class); // raw, stored, zstd
        long raw = 0;
        long stored = 0;
        long zstdOnly = 0;
        long chunks = 0;
        long tensorChunks = 0;
        long codecNanos = 0;
        long zstdNanos = 0;
        try (TensorCodec.Scratch scratch = codec.newScratch(); ZstdCompressCtx zstd = new ZstdCompressCtx().setLevel(ZSTD_LEVEL)) {
            for (Path file : files) {
                Path old = previous == null ? null : previous.resolve(file.getFileName());
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
                        FileChannel oldCh = old != null && Files.exists(old) ? FileChannel.open(old, StandardOpenOption.READ) : null) {
                    Optional<SafetensorsHeader> header = SafetensorsHeader.tryParse(ch);
                    long size = ch.size();
                    long pos = 0;
                    while (pos < size) {
                        long end = Math.min(pos + CHUNK, size);
                        if (header.isPresent()) {
                            long b = header.get().nextBoundary(pos + MIN_SNAP);
                            if (b > 0 && b < end) {
                                end = b;
                            } else if (b > 0 && b < end + MIN_SNAP && b - MIN_SNAP > pos) {
                                // the boundary lies just past the window: stop short so that the next
                                // chunk ends on it, rather than spill a small tail into the next tensor
                                end = b - MIN_SNAP;
                            }
                        }
                        int len = (int) (end - pos);
                        ByteBuffer buf = ByteBuffer.wrap(plain, 0, len);
                        while (buf.hasRemaining()) {
                            if (ch.read(buf, pos + buf.position()) < 0) {
                                throw new IOException(file + " shrank while being read");
                            }
                        }
                        SafetensorsHeader.CodecHint hint = header.isPresent()
                                ? header.get().codecHint(pos, end) : new SafetensorsHeader.CodecHint(TensorCodec.Dtype.OTHER, 0);
                        long t0 = System.nanoTime();
                        int z = zstd.compressByteArray(out, 0, out.length, plain, 0, len);
                        int zStored = z < len - len / 32 ? z : len;
                        long t1 = System.nanoTime();
                        int n = codec.encode(hint.dtype(), hint.phase(), plain, 0, len, out, 0, scratch);
                        long t2 = System.nanoTime();
                        zstdNanos += t1 - t0;
                        int chunkStored;
                        if (n >= 0) {
                            chunkStored = n;
                            tensorChunks++;
                            codecNanos += t2 - t1;
                        } else {
                            chunkStored = zStored;
                            codecNanos += t2 - t1 + (t1 - t0);
                        }
                        long[] d = perDtype.computeIfAbsent(hint.dtype(), k -> new long[3]);
                        d[0] += len;
                        d[1] += chunkStored;
                        d[2] += zStored;
                        if (previous != null && !sameAs(oldCh, pos, plain, len, before)) {
                            changedRaw += len;
                            changedStored += chunkStored;
                            changedChunks++;
                        }
                        raw += len;
                        stored += chunkStored;
                        zstdOnly += zStored;
                        chunks++;
                        pos = end;
                    }
                }
            }
        }
        System.out.printf(Locale.ROOT, "%d files, %d bytes, %d chunks (%d tensor-coded)%n", files.size(), raw, chunks, tensorChunks);
        System.out.printf(Locale.ROOT, "with tensor codec: %d bytes stored, %.4fx of raw, %.0f MB/s on one thread%n",
                stored, stored / (double) raw, raw / (codecNanos / 1e3));
        System.out.printf(Locale.ROOT, "zstd -%d per chunk: %d bytes stored, %.4fx of raw, %.0f MB/s on one thread%n",
                ZSTD_LEVEL, zstdOnly, zstdOnly / (double) raw, raw / (zstdNanos / 1e3));
        if (previous != null) {
            System.out.printf(Locale.ROOT, "changed since %s: %d chunks, %d bytes, %d stored%n", previous, changedChunks,
                    changedRaw, changedStored);
        }
        for (Map.Entry<TensorCodec.Dtype, long[]> e : perDtype.entrySet()) {
            long[] d = e.getValue();
            System.out.printf(Locale.ROOT, "  %-5s %,15d bytes: codec %.4fx, zstd %.4fx%n", e.getKey(), d[0],
                    d[1] / (double) d[0], d[2] / (double) d[0]);
        }
    }

    /** Whether {@code old} holds {@code plain[0, len)} at {@code pos}; a missing file or a short read is "changed". */
    private static boolean sameAs(FileChannel old, long pos, byte[] plain, int len, byte[] scratch) throws IOException {
        if (old == null || old.size() < pos + len) {
            return false;
        }
        ByteBuffer buf = ByteBuffer.wrap(scratch, 0, len);
        while (buf.hasRemaining()) {
            if (old.read(buf, pos + buf.position()) < 0) {
                return false;
            }
        }
        return Arrays.equals(plain, 0, len, scratch, 0, len);
    }
}
