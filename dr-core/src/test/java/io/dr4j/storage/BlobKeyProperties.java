package io.dr4j.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

class BlobKeyProperties {

    @Provide
    Arbitrary<String> segments() {
        return Arbitraries.strings().withCharRange('a', 'z').withCharRange('0', '9').withChars('-', '_', '.', 'é', '中')
                .ofMinLength(1).ofMaxLength(20)
                .filter(s -> !s.equals(".") && !s.equals(".."));
    }

    @Property
    void keysJoinedFromValidSegmentsAreValid(@ForAll("segments") String a, @ForAll("segments") String b,
            @ForAll("segments") String c) {
        String value = a + "/" + b + "/" + c;
        BlobKey key = BlobKey.of(value);
        assertThat(key.value()).isEqualTo(value);
        assertThat(key.name()).isEqualTo(c);
        assertThat(key.parent().orElseThrow().value()).isEqualTo(a + "/" + b);
        assertThat(key.isUnder(a)).isTrue();
        assertThat(key.isUnder(a + "/" + b)).isTrue();
        assertThat(key.isUnder(value)).isFalse();
    }

    @Property
    void anyStringIsEitherAValidKeyOrRejectedWithItsReason(@ForAll String value) {
        boolean expectedValid = !value.isEmpty() && !value.startsWith("/") && !value.endsWith("/")
                && !value.contains("//") && !value.contains("\\")
                && value.chars().noneMatch(ch -> ch < 0x20 || ch == 0x7f)
                && List.of(value.split("/", -1)).stream().noneMatch(s -> s.equals(".") || s.equals("..")
                        || s.getBytes(StandardCharsets.UTF_8).length > BlobKey.MAX_SEGMENT_LENGTH)
                && value.getBytes(StandardCharsets.UTF_8).length <= BlobKey.MAX_LENGTH
                && isWellFormedUtf16(value);
        assertThat(BlobKey.isValid(value)).isEqualTo(expectedValid);
        if (expectedValid) {
            assertThat(BlobKey.of(value).value()).isEqualTo(value);
        } else {
            assertThatThrownBy(() -> BlobKey.of(value)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("Invalid blob key");
        }
    }

    @Property
    void siblingWithCommonStringPrefixIsNotUnder(@ForAll("segments") String a, @ForAll("segments") String suffix) {
        assertThat(BlobKey.of(a + suffix + "/x").isUnder(a)).isFalse();
        assertThat(BlobKey.of(a + "/x").isUnder(a)).isTrue();
    }

    private static boolean isWellFormedUtf16(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
                    return false;
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return false;
            }
        }
        return true;
    }
}
