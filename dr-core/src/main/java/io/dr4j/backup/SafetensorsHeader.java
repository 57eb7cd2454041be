package io.dr4j.backup;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The header of a safetensors file, validated, and the two questions the backup engine asks of it:
 * which dtype a byte range of the file holds (to choose the {@link TensorCodec}), and where tensors
 * begin and end (so the chunker can cut there, and a fine-tune that rewrites whole tensors changes
 * only their chunks).
 *
 * <p>A safetensors file is an 8-byte little-endian header length {@code N}, {@code N} bytes of
 * JSON, then the data section. The JSON maps each tensor name to {@code {"dtype", "shape",
 * "data_offsets": [begin, end]}} with offsets relative to the data section (byte {@code 8 + N}),
 * plus an optional {@code "__metadata__"} map of strings. The header comes from the file being
 * backed up, so it is treated as hostile: lengths beyond the file or {@link #MAX_HEADER_LENGTH},
 * offsets outside the file, overlapping tensors, a byte size that does not match dtype × shape,
 * duplicate keys or trailing garbage are rejected with a message, and the engine handles the file
 * as plain bytes. Holes between tensors and bytes after the last one are allowed (they read as
 * {@link TensorCodec.Dtype#OTHER}); unknown dtype names are kept without a size check, as a newer
 * writer may use dtypes this class does not know.
 *
 * <p>Immutable and thread-safe. All offsets it returns are absolute file offsets.
 */
final class SafetensorsHeader {

    /** The largest JSON header accepted: 100 MB, as the reference implementation. */
    public static final long MAX_HEADER_LENGTH = 100_000_000L;

    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /** One tensor: its name, dtype as written, shape, and absolute byte range {@code [start, end)}. */
    public record Tensor(String name, String dtype, List<Long> shape, long start, long end) {
        public Tensor {
            shape = List.copyOf(shape);
        }

        /** Its bytes: {@code end - start}. */
        public long length() {
            return end - start;
        }

        /** The codec's view of its dtype. */
        public TensorCodec.Dtype codecDtype() {
            return codecDtypeOf(dtype);
        }
    }

    /**
     * What the codec needs to know of a chunk: the dtype covering most of its bytes, and the chunk's
     * {@code phase} against that dtype's element grid (bytes before the first element boundary).
     */
    public record CodecHint(TensorCodec.Dtype dtype, int phase) {
        static final CodecHint OTHER = new CodecHint(TensorCodec.Dtype.OTHER, 0);
    }

    private final long fileSize;
    private final long dataStart;
    private final List<Tensor> tensors;
    private final Map<String, String> metadata;
    private final long[] starts;
    private final long[] ends;
    private final TensorCodec.Dtype[] dtypes;
    private final long[] boundaries;

    private SafetensorsHeader(long fileSize, long dataStart, List<Tensor> sorted, Map<String, String> metadata) {
        this.fileSize = fileSize;
        this.dataStart = dataStart;
        this.tensors = Collections.unmodifiableList(sorted);
        this.metadata = Collections.unmodifiableMap(metadata);
        int n = sorted.size();
        starts = new long[n];
        ends = new long[n];
        dtypes = new TensorCodec.Dtype[n];
        long[] all = new long[2 * n + 1];
        all[0] = dataStart;
        for (int i = 0; i < n; i++) {
            Tensor t = sorted.get(i);
            starts[i] = t.start();
            ends[i] = t.end();
            dtypes[i] = t.codecDtype();
            all[2 * i + 1] = t.start();
            all[2 * i + 2] = t.end();
        }
        boundaries = Arrays.stream(all).sorted().distinct().toArray();
    }

    /**
     * Reads and validates the header of {@code file} (from position 0, not moving the channel).
     *
     * @return the header, or empty if the file is not a valid safetensors file
     * @throws IOException if reading fails
     */
    public static Optional<SafetensorsHeader> tryParse(FileChannel file) throws IOException {
        try {
            return Optional.of(parse(file));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /**
     * Reads and validates the header of {@code file} (from position 0, not moving the channel).
     *
     * @throws IllegalArgumentException naming what is wrong if the file is not a valid safetensors file
     * @throws IOException if reading fails
     */
    public static SafetensorsHeader parse(FileChannel file) throws IOException {
        long size = file.size();
        if (size < 8) {
            throw invalid("file of " + size + " bytes is shorter than the 8-byte header length");
        }
        ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(file, lengthBytes, 0);
        long n = lengthBytes.getLong(0);
        checkHeaderLength(n, size);
        ByteBuffer json = ByteBuffer.allocate((int) n);
        readFully(file, json, 8);
        return parse(json.array(), size);
    }

    /**
     * Validates a header already read: {@code json} is the JSON text that follows the 8-byte length
     * (its length is the header length), {@code fileSize} the size of the whole file.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static SafetensorsHeader parse(byte[] json, long fileSize) {
        checkHeaderLength(json.length, fileSize);
        long dataStart = 8L + json.length;
        if (json.length == 0 || json[0] != '{') {
            throw invalid("the header does not start with '{'");
        }
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw invalid("the header is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw invalid("the header cannot be read: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw invalid("the header is not a JSON object");
        }
        List<Tensor> tensors = new ArrayList<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if ("__metadata__".equals(field.getKey())) {
                readMetadata(field.getValue(), metadata);
            } else {
                tensors.add(readTensor(field.getKey(), field.getValue(), dataStart, fileSize));
            }
        }
        tensors.sort(Comparator.comparingLong(Tensor::start).thenComparingLong(Tensor::end));
        for (int i = 1; i < tensors.size(); i++) {
            Tensor previous = tensors.get(i - 1);
            Tensor t = tensors.get(i);
            if (t.start() < previous.end()) {
                throw invalid("tensor '" + t.name() + "' [" + t.start() + ", " + t.end() + ") overlaps '"
                        + previous.name() + "' [" + previous.start() + ", " + previous.end() + ")");
            }
        }
        return new SafetensorsHeader(fileSize, dataStart, tensors, metadata);
    }

    /** Size of the file the header was read from. */
    public long fileSize() {
        return fileSize;
    }

    /** Absolute offset of the data section: 8 + the header length. */
    public long dataStart() {
        return dataStart;
    }

    /** The tensors in file order. */
    public List<Tensor> tensors() {
        return tensors;
    }

    /** The {@code __metadata__} map, empty if absent. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * The dtype holding most bytes of {@code [from, to)}, if it is a codec dtype and holds at least
     * half of them, else {@link TensorCodec.Dtype#OTHER} (the header, holes and other dtypes count
     * against it); with the range's phase against the element grid of the first tensor of that
     * dtype in the range. A later tensor of the same dtype on another grid (after an odd-sized
     * tensor) is still encoded losslessly, only less well.
     */
    public CodecHint codecHint(long from, long to) {
        if (from < 0 || to < from) {
            throw new IllegalArgumentException("bad range [" + from + ", " + to + ")");
        }
        long bf16 = 0;
        long f16 = 0;
        long f32 = 0;
        long firstBf16 = -1;
        long firstF16 = -1;
        long firstF32 = -1;
        for (int i = firstEndingAfter(from); i < starts.length && starts[i] < to; i++) {
            long overlap = Math.min(ends[i], to) - Math.max(starts[i], from);
            if (overlap <= 0) {
                continue;
            }
            switch (dtypes[i]) {
                case BF16:
                    bf16 += overlap;
                    firstBf16 = firstBf16 < 0 ? starts[i] : firstBf16;
                    break;
                case F16:
                    f16 += overlap;
                    firstF16 = firstF16 < 0 ? starts[i] : firstF16;
                    break;
                case F32:
                    f32 += overlap;
                    firstF32 = firstF32 < 0 ? starts[i] : firstF32;
                    break;
                default:
                    break;
            }
        }
        long most = Math.max(bf16, Math.max(f16, f32));
        if (most == 0 || 2 * most < to - from) {
            return CodecHint.OTHER;
        }
        TensorCodec.Dtype dtype = most == bf16 ? TensorCodec.Dtype.BF16 : most == f32 ? TensorCodec.Dtype.F32 : TensorCodec.Dtype.F16;
        long first = dtype == TensorCodec.Dtype.BF16 ? firstBf16 : dtype == TensorCodec.Dtype.F32 ? firstF32 : firstF16;
        return new CodecHint(dtype, (int) Math.floorMod(first - from, (long) dtype.width()));
    }

    /** {@link #codecHint}'s dtype alone. */
    public TensorCodec.Dtype dtypeOf(long from, long to) {
        return codecHint(from, to).dtype();
    }

    /**
     * The tensor boundaries in {@code [from, to)}, ascending: the data section's start and every
     * tensor's start and end (a tensor's end is where the next one, or a hole, begins).
     */
    public long[] boundaries(long from, long to) {
        int lo = firstAtOrAfter(boundaries, from);
        int hi = firstAtOrAfter(boundaries, to);
        return Arrays.copyOfRange(boundaries, lo, Math.max(lo, hi));
    }

    /** The first tensor boundary at or after {@code from}, or -1 if there is none; allocates nothing. */
    public long nextBoundary(long from) {
        int i = firstAtOrAfter(boundaries, from);
        return i < boundaries.length ? boundaries[i] : -1;
    }

    /** The last tensor boundary at or before {@code at}, or -1 if there is none; allocates nothing. */
    public long previousBoundary(long at) {
        int i = firstAtOrAfter(boundaries, at + 1) - 1;
        return i >= 0 ? boundaries[i] : -1;
    }

    /** Index of the first tensor whose end is after {@code offset}: ends ascend since tensors do not overlap. */
    private int firstEndingAfter(long offset) {
        int lo = 0;
        int hi = ends.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (ends[mid] <= offset) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    private static int firstAtOrAfter(long[] sorted, long value) {
        int i = Arrays.binarySearch(sorted, value);
        return i >= 0 ? i : -i - 1;
    }

    private static void checkHeaderLength(long n, long fileSize) {
        if (n < 2 || n > MAX_HEADER_LENGTH || n > fileSize - 8) {
            throw invalid("header length " + n + " is outside [2, min(" + MAX_HEADER_LENGTH + ", file size "
                    + fileSize + " - 8)]");
        }
    }

    private static void readMetadata(JsonNode node, Map<String, String> metadata) {
        if (!node.isObject()) {
            throw invalid("__metadata__ is not an object");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw invalid("__metadata__ value of '" + e.getKey() + "' is not a string");
            }
            metadata.put(e.getKey(), e.getValue().asText());
        }
    }

    private static Tensor readTensor(String name, JsonNode node, long dataStart, long fileSize) {
        if (!node.isObject()) {
            throw invalid("tensor '" + name + "' is not an object");
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw invalid("tensor '" + name + "' has no dtype string");
        }
        String dtype = dtypeNode.asText();
        JsonNode shapeNode = node.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw invalid("tensor '" + name + "' has no shape array");
        }
        List<Long> shape = new ArrayList<>(shapeNode.size());
        long elements = 1;
        for (JsonNode d : shapeNode) {
            long dim = nonNegativeLong(d, name, "shape");
            shape.add(dim);
            try {
                elements = Math.multiplyExact(elements, dim);
            } catch (ArithmeticException e) {
                throw invalid("tensor '" + name + "' has a shape whose element count overflows: " + shapeNode);
            }
        }
        JsonNode offsets = node.get("data_offsets");
        if (offsets == null || !offsets.isArray() || offsets.size() != 2) {
            throw invalid("tensor '" + name + "' has no data_offsets pair");
        }
        long begin = nonNegativeLong(offsets.get(0), name, "data_offsets");
        long end = nonNegativeLong(offsets.get(1), name, "data_offsets");
        if (end < begin) {
            throw invalid("tensor '" + name + "' ends (" + end + ") before it begins (" + begin + ")");
        }
        if (end > fileSize - dataStart) {
            throw invalid("tensor '" + name + "' ends at data offset " + end + ", after the end of the file ("
                    + (fileSize - dataStart) + " data bytes)");
        }
        int bits = bitsOf(dtype);
        if (bits > 0) {
            long expected;
            try {
                expected = Math.addExact(Math.multiplyExact(elements, (long) bits), 7) / 8;
            } catch (ArithmeticException e) {
                throw invalid("tensor '" + name + "' is too large: " + elements + " elements of " + dtype);
            }
            if (expected != end - begin) {
                throw invalid("tensor '" + name + "' holds " + (end - begin) + " bytes, but " + shapeNode + " of "
                        + dtype + " needs " + expected);
            }
        }
        return new Tensor(name, dtype, shape, dataStart + begin, dataStart + end);
    }

    private static long nonNegativeLong(JsonNode n, String tensor, String field) {
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < 0) {
            throw invalid("tensor '" + tensor + "' has a " + field + " entry that is not a non-negative integer: " + n);
        }
        return n.asLong();
    }

    /** Bits per element of the dtypes of the safetensors spec; 0 for a name it does not list. */
    static int bitsOf(String dtype) {
        switch (dtype) {
            case "F4":
                return 4;
            case "F6_E2M3":
            case "F6_E3M2":
                return 6;
            case "BOOL":
            case "U8":
            case "I8":
            case "F8_E5M2":
            case "F8_E4M3":
            case "F8_E8M0":
                return 8;
            case "I16":
            case "U16":
            case "F16":
            case "BF16":
                return 16;
            case "I32":
            case "U32":
            case "F32":
                return 32;
            case "F64":
            case "I64":
            case "U64":
            case "C64":
                return 64;
            default:
                return 0;
        }
    }

    static TensorCodec.Dtype codecDtypeOf(String dtype) {
        switch (dtype) {
            case "BF16":
                return TensorCodec.Dtype.BF16;
            case "F16":
                return TensorCodec.Dtype.F16;
            case "F32":
                return TensorCodec.Dtype.F32;
            default:
                return TensorCodec.Dtype.OTHER;
        }
    }

    private static void readFully(FileChannel file, ByteBuffer into, long position) throws IOException {
        long at = position;
        while (into.hasRemaining()) {
            int n = file.read(into, at);
            if (n < 0) {
                throw new EOFException("safetensors file ended at " + at + " while reading its header");
            }
            at += n;
        }
    }

    private static IllegalArgumentException invalid(String what) {
        return new IllegalArgumentException("not a valid safetensors file: " + what);
    }
}
