package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ExcludeMatcherTest {

    @ParameterizedTest(name = "{0} vs {1} (dir={2}) -> {3}")
    @CsvSource({
        "*.tmp, x.tmp, false, true",
        "*.tmp, a/b/x.tmp, false, true",      // no slash: any depth
        "*.tmp, a/x.tmpl, false, false",
        "optimizer, optimizer, true, true",
        "optimizer, run/optimizer, true, true",
        "optimizer/, optimizer, false, false", // trailing slash: directories only
        "optimizer/, optimizer, true, true",
        "shards/*.bin, shards/a.bin, false, true",
        "shards/*.bin, old/shards/a.bin, false, false", // a slash inside anchors at the source
        "shards/*.bin, shards/sub/a.bin, false, false", // * stays within one name
        "/config.json, config.json, false, true",
        "/config.json, a/config.json, false, false",
        "**/*.pt, a/b/c.pt, false, true",
        "**/*.pt, c.pt, false, true",          // ** matches zero names too
        "ckpt/**, ckpt/a/b, false, true",
        "a/**/b, a/b, true, true",
        "a/**/b, a/x/y/b, true, true",
        "a/**/b, a/xb, true, false",
        "step-?, step-1, true, true",
        "step-?, step-12, true, false",
        "rank[0-3].pt, rank2.pt, false, true",
        "rank[0-3].pt, rank7.pt, false, false",
        "rank[!0-3].pt, rank7.pt, false, true",
        "a+b(1).txt, a+b(1).txt, false, true", // regex characters are literal
        "a+b(1).txt, aab(1).txt, false, false",
    })
    void matchesRelativePathsAsDocumented(String glob, String path, boolean directory, boolean excluded) {
        assertThat(ExcludeMatcher.of(List.of(glob)).excludes(path, directory)).isEqualTo(excluded);
    }

    @ParameterizedTest
    @ValueSource(strings = {" ", "/", "a//b", "../x", "a/./b", "a/..", "rank[0-3.pt", "a\\b"})
    void refusesPatternsThatCannotMeanWhatTheyLookLike(String glob) {
        assertThatThrownBy(() -> ExcludeMatcher.check(glob)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("exclude pattern");
    }
}
