package dev.pgpolicy.proxy.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpolicy.proxy.testing.PgClient;
import dev.pgpolicy.proxy.tls.Pem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The launcher against the real binaries: start, TLS + SCRAM logins with psql, stop without leftovers. */
class EmbeddedPostgresTest {

    @Test
    void startsAcceptsScramOverVerifiedTlsAndStopsWithoutLeftovers() {
        EmbeddedPostgres postgres = EmbeddedPostgres.start();
        long pid;
        Path base;
        try {
            pid = postgres.postmasterPid();
            base = postgres.baseDirectory();
            assertThat(postgres.isRunning()).isTrue();
            assertThat(ProcessHandle.of(pid)).isPresent();

            postgres.createRole("alice", "correct horse 'battery' staple");
            postgres.createDatabase("shop", "alice");

            ProcessResult result = PgClient.to("127.0.0.1", postgres.port())
                    .user("alice").password("correct horse 'battery' staple").database("shop")
                    .sslMode("verify-full").sslRootCert(postgres.caCertificate())
                    .psql("SELECT current_user, ssl, (SELECT setting FROM pg_settings WHERE name = 'password_encryption')"
                            + " FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
            assertThat(result.exitCode()).as(result.describe()).isZero();
            assertThat(result.stdout().strip()).isEqualTo("alice|t|scram-sha-256");

            // The stored verifier is SCRAM, never MD5 or plaintext.
            assertThat(postgres.query("postgres", "SELECT rolpassword FROM pg_authid WHERE rolname = 'alice'"))
                    .singleElement().satisfies(row -> assertThat(row.get(0)).startsWith("SCRAM-SHA-256$4096:"));
        } finally {
            postgres.stop();
        }
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        assertThat(base).doesNotExist();
        assertThat(postgres.isRunning()).isFalse();
    }

    @Test
    void verifyFullSucceedsForLocalhostNameToo() {
        try (EmbeddedPostgres postgres = EmbeddedPostgres.start()) {
            ProcessResult result = PgClient.superuserOf(postgres).env("PGHOST", "localhost")
                    .psqlWith("--host=localhost", "--no-align", "--tuples-only", "--command=SELECT 1");
            assertThat(result.exitCode()).as(result.describe()).isZero();
            assertThat(result.stdout().strip()).isEqualTo("1");
        }
    }

    @Test
    void wrongPasswordIsRefusedWithScramFailure() {
        try (EmbeddedPostgres postgres = EmbeddedPostgres.start()) {
            ProcessResult result = PgClient.superuserOf(postgres).password("not the password").psql("SELECT 1");
            assertThat(result.exitCode()).isNotZero();
            assertThat(result.stderr()).contains("password authentication failed for user \"postgres\"");
        }
    }

    @Test
    void verifyFullFailsAgainstAForeignCa(@TempDir Path temp) {
        try (EmbeddedPostgres postgres = EmbeddedPostgres.start()) {
            Path foreignCa = temp.resolve("foreign.crt");
            Pem.writeCertificate(foreignCa,
                    dev.pgpolicy.proxy.tls.CertificateAuthority.generate("someone else").certificate());
            ProcessResult result = PgClient.superuserOf(postgres).sslRootCert(foreignCa).psql("SELECT 1");
            assertThat(result.exitCode()).isNotZero();
            assertThat(result.stderr()).contains("certificate verify failed");
        }
    }

    @Test
    void queryDistinguishesNullFromEmptyAndKeepsQuotesAndNewlines() {
        try (EmbeddedPostgres postgres = EmbeddedPostgres.start()) {
            List<List<String>> rows = postgres.query("postgres",
                    "SELECT * FROM (VALUES (1, NULL::text), (2, ''), (3, 'a,\"b\"' || chr(10) || 'c')) v ORDER BY 1");
            assertThat(rows).hasSize(3);
            assertThat(rows.get(0)).containsExactly("1", null);
            assertThat(rows.get(1)).containsExactly("2", "");
            assertThat(rows.get(2)).containsExactly("3", "a,\"b\"\nc");
        }
    }

    @Test
    void failingSqlReportsServerMessage() {
        try (EmbeddedPostgres postgres = EmbeddedPostgres.start()) {
            assertThatThrownBy(() -> postgres.execute("postgres", "SELECT * FROM no_such_table;"))
                    .isInstanceOf(EmbeddedPostgresException.class)
                    .hasMessageContaining("relation \"no_such_table\" does not exist");
        }
    }

    @Test
    void givenDirectoryIsKeptAfterStopAndMustBeEmpty(@TempDir Path temp) throws Exception {
        // JUnit creates @TempDir with mode 0700; the server account (postgres, when we are root)
        // needs to reach the directory through it.
        Files.setPosixFilePermissions(temp, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        Path directory = temp.resolve("cluster");
        try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().dataDirectory(directory).start()) {
            assertThat(postgres.dataDirectory()).isEqualTo(directory.toRealPath().resolve("data"));
        }
        assertThat(directory.resolve("data/PG_VERSION")).exists();
        assertThat(directory.resolve("data/postmaster.pid")).doesNotExist();
        assertThatThrownBy(() -> EmbeddedPostgres.builder().dataDirectory(directory).start())
                .isInstanceOf(EmbeddedPostgresException.class)
                .hasMessageContaining("is not empty");
        EmbeddedPostgres.deleteRecursively(directory);
    }

    @Test
    void startFailureNamesBinaryDirectoryAndLogTail() {
        // An invalid setting makes the postmaster exit during startup.
        assertThatThrownBy(() -> EmbeddedPostgres.builder().setting("shared_buffers", "not-a-size").start())
                .isInstanceOf(EmbeddedPostgresException.class)
                .hasMessageContaining("pg_ctl")
                .hasMessageContaining("/data")
                .hasMessageContaining("shared_buffers");
    }

    @Test
    void serverKeyIsPrivateToTheServerAccount() throws Exception {
        try (EmbeddedPostgres postgres = EmbeddedPostgres.start()) {
            assertThat(Files.getPosixFilePermissions(postgres.dataDirectory().resolve("server.key")))
                    .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                            java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
        }
    }
}
