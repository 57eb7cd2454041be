package io.dr4j.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RepositoryUriTest {

    @Test
    void acceptsTheLocalForms() {
        assertThat(RepositoryUri.parse("file:///srv/backups")).isEqualTo(new RepositoryUri.Local(Path.of("/srv/backups")));
        assertThat(RepositoryUri.parse("file://localhost/srv/backups"))
                .isEqualTo(new RepositoryUri.Local(Path.of("/srv/backups")));
        assertThat(RepositoryUri.parse("file:/srv/backups")).isEqualTo(new RepositoryUri.Local(Path.of("/srv/backups")));
        assertThat(RepositoryUri.parse("file:backups/llama")).isEqualTo(new RepositoryUri.Local(Path.of("backups/llama")));
        assertThat(RepositoryUri.parse("/srv/backups")).isEqualTo(new RepositoryUri.Local(Path.of("/srv/backups")));
        assertThat(RepositoryUri.parse("backups")).isEqualTo(new RepositoryUri.Local(Path.of("backups")));
        assertThat(RepositoryUri.parse("./a:b")).isEqualTo(new RepositoryUri.Local(Path.of("./a:b")));
        assertThat(RepositoryUri.parse(Path.of("/tmp/x y").toUri().getPath()))
                .isEqualTo(new RepositoryUri.Local(Path.of("/tmp/x y")));
    }

    @Test
    void acceptsTheCloudForms() {
        assertThat(RepositoryUri.parse("s3://my-bucket")).isEqualTo(new RepositoryUri.S3("my-bucket", "", Map.of()));
        assertThat(RepositoryUri.parse("s3://my.bucket/a/b/?region=eu-west-1&pathStyle"))
                .isEqualTo(new RepositoryUri.S3("my.bucket", "a/b", Map.of("region", "eu-west-1", "pathStyle", "true")));
        assertThat(RepositoryUri.parse("s3://b12/p?endpoint=http%3A%2F%2F127.0.0.1%3A9000"))
                .isEqualTo(new RepositoryUri.S3("b12", "p", Map.of("endpoint", "http://127.0.0.1:9000")));
        assertThat(RepositoryUri.parse("azure://models/llama?connectionStringEnv=DR_AZ"))
                .isEqualTo(new RepositoryUri.Azure("models", "llama", Map.of("connectionStringEnv", "DR_AZ")));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        // the issue's trap: the host part used to be dropped and the repository made in the current directory
        "file://backups|did you mean file:backups (relative) or file:///backups (absolute)?",
        "file://backups/llama|did you mean file:backups/llama (relative) or file:///backups/llama (absolute)?",
        "file://nas.local/srv/x|names a host ('nas.local')",
        "file:|has no path",
        "file://|has no path",
        "file://localhost|has no path",
        "file:///srv/x?create=true|has a query or fragment",
        "file:///srv/x#frag|has a query or fragment",
        "s3:bucket/prefix|write s3://bucket/prefix (with //)",
        "s3://|has no bucket",
        "s3:///prefix|has no bucket",
        "s3://Upper_Case/x|is not a valid bucket name",
        "s3://ab/x|is not a valid bucket name",
        "s3://a..b/x|is not a valid bucket name",
        "s3://bucket:9000/x|has a port",
        "s3://bucket/x#frag|has a fragment",
        "s3://bucket/x?|ends in an empty query",
        "s3://bucket/x?region=us-east-1&|has an empty query parameter",
        "s3://bucket/x?regoin=us-east-1|unknown query parameter 'regoin'",
        "s3://bucket/x?region=a&region=b|gives query parameter region twice",
        "s3://bucket/x?region=|query parameter region has no value",
        "s3://bucket/a//b|has an empty, '.' or '..' segment",
        "s3://bucket/a/../b|has an empty, '.' or '..' segment",
        "azure:container|write azure://container/prefix (with //)",
        "azure://|has no container",
        "azure:///prefix|has no container",
        "azure://Models/x|is not a valid container name",
        "azure://my--models/x|is not a valid container name",
        "azure://my.models/x|is not a valid container name",
        "azure://models:10000/x|has a port",
        "azure://models/x#frag|has a fragment",
        "azure://models/x?sv=2024&sig=abc|unknown query parameter 'sv'",
        "gs://bucket/x|unknown repository scheme 'gs'",
        "replicated:|names no members",
        "replicated:/tmp/a,,/tmp/b|has an empty member",
        "replicated:/tmp/a,replicated:/tmp/b|cannot nest",
        "replicated:/tmp/a,file:///tmp/a|is named twice",
    })
    void refusesEveryAmbiguousOrMalformedForm(String uri, String message) {
        assertThatThrownBy(() -> RepositoryUris.members(List.of(uri)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }

    @Test
    void userInfoIsRefusedWithoutEchoingTheSecret() {
        assertThatThrownBy(() -> RepositoryUri.parse("s3://AKIA:s3cr3t@bucket/x"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("credentials never go in a repository URI")
                .hasMessageNotContaining("s3cr3t").hasMessageNotContaining("AKIA");
        assertThatThrownBy(() -> RepositoryUri.parse("azure://account:key@models/x"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("credentials never go in a repository URI")
                .hasMessageNotContaining("key@");
    }

    @Test
    void aQueryIsNeverEchoed() {
        assertThatThrownBy(() -> RepositoryUri.parse("s3://bucket/x?endpoint=http://secret-host:9000&bogus=1"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown query parameter 'bogus'")
                .hasMessageNotContaining("secret-host");
    }
}
