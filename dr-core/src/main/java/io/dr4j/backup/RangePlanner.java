package io.dr4j.backup;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.ToIntFunction;

/**
 * Groups the blobs needed from one pack into ranged reads: blobs in offset order, a new range
 * where the gap to the previous blob exceeds {@code maxGap} or the range would exceed
 * {@code maxLength}. Shared by restore and copy, which read packs the same way. Stateless.
 */
final class RangePlanner {

    /** One ranged read: {@code [start, start + length)} of the pack, covering {@code blobs}. */
    record Group<T>(long start, int length, List<T> blobs) {
    }

    private RangePlanner() {
    }

    static <T> List<Group<T>> plan(List<T> blobs, ToIntFunction<T> offset, ToIntFunction<T> length, int maxGap,
            int maxLength) {
        List<T> sorted = new ArrayList<>(blobs);
        sorted.sort(Comparator.comparingInt(offset));
        List<Group<T>> groups = new ArrayList<>();
        List<T> current = new ArrayList<>();
        long start = -1;
        long end = -1;
        for (T n : sorted) {
            int nOffset = offset.applyAsInt(n);
            long nEnd = (long) nOffset + length.applyAsInt(n);
            if (start >= 0 && (nOffset - end > maxGap || nEnd - start > maxLength)) {
                groups.add(new Group<>(start, (int) (end - start), current));
                current = new ArrayList<>();
                start = -1;
            }
            if (start < 0) {
                start = nOffset;
            }
            end = Math.max(end, nEnd);
            current.add(n);
        }
        if (start >= 0) {
            groups.add(new Group<>(start, (int) (end - start), current));
        }
        return groups;
    }
}
