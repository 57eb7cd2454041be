package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;

/** A damaged or hostile header is refused with an IllegalArgumentException, never another failure. */
class SafetensorsHeaderProperties {

    private static final byte[] VALID = ("{\"__metadata__\":{\"format\":\"pt\"},"
            + "\"a\":{\"dtype\":\"BF16\",\"shape\":[4,8],\"data_offsets\":[0,64]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[64,76]},"
            + "\"c\":{\"dtype\":\"I8\",\"shape\":[1000],\"data_offsets\":[76,1076]}}").getBytes(StandardCharsets.UTF_8);

    @Property(tries = 2000)
    void damagedHeadersParseIntoTheFileOrAreRefused(@ForAll @Size(min = 1, max = 8) int[] positions,
            @ForAll @Size(min = 8, max = 8) byte[] values, @ForAll @IntRange(min = 0, max = 400) int truncateTo,
            @ForAll boolean truncate, @ForAll @LongRange(min = 0, max = 2000) long dataBytes) {
        byte[] json = VALID.clone();
        for (int i = 0; i < positions.length; i++) {
            json[Math.floorMod(positions[i], json.length)] = values[i];
        }
        if (truncate) {
            json = Arrays.copyOf(json, Math.min(truncateTo, json.length));
        }
        long fileSize = 8 + json.length + dataBytes;
        try {
            SafetensorsHeader h = SafetensorsHeader.parse(json, fileSize);
            long previousEnd = h.dataStart();
            for (SafetensorsHeader.Tensor t : h.tensors()) {
                assertThat(t.start()).isGreaterThanOrEqualTo(previousEnd);
                assertThat(t.end()).isBetween(t.start(), fileSize);
                previousEnd = t.end();
            }
            assertThat(h.codecHint(0, fileSize).phase()).isBetween(0, 3);
        } catch (IllegalArgumentException e) {
            assertThat(e).hasMessageStartingWith("not a valid safetensors file");
        }
    }

    @Property(tries = 500)
    void arbitraryBytesAreRefusedOrParsed(@ForAll @Size(max = 300) byte[] json, @ForAll @LongRange(min = 0, max = 2000) long dataBytes) {
        try {
            SafetensorsHeader.parse(json, 8 + json.length + dataBytes);
        } catch (IllegalArgumentException e) {
            assertThat(e).hasMessageStartingWith("not a valid safetensors file");
        }
    }
}
