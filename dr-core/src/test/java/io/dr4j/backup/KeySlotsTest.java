package io.dr4j.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dr4j.Dr4jException;
import io.dr4j.storage.BlobKey;
import io.dr4j.storage.FaultInjectingBlobStore;
import io.dr4j.storage.FaultInjectingBlobStore.FailureKind;
import io.dr4j.storage.FaultInjectingBlobStore.Operation;
import io.dr4j.storage.InMemoryBlobStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeySlotsTest {

    @TempDir
    Path tmp;

    private FaultInjectingBlobStore store;
    private SnapshotId snapshot;

    @BeforeEach
    void setUp() throws Exception {
        store = new FaultInjectingBlobStore(InMemoryBlobStore.create("mem"));
        try (Repository repo = TestRepos.create(store)) {
            snapshot = repo.backup(TestRepos.checkpoint(tmp.resolve("ckpt"), 1)).id();
        }
    }

    private static KeyProvider password(String pw) {
        return KeyProvider.password(pw.toCharArray());
    }

    private Repository open(KeyProvider key) {
        return Repository.open(store, key, TestRepos.options());
    }

    private String config() throws Exception {
        return new String(store.getBytes(BlobKey.of("config")), StandardCharsets.UTF_8);
    }

    @Test
    void addedPasswordOpensTheSameRepositoryAndIsListedWithItsLabel() {
        KeySlot added;
        try (Repository repo = TestRepos.open(store)) {
            added = repo.addKey(password("operator pw"), "ops on-call", TestRepos.CHEAP_KDF);
            assertThat(added.kind()).isEqualTo("password");
            assertThat(added.current()).isFalse();
            List<KeySlot> slots = repo.keySlots();
            assertThat(slots).hasSize(2);
            assertThat(slots.get(0).kind()).isEqualTo("raw");
            assertThat(slots.get(0).current()).isTrue();
            assertThat(slots.get(1)).isEqualTo(added);
            assertThat(added.label()).isEqualTo("ops on-call");
            assertThat(added.created()).isPresent();
            assertThat(added.id()).matches("[0-9a-f]{8}");
        }
        try (Repository repo = open(password("operator pw"))) {
            assertThat(repo.snapshot(snapshot).id()).isEqualTo(snapshot);
            assertThat(repo.verify(snapshot, VerifyLevel.DATA).ok()).isTrue();
            assertThat(repo.keySlots().get(1).current()).isTrue();
        }
        assertThatThrownBy(() -> open(password("other"))).isInstanceOf(WrongKeyException.class);
    }

    @Test
    void theLastSlotAndTheCurrentSlotAreNeverRemoved() throws Exception {
        try (Repository repo = TestRepos.open(store)) {
            String only = repo.keySlots().get(0).id();
            String before = config();
            assertThatThrownBy(() -> repo.removeKey(only)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("opened with");
            assertThatThrownBy(() -> repo.removeKey("0badc0de")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("no key slot 0badc0de");
            assertThat(config()).isEqualTo(before);
            repo.addKey(password("second"), "", TestRepos.CHEAP_KDF);
        }
        try (Repository repo = open(password("second"))) {
            String raw = repo.keySlots().get(0).id();
            repo.removeKey(raw);
            assertThat(repo.keySlots()).extracting(KeySlot::kind).containsExactly("password");
            String self = repo.keySlots().get(0).id();
            assertThatThrownBy(() -> repo.removeKey(self)).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> TestRepos.open(store)).isInstanceOf(WrongKeyException.class)
                .hasMessageContaining("no raw key slot");
        try (Repository repo = open(password("second"))) {
            assertThat(repo.snapshots()).hasSize(1);
        }
    }

    @Test
    void theLastSlotIsKeptWhenTwoSessionsEachRemoveTheOther() {
        try (Repository raw = TestRepos.open(store)) {
            raw.addKey(password("pw"), "", TestRepos.CHEAP_KDF);
            try (Repository pw = open(password("pw"))) {
                String rawId = raw.keySlots().get(0).id();
                String pwId = raw.keySlots().get(1).id();
                raw.removeKey(pwId);
                assertThatThrownBy(() -> pw.removeKey(rawId)).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("only one");
                assertThat(pw.keySlots()).extracting(KeySlot::id).containsExactly(rawId);
            }
        }
        TestRepos.open(store).close();
    }

    @Test
    void changeKeyReplacesTheSlotTheCurrentKeyOpensAndRefusesAWrongOne() throws Exception {
        try (Repository repo = TestRepos.open(store)) {
            repo.addKey(password("old"), "laptop", TestRepos.CHEAP_KDF);
        }
        try (Repository repo = open(password("old"))) {
            String before = config();
            assertThatThrownBy(() -> repo.changeKey(password("not it"), password("new")))
                    .isInstanceOf(WrongKeyException.class).hasMessageContaining("nothing was changed");
            assertThat(config()).isEqualTo(before);
            String id = repo.keySlots().get(1).id();
            KeySlot changed = repo.changeKey(password("old"), password("new"));
            assertThat(changed.id()).isEqualTo(id);
            assertThat(changed.label()).isEqualTo("laptop");
            assertThat(repo.keySlots()).hasSize(2);
        }
        assertThatThrownBy(() -> open(password("old"))).isInstanceOf(WrongKeyException.class);
        try (Repository repo = open(password("new"))) {
            assertThat(repo.verify(snapshot, VerifyLevel.DATA).ok()).isTrue();
        }
        try (Repository repo = TestRepos.open(store)) {
            assertThat(repo.snapshots()).hasSize(1);
        }
    }

    @Test
    void aFailedConfigWriteLeavesTheOldSlots() throws Exception {
        try (Repository repo = TestRepos.open(store)) {
            String before = config();
            // the first PUT is the key change's lock, the second the config
            store.failNthCall(2, FailureKind.PERMANENT, Operation.PUT);
            assertThatThrownBy(() -> repo.addKey(password("never"), "", TestRepos.CHEAP_KDF))
                    .isInstanceOf(Dr4jException.class).hasMessageContaining("old or the new key slots");
            assertThat(config()).isEqualTo(before);
        }
        assertThatThrownBy(() -> open(password("never"))).isInstanceOf(WrongKeyException.class);
        TestRepos.open(store).close();
    }

    @Test
    void aSecondOpenRepositorySeesTheFirstOnesChanges() {
        try (Repository a = TestRepos.open(store); Repository b = TestRepos.open(store)) {
            a.addKey(password("a"), "a", TestRepos.CHEAP_KDF);
            b.addKey(password("b"), "b", TestRepos.CHEAP_KDF);
            assertThat(a.keySlots()).extracting(KeySlot::label).containsExactly("", "a", "b");
        }
        open(password("a")).close();
        open(password("b")).close();
    }

    @Test
    void anApplicationProviderWrapsTheSlotKeyWithItsOwnKeyService() throws Exception {
        byte[] kmsKey = new byte[32];
        new SecureRandom().nextBytes(kmsKey);
        try (Repository repo = TestRepos.open(store)) {
            KeySlot slot = repo.addKey(new LocalKms(kmsKey), "kms", TestRepos.CHEAP_KDF);
            assertThat(slot.kind()).isEqualTo("test-kms");
        }
        assertThat(config()).contains("\"kind\" : \"test-kms\"").contains("\"params\"").contains("wrappedKek");
        try (Repository repo = open(new LocalKms(kmsKey))) {
            assertThat(repo.verify(snapshot, VerifyLevel.DATA).ok()).isTrue();
        }
        byte[] otherKey = kmsKey.clone();
        otherKey[0] ^= 1;
        assertThatThrownBy(() -> open(new LocalKms(otherKey))).isInstanceOf(WrongKeyException.class);
        // the built-in kinds are reserved: a provider claiming one is refused
        try (Repository repo = TestRepos.open(store)) {
            KeyProvider impostor = new LocalKms(kmsKey) {
                @Override
                public String kind() {
                    return "password";
                }
            };
            assertThatThrownBy(() -> repo.addKey(impostor, "", TestRepos.CHEAP_KDF))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reserved");
            assertThat(repo.keySlots()).hasSize(2);
        }
    }

    /** A key service in miniature: KEKs encrypted under a key it holds, bound to the repository id. */
    private static class LocalKms implements KeyProvider {
        private final byte[] key;

        LocalKms(byte[] key) {
            this.key = key.clone();
        }

        @Override
        public String kind() {
            return "test-kms";
        }

        @Override
        public SlotKey newSlotKey(SlotRequest request) {
            byte[] kek = new byte[32];
            new SecureRandom().nextBytes(kek);
            byte[] nonce = new byte[12];
            new SecureRandom().nextBytes(nonce);
            byte[] wrapped = crypt(Cipher.ENCRYPT_MODE, nonce, kek, request.repositoryId());
            return new SlotKey(kek, Map.of("nonce", Base64.getEncoder().encodeToString(nonce),
                    "wrappedKek", Base64.getEncoder().encodeToString(wrapped)));
        }

        @Override
        public byte[] keyEncryptionKey(Map<String, String> parameters, SlotRequest request) {
            return crypt(Cipher.DECRYPT_MODE, Base64.getDecoder().decode(parameters.get("nonce")),
                    Base64.getDecoder().decode(parameters.get("wrappedKek")), request.repositoryId());
        }

        private byte[] crypt(int mode, byte[] nonce, byte[] data, String context) {
            try {
                Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
                c.init(mode, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, nonce));
                c.updateAAD(context.getBytes(StandardCharsets.UTF_8));
                return c.doFinal(data);
            } catch (javax.crypto.AEADBadTagException e) {
                throw new WrongKeyException("the key service cannot decrypt this slot's key");
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    @Test
    void aRawKeyProviderCopiesTheCallersArray() {
        byte[] raw = TestRepos.RAW_KEY.clone();
        KeyProvider p = KeyProvider.rawKey(raw);
        Arrays.fill(raw, (byte) 0);
        Repository.open(store, p, TestRepos.options()).close();
    }
}
