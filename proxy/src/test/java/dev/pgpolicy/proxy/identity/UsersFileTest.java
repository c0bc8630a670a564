package dev.pgpolicy.proxy.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpolicy.proxy.scram.ScramVerifier;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UsersFileTest {
    static final String ANA_VERIFIER = ScramVerifier.generate("ana-pw".toCharArray(), 4096, new SecureRandom()).encode();
    static final String BOB_VERIFIER = ScramVerifier.generate("bob-pw".toCharArray(), 4096, new SecureRandom()).encode();

    @TempDir
    Path dir;
    Path file;

    @BeforeEach
    void secrets() throws IOException {
        file = dir.resolve("users.yaml");
        Files.createDirectories(dir.resolve("secrets"));
        writePrivate(dir.resolve("secrets/analyst_ro"), "db-secret-1\n");
    }

    static void writePrivate(Path path, String content) throws IOException {
        Files.writeString(path, content, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
    }

    private UsersFile load(String yaml) throws Exception {
        Files.writeString(file, yaml);
        return UsersFile.load(file, Map.of("ETL_PASSWORD", "db-secret-2")::get);
    }

    private List<String> errors(String yaml) throws IOException {
        Files.writeString(file, yaml);
        try {
            UsersFile.load(file, Map.<String, String>of()::get);
        } catch (UsersFileException e) {
            return e.diagnostics().stream().filter(Diagnostic::isError)
                    .map(d -> d.line() + ":" + d.column() + ": " + d.message()).toList();
        }
        throw new AssertionError("file was accepted");
    }

    @Test
    void loadsTheDesignShape() throws Exception {
        UsersFile users = load("""
                users:
                  ana: { scram: "%s", groups: [bi_readers, staff], upstream: analyst_ro }
                  bob:
                    scram: "%s"
                    upstream: etl
                    auth: both
                    cert_cn: bob.example.org
                  carol: { upstream: etl, auth: cert }
                accounts:
                  analyst_ro: { user: analyst_ro, password_file: secrets/analyst_ro }
                  etl: { user: etl_rw, password_env: ETL_PASSWORD }
                """.formatted(ANA_VERIFIER, BOB_VERIFIER));

        UserEntry ana = users.user("ana").orElseThrow();
        assertThat(ana.groups()).containsExactly("bi_readers", "staff");
        assertThat(ana.auth()).isEqualTo(AuthMethod.PASSWORD);
        assertThat(ana.scram().orElseThrow().encode()).isEqualTo(ANA_VERIFIER);
        assertThat(ana.acceptsCertificate("ana")).isFalse();
        UpstreamAccount analyst = users.accountFor(ana);
        assertThat(analyst.user()).isEqualTo("analyst_ro");
        assertThat(analyst.password().reveal()).isEqualTo("db-secret-1".toCharArray());

        UserEntry bob = users.user("bob").orElseThrow();
        assertThat(bob.auth()).isEqualTo(AuthMethod.BOTH);
        assertThat(bob.acceptsCertificate("bob.example.org")).isTrue();
        assertThat(bob.acceptsCertificate("bob")).isFalse();
        assertThat(users.accountFor(bob).password().reveal()).isEqualTo("db-secret-2".toCharArray());

        UserEntry carol = users.user("carol").orElseThrow();
        assertThat(carol.scram()).isEmpty();
        assertThat(carol.acceptsCertificate("carol")).isTrue();
        assertThat(users.user("dave")).isEmpty();
        assertThat(users.warnings()).isEmpty();
        assertThat(users.typicalIterations()).isEqualTo(4096);
    }

    @Test
    void secretsNeverShowInToString() throws Exception {
        UsersFile users = load("""
                users:
                  ana: { scram: "%s", upstream: analyst_ro }
                accounts:
                  analyst_ro: { user: analyst_ro, password_file: secrets/analyst_ro }
                """.formatted(ANA_VERIFIER));
        String keys = ANA_VERIFIER.substring(ANA_VERIFIER.lastIndexOf('$') + 1, ANA_VERIFIER.lastIndexOf('$') + 20);
        String shown = users + " " + users.users() + " " + users.accounts();
        assertThat(shown).doesNotContain("db-secret-1").doesNotContain(keys);
    }

    /** 1-based column of {@code token} in line {@code line} (1-based) of {@code yaml}. */
    private static int column(String yaml, int line, String token) {
        return yaml.lines().toList().get(line - 1).indexOf(token) + 1;
    }

    @Test
    void everyErrorIsReportedWithItsPosition() throws IOException {
        String yaml = """
                users:
                  ana: { scram: "hunter2", upstream: analyst_ro }
                  bob: { scram: "%s", upstream: nowhere }
                  carol: { upstream: analyst_ro }
                  dave: { scram: "%s", upstream: analyst_ro, auth: sometimes, group: [x] }
                accounts:
                  analyst_ro: { user: analyst_ro, password_file: secrets/missing }
                """.formatted(BOB_VERIFIER, BOB_VERIFIER);
        List<String> errors = errors(yaml);
        assertThat(errors).containsExactly(
                "2:17: user \"ana\": not a SCRAM-SHA-256 verifier (expected \"SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>\"); "
                        + "store the output of `pgpolicy hash-password`, never a plaintext password",
                "3:" + column(yaml, 3, "nowhere") + ": user \"bob\" maps to unknown account \"nowhere\" (not in \"accounts:\")",
                "4:3: user \"carol\" needs a \"scram:\" verifier (auth password); make one with `pgpolicy hash-password`",
                "5:" + column(yaml, 5, "sometimes") + ": auth must be password, cert or both",
                "5:" + column(yaml, 5, "group:") + ": unknown key \"group\" in user \"dave\" (expected one of auth, cert_cn, groups, scram, upstream)",
                "7:50: password file " + dir.resolve("secrets/missing") + " of account \"analyst_ro\" does not exist");
    }

    @Test
    void plaintextPasswordIsNeverEchoed() throws IOException {
        Files.writeString(file, """
                users:
                  ana: { scram: "correct horse battery", upstream: a }
                accounts:
                  a: { user: a, password_env: X }
                """);
        assertThatThrownBy(() -> UsersFile.load(file, Map.of("X", "y")::get))
                .isInstanceOf(UsersFileException.class)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("correct horse"));
    }

    @Test
    void duplicateUsersAreAnErrorNotAnOverride() throws IOException {
        assertThat(errors("""
                users:
                  ana: { scram: "%s", upstream: a }
                  ana: { scram: "%s", upstream: a }
                accounts:
                  a: { user: a, password_env: X }
                """.formatted(ANA_VERIFIER, BOB_VERIFIER)))
                .containsExactly("3:3: duplicate key \"ana\" (first at line 2)");
    }

    @Test
    void syntaxErrorsHaveAPosition() throws IOException {
        assertThat(errors("users:\n  ana: { scram: \"x\"\n  bob: [\n")).hasSize(1)
                .allSatisfy(e -> assertThat(e).matches("\\d+:\\d+: YAML syntax: .*"));
    }

    @Test
    void accountRulesAreChecked() throws IOException {
        writePrivate(dir.resolve("secrets/empty"), "\n");
        writePrivate(dir.resolve("secrets/two-lines"), "a\nb\n");
        assertThat(errors("""
                users:
                  ana: { scram: "%s", upstream: a }
                accounts:
                  a: { user: a, password_env: UNSET }
                  b: { user: b }
                  c: { user: c, password_file: secrets/empty }
                  d: { user: d, password_file: secrets/two-lines }
                  e: { password_env: X, password_file: secrets/analyst_ro }
                  f: { user: "", password_env: X }
                """.formatted(ANA_VERIFIER))).containsExactly(
                "4:31: environment variable UNSET for account \"a\" is not set or empty",
                "5:3: account \"b\" needs exactly one of password_file and password_env",
                "6:32: password file " + dir.resolve("secrets/empty") + " of account \"c\" is empty",
                "7:32: password file " + dir.resolve("secrets/two-lines") + " must hold the password on one line",
                "8:3: account \"e\" has no \"user:\" (the PostgreSQL role)",
                "8:3: account \"e\" needs exactly one of password_file and password_env",
                "9:14: user must be a non-empty string, not a scalar",
                "9:32: environment variable X for account \"f\" is not set or empty");
    }

    @Test
    void warningsDoNotRefuseTheFile() throws Exception {
        Path open = dir.resolve("secrets/open");
        Files.writeString(open, "pw");
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-r--r--"));
        UsersFile users = load("""
                users:
                  ana: { scram: "%s", upstream: a, cert_cn: ana.example }
                  eve: { scram: "SCRAM-SHA-256$1000:c2FsdA==$%s", upstream: a }
                accounts:
                  a: { user: a, password_file: secrets/open }
                  spare: { user: s, password_env: ETL_PASSWORD }
                """.formatted(ANA_VERIFIER, ANA_VERIFIER.substring(ANA_VERIFIER.lastIndexOf('$') + 1)));
        assertThat(users.warnings()).extracting(Diagnostic::message).containsExactly(
                "user \"ana\" authenticates by password only; cert_cn is not used",
                "verifier of user \"eve\" uses 1000 iterations; RFC 7677 asks for at least 4096",
                "password file " + open + " is readable by every local user (rw-r--r--); chmod 600 it",
                "account \"spare\" is not used by any user");
        assertThat(users.warnings().get(0).toString()).startsWith(file + ":2:").contains(": warning: ");
    }

    @Test
    void missingFileAndWrongShapesAreErrors() throws IOException {
        assertThatThrownBy(() -> UsersFile.load(dir.resolve("nope.yaml"), Map.<String, String>of()::get))
                .hasMessageContaining("nope.yaml:1:1: error: no such file");
        assertThat(errors("- a\n- b\n")).containsExactly("1:1: the users file must be a mapping, not a list");
        assertThat(errors("accounts: {}\n")).containsExactly("1:1: missing \"users:\" section");
        assertThat(errors("users: {}\nextra: 1\n")).containsExactly(
                "2:1: unknown key \"extra\" in top level (expected one of accounts, users)");
    }
}
