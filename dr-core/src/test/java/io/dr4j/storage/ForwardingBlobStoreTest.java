package io.dr4j.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every decorator passes every {@link BlobStore} method to its delegate, the interface's default
 * methods included (a decorator that inherits {@code cleanupIncompleteUploads}'s "do nothing"
 * leaves S3 multipart uploads behind every prune through it), and the rate limiter draws on its
 * buckets for every method that moves bytes. Both walk {@code BlobStore}'s methods by
 * reflection, so a method added to the interface is checked without touching this test.
 */
class ForwardingBlobStoreTest {

    private static final int SIZE = 1 << 20;
    private static final long SECOND = 1_000_000_000L;

    @TempDir
    Path dir;

    /** The methods a caller can invoke on a {@code BlobStore}. */
    private static List<Method> storeMethods() {
        return Arrays.stream(BlobStore.class.getMethods())
                .filter(m -> !Modifier.isStatic(m.getModifiers()))
                .sorted((a, b) -> a.toString().compareTo(b.toString()))
                .collect(Collectors.toList());
    }

    /** A delegate that records the method of each call and answers with a {@value #SIZE}-byte object. */
    private static final class Recorder {
        final List<Method> calls = new ArrayList<>();
        final BlobStore store = (BlobStore) Proxy.newProxyInstance(BlobStore.class.getClassLoader(),
                new Class<?>[] {BlobStore.class}, (proxy, method, args) -> {
                    if (method.getDeclaringClass() == Object.class) {
                        return method.getName().equals("toString") ? "recorder" : method.invoke(this, args);
                    }
                    synchronized (calls) {
                        calls.add(method);
                    }
                    return answer(method, args);
                });

        private static Object answer(Method method, Object[] args) throws IOException {
            for (Object arg : args == null ? new Object[0] : args) {
                if (arg instanceof InputStream in) {
                    in.readAllBytes(); // a store consumes what it is given to put
                }
            }
            switch (method.getName()) {
                case "name":
                    return "recorder";
                case "capabilities":
                    return Set.of();
                case "supportsConditionalPut":
                    return false;
                case "get":
                    return new ByteArrayInputStream(new byte[SIZE]);
                case "getBytes":
                case "getBytesVerified":
                    return new byte[SIZE];
                case "read":
                case "readVerified": {
                    ByteBuffer dst = (ByteBuffer) args[2];
                    dst.position(dst.limit());
                    return null;
                }
                case "stat":
                    return new BlobInfo((BlobKey) args[0], SIZE, Instant.EPOCH);
                case "find":
                    return Optional.empty();
                case "list":
                    return Stream.empty();
                case "cleanupIncompleteUploads":
                    return 3;
                default:
                    if (method.getName().startsWith("put") || method.getName().equals("delete")
                            || method.getName().equals("close")) {
                        return null;
                    }
                    throw new AssertionError("the recorder does not know " + method + ": teach it");
            }
        }
    }

    /** Invokes {@code m} on {@code store} with arguments of {@value #SIZE} bytes and drains what it returns. */
    private Object invoke(BlobStore store, Method m) throws Exception {
        Path file = dir.resolve("source");
        if (!Files.exists(file)) {
            Files.write(file, new byte[SIZE]);
        }
        Object[] args = new Object[m.getParameterCount()];
        Class<?>[] types = m.getParameterTypes();
        for (int i = 0; i < args.length; i++) {
            Class<?> t = types[i];
            if (t == BlobKey.class) {
                args[i] = BlobKey.of("packs/ab/k");
            } else if (t == Path.class) {
                args[i] = file;
            } else if (t == byte[].class) {
                args[i] = new byte[SIZE];
            } else if (t == InputStream.class) {
                args[i] = new ByteArrayInputStream(new byte[SIZE]);
            } else if (t == int.class) {
                args[i] = i == 2 ? 0 : SIZE; // put(key, data, offset, length)
            } else if (t == long.class) {
                args[i] = i == 1 && m.getName().equals("get") || m.getName().startsWith("read") ? 0L : (long) SIZE;
            } else if (t == ByteBuffer.class) {
                args[i] = ByteBuffer.allocate(SIZE);
            } else if (t == Predicate.class) {
                args[i] = (Predicate<Object>) b -> true; // for ranges (ByteBuffer) and whole objects (byte[])
            } else if (t == String.class) {
                args[i] = "";
            } else if (t == Duration.class) {
                args[i] = Duration.ofHours(1);
            } else {
                throw new AssertionError("no sample argument of " + t + " for " + m + ": add one");
            }
        }
        Object result;
        try {
            result = m.invoke(store, args);
        } catch (InvocationTargetException e) {
            throw (Exception) e.getCause();
        }
        if (result instanceof InputStream in) {
            try (in) {
                in.readAllBytes();
            }
        } else if (result instanceof Stream<?> s) {
            s.close();
        }
        return result;
    }

    private void assertEveryMethodReachesTheDelegate(Function<BlobStore, BlobStore> decorate) throws Exception {
        List<String> missed = new ArrayList<>();
        for (Method m : storeMethods()) {
            Recorder recorder = new Recorder();
            Object result = invoke(decorate.apply(recorder.store), m);
            if (!recorder.calls.contains(m)) {
                missed.add(m.getName() + Arrays.toString(m.getParameterTypes()) + " called " + recorder.calls.stream()
                        .map(Method::getName).collect(Collectors.toList()));
            } else if (m.getName().equals("cleanupIncompleteUploads") && !Integer.valueOf(3).equals(result)) {
                missed.add("cleanupIncompleteUploads returned " + result + ", not the delegate's 3");
            }
        }
        assertThat(missed).as("methods that do not reach the delegate's own").isEmpty();
    }

    @Test
    void aForwardingStorePassesEveryMethodOn() throws Exception {
        assertEveryMethodReachesTheDelegate(d -> new ForwardingBlobStore(d) { });
    }

    @Test
    void theRateLimiterPassesEveryMethodOn() throws Exception {
        assertEveryMethodReachesTheDelegate(d -> RateLimitedBlobStore.wrap(d, OptionalLong.of(1L << 40),
                OptionalLong.of(1L << 40)));
    }

    @Test
    void theRetryingStorePassesEveryMethodOn() throws Exception {
        assertEveryMethodReachesTheDelegate(RetryingBlobStore::wrap);
    }

    @Test
    void theRateLimiterPacesEveryMethodThatMovesBytesAndNoOther() throws Exception {
        Set<String> movesBytes = Set.of("put", "putIfAbsent", "get", "getBytes", "getBytesVerified", "read",
                "readVerified");
        for (Method m : storeMethods()) {
            AtomicLong now = new AtomicLong(1_000 * SECOND);
            AtomicLong slept = new AtomicLong();
            BlobStore limited = RateLimitedBlobStore.wrap(new Recorder().store, OptionalLong.of(SIZE / 4),
                    OptionalLong.of(SIZE / 4), now::get, nanos -> {
                        slept.addAndGet(nanos);
                        now.addAndGet(nanos);
                    });
            invoke(limited, m);
            if (movesBytes.contains(m.getName())) {
                // SIZE bytes at SIZE/4 per second, less the bucket of a tenth of a second's bytes (64 KiB at least)
                assertThat(slept.get()).as("%s waits for its bytes", m).isGreaterThan(3 * SECOND);
            } else {
                assertThat(slept.get()).as("%s moves no object bytes and is not limited", m).isZero();
            }
        }
    }
}
