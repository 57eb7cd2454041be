package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

class SealingProperties {

    private static final Crypto CRYPTO = new Crypto(Crypto.randomBytes(Crypto.MASTER_LENGTH));

    private static byte[] data(long seed, int size, boolean compressible) {
        byte[] b = new byte[size];
        if (compressible) {
            byte[] phrase = ("step " + seed + " weights ").getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < size; i++) {
                b[i] = phrase[i % phrase.length];
            }
        } else {
            new Random(seed).nextBytes(b);
        }
        return b;
    }

    @Property(tries = 200)
    void sealThenOpenRoundTrips(@ForAll @LongRange(min = 0, max = 100_000) long seed,
            @ForAll @IntRange(min = 1, max = 200_000) int size, @ForAll boolean compressible) {
        byte[] plain = data(seed, size, compressible);
        ChunkId id = CRYPTO.chunkId(plain, 0, plain.length);
        byte[] sealed = CRYPTO.sealChunk(id, plain, 0, plain.length, 3);
        assertThat(CRYPTO.openChunk(id, sealed, 1 << 20, "test")).isEqualTo(plain);
        if (compressible && size > 4096) {
            assertThat(sealed.length).isLessThan(size / 2);
        }
        if (!compressible) {
            assertThat(sealed.length).isEqualTo(size + Crypto.OVERHEAD);
        }
    }

    @Property(tries = 300)
    void anyFlippedBitOrTruncationIsDetected(@ForAll @LongRange(min = 0, max = 100_000) long seed,
            @ForAll @IntRange(min = 1, max = 5_000) int size, @ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) int where,
            @ForAll boolean truncate) {
        byte[] plain = data(seed, size, seed % 2 == 0);
        ChunkId id = CRYPTO.chunkId(plain, 0, plain.length);
        byte[] sealed = CRYPTO.sealChunk(id, plain, 0, plain.length, 3);
        byte[] damaged = truncate ? Arrays.copyOf(sealed, where % sealed.length) : sealed.clone();
        if (!truncate) {
            int bit = where % (damaged.length * 8);
            damaged[bit / 8] ^= (byte) (1 << (bit % 8));
        }
        assertThatThrownBy(() -> CRYPTO.openChunk(id, damaged, 1 << 20, "chunks/xx/test"))
                .isInstanceOf(CorruptObjectException.class).hasMessageContaining("chunks/xx/test");
    }

    @Property(tries = 100)
    void aChunkCannotBeOpenedUnderAnotherIdOrKey(@ForAll @LongRange(min = 0, max = 100_000) long seed) {
        byte[] a = data(seed, 1000, false);
        byte[] b = data(seed + 1, 1000, false);
        ChunkId idA = CRYPTO.chunkId(a, 0, a.length);
        ChunkId idB = CRYPTO.chunkId(b, 0, b.length);
        byte[] sealedA = CRYPTO.sealChunk(idA, a, 0, a.length, 3);
        assertThatThrownBy(() -> CRYPTO.openChunk(idB, sealedA, 1 << 20, "swapped")).isInstanceOf(CorruptObjectException.class);
        Crypto otherKey = new Crypto(Crypto.randomBytes(Crypto.MASTER_LENGTH));
        assertThatThrownBy(() -> otherKey.openChunk(idA, sealedA, 1 << 20, "other key")).isInstanceOf(CorruptObjectException.class);
    }

    @Property(tries = 50)
    void idsAreKeyedAndDeterministic(@ForAll @LongRange(min = 0, max = 100_000) long seed) {
        byte[] a = data(seed, 777, false);
        assertThat(CRYPTO.chunkId(a, 0, a.length)).isEqualTo(CRYPTO.chunkId(a.clone(), 0, a.length));
        Crypto other = new Crypto(Crypto.randomBytes(Crypto.MASTER_LENGTH));
        assertThat(other.chunkId(a, 0, a.length)).isNotEqualTo(CRYPTO.chunkId(a, 0, a.length));
    }
}
