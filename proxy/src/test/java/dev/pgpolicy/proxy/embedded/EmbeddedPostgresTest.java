package dev.pgpolicy.proxy.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpolicy.proxy.testing.PgClient;
import dev.pgpolicy.proxy.testing.SharedPostgres;
import dev.pgpolicy.proxy.tls.CertificateAuthority;
import dev.pgpolicy.proxy.tls.CertifiedKey;
import dev.pgpolicy.proxy.tls.Pem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The launcher against the real binaries: start, TLS + SCRAM logins with psql, stop without leftovers. */
class EmbeddedPostgresTest {

    @Test
    void startsAcceptsScramOverVerifiedTlsAndStopsWithoutLeftovers() {
        EmbeddedPostgres postgres = EmbeddedPostgres.start();
        long pid;
        Path base;
        List<ProcessHandle> serverProcesses;
        try {
            pid = postgres.postmasterPid();
            base = postgres.baseDirectory();
            assertThat(postgres.isRunning()).isTrue();
            assertThat(ProcessHandle.of(pid)).isPresent();
            // The postmaster and its auxiliary processes (checkpointer, walwriter, ...).
            serverProcesses = ProcessHandle.of(pid).orElseThrow().descendants().toList();
            assertThat(serverProcesses).isNotEmpty();

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
        assertThat(serverProcesses).noneMatch(ProcessHandle::isAlive);
        assertThat(base).doesNotExist();
        assertThat(postgres.isRunning()).isFalse();
    }

    @Test
    void restartKeepsPortAndDataAndReplacesThePostmaster() {
        try (EmbeddedPostgres postgres = EmbeddedPostgres.start()) {
            postgres.execute("postgres", "CREATE TABLE kept (v int); INSERT INTO kept VALUES (7);");
            long before = postgres.postmasterPid();
            int port = postgres.port();

            postgres.restart();

            assertThat(postgres.postmasterPid()).isNotEqualTo(before);
            assertThat(ProcessHandle.of(before).map(ProcessHandle::isAlive).orElse(false)).isFalse();
            assertThat(postgres.port()).isEqualTo(port);
            ProcessResult result = PgClient.superuserOf(postgres).psql("SELECT v FROM kept");
            assertThat(result.exitCode()).as(result.describe()).isZero();
            assertThat(result.stdout().strip()).isEqualTo("7");
        }
    }

    @Test
    void serverAccountIsLookedUpAtStartAndAMissingOneIsExplained() {
        EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder().osUser("pgpolicy_no_such_account");
        if (new com.sun.security.auth.module.UnixSystem().getUid() == 0) {
            assertThatThrownBy(builder::start)
                    .isInstanceOf(EmbeddedPostgresException.class)
                    .hasMessageContaining("'pgpolicy_no_such_account', which does not exist")
                    .hasMessageContaining("bin/install-prerequisites");
        } else {
            // Not root: PostgreSQL runs as this JVM's user and the account setting does not apply.
            try (EmbeddedPostgres postgres = builder.start()) {
                assertThat(postgres.isRunning()).isTrue();
            }
        }
    }

    @Test
    void verifyFullSucceedsForLocalhostNameToo() {
        ProcessResult result = PgClient.superuserOf(shared())
                .psqlWith("--host=localhost", "--no-align", "--tuples-only", "--command=SELECT 1");
        assertThat(result.exitCode()).as(result.describe()).isZero();
        assertThat(result.stdout().strip()).isEqualTo("1");
    }

    @Test
    void wrongPasswordIsRefusedWithScramFailure() {
        ProcessResult result = PgClient.superuserOf(shared()).password("not the password").psql("SELECT 1");
        assertThat(result.exitCode()).isNotZero();
        assertThat(result.stderr()).contains("password authentication failed for user \"postgres\"");
    }

    @Test
    void verifyFullFailsAgainstAForeignCa(@TempDir Path temp) {
        Path foreignCa = temp.resolve("foreign.crt");
        Pem.writeCertificate(foreignCa, CertificateAuthority.generate("someone else").certificate());
        ProcessResult result = PgClient.superuserOf(shared()).sslRootCert(foreignCa).psql("SELECT 1");
        assertThat(result.exitCode()).isNotZero();
        assertThat(result.stderr()).contains("certificate verify failed");
    }

    @Test
    void clientCertificatesFromTheClusterCaAreTrustedForCertAuthentication(@TempDir Path temp) throws Exception {
        CertificateAuthority ca = CertificateAuthority.generate("cert auth test CA");
        try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().certificateAuthority(ca)
                .hbaRule("hostssl all certuser 127.0.0.1/32 cert").start()) {
            postgres.createRole("certuser", null);
            CertifiedKey client = postgres.certificateAuthority().issueClient("certuser");
            Path certificate = temp.resolve("certuser.crt");
            Path key = temp.resolve("certuser.key");
            client.writeCertificateChain(certificate);
            client.writePrivateKey(key);

            ProcessResult result = PgClient.to(postgres.host(), postgres.port()).user("certuser").database("postgres")
                    .sslMode("verify-full").sslRootCert(postgres.caCertificate())
                    .sslClientCertificate(certificate, key)
                    .psql("SELECT current_user");
            assertThat(result.exitCode()).as(result.describe()).isZero();
            assertThat(result.stdout().strip()).isEqualTo("certuser");
        }
    }

    @Test
    void queryDistinguishesNullFromEmptyAndKeepsQuotesAndNewlines() {
        List<List<String>> rows = shared().query("postgres",
                "SELECT * FROM (VALUES (1, NULL::text), (2, ''), (3, 'a,\"b\"' || chr(10) || 'c')) v ORDER BY 1;");
        assertThat(rows).hasSize(3);
        assertThat(rows.get(0)).containsExactly("1", null);
        assertThat(rows.get(1)).containsExactly("2", "");
        assertThat(rows.get(2)).containsExactly("3", "a,\"b\"\nc");
    }

    @Test
    void failingSqlReportsServerMessage() {
        assertThatThrownBy(() -> shared().execute("postgres", "SELECT * FROM no_such_table;"))
                .isInstanceOf(EmbeddedPostgresException.class)
                .hasMessageContaining("relation \"no_such_table\" does not exist");
    }

    @Test
    void rolesWithAwkwardNamesAndPasswordsLogIn() {
        String name = "we\"ird 'role " + UUID.randomUUID();
        String password = "p'a\\ss\"word $1 %s";
        shared().createRole(name, password, RoleAttribute.CREATEDB);

        ProcessResult result = PgClient.superuserOf(shared()).user(name).password(password)
                .psql("SELECT rolcreatedb FROM pg_roles WHERE rolname = current_user");
        assertThat(result.exitCode()).as(result.describe()).isZero();
        assertThat(result.stdout().strip()).isEqualTo("t");
    }

    @Test
    void nologinRoleCannotConnect() {
        String name = "group_" + UUID.randomUUID().toString().replace("-", "");
        shared().createRole(name, "irrelevant", RoleAttribute.NOLOGIN);

        ProcessResult result = PgClient.superuserOf(shared()).user(name).password("irrelevant").psql("SELECT 1");
        assertThat(result.exitCode()).isNotZero();
        assertThat(result.stderr()).contains("is not permitted to log in");
    }

    @Test
    void jdbcUrlConnectsWithVerifyFullTls() throws Exception {
        EmbeddedPostgres postgres = shared();
        java.util.Properties credentials = new java.util.Properties();
        credentials.setProperty("user", postgres.superuser());
        credentials.setProperty("password", postgres.superuserPassword());
        try (java.sql.Connection connection = java.sql.DriverManager.getConnection(postgres.jdbcUrl("postgres"), credentials);
                java.sql.ResultSet result = connection.createStatement()
                        .executeQuery("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) {
            assertThat(result.next()).isTrue();
            assertThat(result.getBoolean(1)).isTrue();
        }
    }

    @Test
    void clientEnvironmentIsEnoughForPsql() {
        EmbeddedPostgres postgres = shared();
        ProcessResult result = ExternalCommand.of(postgres.binaries().psql().toString(), "-X", "-A", "-t", "-c",
                        "SELECT current_user || ' ' || current_database()")
                .environment(postgres.clientEnvironment(postgres.superuser(), postgres.superuserPassword(), "template1"))
                .run();
        assertThat(result.exitCode()).as(result.describe()).isZero();
        assertThat(result.stdout().strip()).isEqualTo("postgres template1");
    }

    private static EmbeddedPostgres shared() {
        return SharedPostgres.get();
    }

    @Test
    void givenDirectoryIsKeptAfterStopAndMustBeEmpty(@TempDir Path temp) throws Exception {
        // JUnit creates @TempDir with mode 0700; the server account (postgres, when we are root)
        // needs to reach the directory through it.
        Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rwx--x--x"));
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
    void serverKeyIsPrivateToTheServerAccountWhileTheCaIsReadableByPath() throws Exception {
        EmbeddedPostgres postgres = shared();
        Path key = postgres.dataDirectory().resolve("server.key");
        assertThat(mode(key)).isEqualTo("rw-------");
        assertThat(Files.getOwner(key)).isEqualTo(Files.getOwner(postgres.dataDirectory().resolve("PG_VERSION")));
        assertThat(mode(postgres.dataDirectory())).isEqualTo("rwx------");
        assertThat(mode(postgres.baseDirectory())).isEqualTo("rwx--x--x");
        assertThat(mode(postgres.caCertificate())).isEqualTo("rw-r--r--");
        assertThat(postgres.baseDirectory().resolve("superuser.pw")).doesNotExist();
    }

    private static String mode(Path path) throws java.io.IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
    }
}
