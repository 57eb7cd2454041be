package io.dr4j.storage.transfer;

import io.dr4j.storage.BlobInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collections;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.function.Function;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * A listing as the SPI promises it, over an SDK's page iterator: pages are fetched as the stream
 * is consumed (lazily), items that name no valid key are skipped, and a failure while paging
 * surfaces as an {@link UncheckedIOException} wrapping the store's {@link IOException}. The
 * first page is fetched by {@link #of} itself, so a missing bucket or a denied listing fails
 * the {@code list} call. Not thread-safe, like any stream.
 */
public final class PagedListing {

    /** Maps an SDK failure of listing to the store's {@link IOException}. */
    @FunctionalInterface
    public interface FailureMapper {
        IOException map(RuntimeException failure);
    }

    private PagedListing() {
    }

    /**
     * Lists through {@code pages} (an SDK paginator's iterator, not advanced yet).
     *
     * @param items the items of one page
     * @param toInfo an item's {@link BlobInfo}, or null to skip it
     * @throws IOException the mapped failure of fetching the first page
     */
    public static <P, T> Stream<BlobInfo> of(Iterator<P> pages, Function<P, Iterable<T>> items,
            Function<T, BlobInfo> toInfo, FailureMapper mapFailure) throws IOException {
        Iterator<T> firstPage;
        try {
            firstPage = pages.hasNext() ? items.apply(pages.next()).iterator() : Collections.emptyIterator();
        } catch (RuntimeException e) {
            throw mapFailure.map(e);
        }
        Iterator<BlobInfo> infos = new Iterator<>() {
            private Iterator<T> page = firstPage;
            private BlobInfo next;

            @Override
            public boolean hasNext() {
                try {
                    while (next == null) {
                        if (page.hasNext()) {
                            next = toInfo.apply(page.next());
                        } else if (pages.hasNext()) {
                            page = items.apply(pages.next()).iterator();
                        } else {
                            return false;
                        }
                    }
                    return true;
                } catch (UncheckedIOException e) {
                    throw e;
                } catch (RuntimeException e) {
                    throw new UncheckedIOException(mapFailure.map(e));
                }
            }

            @Override
            public BlobInfo next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                BlobInfo result = next;
                next = null;
                return result;
            }
        };
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(infos, Spliterator.NONNULL), false);
    }
}
