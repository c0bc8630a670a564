package dev.pgpolicy.proxy.identity;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.scram.ScramVerifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UserDirectoryTest {
    private static final String V1 = ScramVerifier.generate("one".toCharArray(), 4096, new SecureRandom()).encode();
    private static final String V2 = ScramVerifier.generate("two".toCharArray(), 4096, new SecureRandom()).encode();

    @TempDir
    Path dir;
    Path file;
    final Map<String, String> env = new HashMap<>(Map.of("A_PW", "first"));

    @BeforeEach
    void setUp() throws Exception {
        file = dir.resolve("users.yaml");
        write("""
                users:
                  ana: { scram: "%s", groups: [g1], upstream: a }
                  bob: { scram: "%s", upstream: a }
                  carol: { scram: "%s", upstream: a }
                accounts:
                  a: { user: app, password_env: A_PW }
                """.formatted(V1, V1, V1));
    }

    private void write(String yaml) throws Exception {
        Files.writeString(file, yaml);
    }

    @Test
    void reloadReportsAddedRemovedAndChangedUsers() throws Exception {
        UserDirectory directory = UserDirectory.load(file, env::get);
        List<UserDirectory.Applied> seen = new ArrayList<>();
        directory.onChange(seen::add);
        write("""
                users:
                  ana: { scram: "%s", groups: [g1, g2], upstream: a }
                  carol: { scram: "%s", upstream: a }
                  dave: { scram: "%s", upstream: a }
                accounts:
                  a: { user: app, password_env: A_PW }
                """.formatted(V1, V2, V1));

        UserDirectory.ReloadResult result = directory.reload();

        assertThat(result).isInstanceOf(UserDirectory.Applied.class);
        UserDirectory.Applied applied = (UserDirectory.Applied) result;
        assertThat(applied.added()).containsExactly("dave");
        assertThat(applied.removed()).containsExactly("bob");
        assertThat(applied.changed()).containsExactlyInAnyOrder("ana", "carol");
        assertThat(directory.user("bob")).isEmpty();
        assertThat(directory.user("ana").orElseThrow().groups()).containsExactly("g1", "g2");
        assertThat(seen).containsExactly(applied);
    }

    @Test
    void aBrokenFileKeepsTheOldSnapshot() throws Exception {
        UserDirectory directory = UserDirectory.load(file, env::get);
        UsersFile before = directory.current();
        write("""
                users:
                  ana: { scram: "%s", upstream: missing }
                """.formatted(V1));

        UserDirectory.ReloadResult result = directory.reload();

        assertThat(result).isInstanceOf(UserDirectory.Rejected.class);
        assertThat(((UserDirectory.Rejected) result).diagnostics()).extracting(Diagnostic::line).containsExactly(2);
        assertThat(directory.current()).isSameAs(before);
        assertThat(directory.user("bob")).isPresent();
    }

    @Test
    void rotatedAccountPasswordMarksItsUsersChanged() throws Exception {
        UserDirectory directory = UserDirectory.load(file, env::get);
        env.put("A_PW", "second");
        UserDirectory.Applied applied = (UserDirectory.Applied) directory.reload();
        assertThat(applied.changed()).containsExactlyInAnyOrder("ana", "bob", "carol");
        assertThat(directory.current().accountFor(directory.user("ana").orElseThrow()).password().reveal())
                .isEqualTo("second".toCharArray());
    }

    @Test
    void unchangedFileReportsNothing() throws Exception {
        UserDirectory directory = UserDirectory.load(file, env::get);
        List<UserDirectory.Applied> seen = new ArrayList<>();
        directory.onChange(seen::add);
        UserDirectory.Applied applied = (UserDirectory.Applied) directory.reload();
        assertThat(applied.unchanged()).isTrue();
        assertThat(seen).isEmpty();
    }
}
