package io.dr4j.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.backup.KeyProvider;
import io.dr4j.backup.Repository;
import io.dr4j.backup.WrongKeyException;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.LocalBlobStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KmsWrappedKeyExampleTest {

    @TempDir
    Path tmp;

    @Test
    void theKmsSlotOpensTheRepositoryAndAnotherKmsKeyDoesNot() throws Exception {
        String out = KmsWrappedKeyExample.run(tmp);
        assertThat(out).contains("(local-kms)", "through the KMS slot; verify: intact", "model-server via KMS (current)",
                "another KMS key is refused").doesNotContain("UNEXPECTED");
        try (LocalBlobStore store = LocalBlobStore.open(tmp.resolve("repo"))) {
            String config = new String(store.getBytes(BlobKey.of("config")), StandardCharsets.UTF_8);
            assertThat(config).contains("\"kind\" : \"local-kms\"", "\"encryptedKey\"", "\"keyId\"");
            // the break-glass password still opens it; the KMS key file alone is what the server needs
            Repository.open(store, KeyProvider.password("break-glass: printed, in the safe".toCharArray())).close();
            Repository.open(store, new KmsWrappedKeyExample.LocalKmsKeyProvider(tmp.resolve("kms.key"))).close();
            assertThatThrownBy(() -> Repository.open(store, KeyProvider.password("guess".toCharArray())))
                    .isInstanceOf(WrongKeyException.class);
        }
    }
}
