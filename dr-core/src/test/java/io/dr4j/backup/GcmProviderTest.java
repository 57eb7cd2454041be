package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.security.Provider;
import java.util.Random;
import javax.crypto.AEADBadTagException;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/**
 * The two AES-GCM implementations dr4j may use are interchangeable on the wire: what one seals
 * (in slices or in one call) the other opens, and both refuse a flipped bit. On Linux x86-64,
 * where dr4j is built and benchmarked, Conscrypt must load, or the speed figures would not hold.
 */
class GcmProviderTest {

    private static final SecretKeySpec KEY = new SecretKeySpec(new byte[32], "AES");
    private static final byte[] DOMAIN = "dr4j/chunk/v1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NAME = "name".getBytes(StandardCharsets.US_ASCII);

    @Test
    void conscryptLoadsOnLinuxX86And64() {
        assumeTrue(System.getProperty("os.name").startsWith("Linux")
                && System.getProperty("os.arch").matches("amd64|x86_64"), "Conscrypt's uber jar covers this platform");
        assertThat(GcmProvider.conscrypt()).isNotNull();
        assertThat(GcmProvider.name()).isEqualTo("Conscrypt");
    }

    @Test
    void whatOneProviderSealsTheOtherOpens() throws Exception {
        Provider conscrypt = GcmProvider.conscrypt();
        assumeTrue(conscrypt != null, "Conscrypt does not load here");
        Random random = new Random(7);
        for (int size : new int[] {0, 1, 16, 1000, 16 << 10, (16 << 10) + 1, 300_000}) {
            byte[] plain = new byte[size];
            random.nextBytes(plain);
            byte[] byJdk = SealedObject.seal(GcmProvider.newCipher(null), KEY, DOMAIN, NAME, 0, plain, 0, size);
            byte[] byConscrypt = SealedObject.seal(GcmProvider.newCipher(conscrypt), KEY, DOMAIN, NAME, 0, plain, 0, size);
            assertThat(SealedObject.decrypt(GcmProvider.newCipher(conscrypt), KEY, DOMAIN, NAME, byJdk)).isEqualTo(plain);
            assertThat(SealedObject.decrypt(GcmProvider.newCipher(null), KEY, DOMAIN, NAME, byConscrypt)).isEqualTo(plain);

            byte[] damaged = byJdk.clone();
            damaged[damaged.length - 1 - random.nextInt(Math.min(damaged.length - 2, size + 16))] ^= 1;
            for (Provider p : new Provider[] {null, conscrypt}) {
                assertThatThrownBy(() -> SealedObject.decrypt(GcmProvider.newCipher(p), KEY, DOMAIN, NAME, damaged))
                        .isInstanceOf(AEADBadTagException.class);
            }
        }
    }
}
