package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.scram.ScramVerifier;
import dev.pgpolicy.proxy.session.SessionHooks;
import dev.pgpolicy.proxy.session.SessionInfo;
import dev.pgpolicy.proxy.session.Verdict;
import dev.pgpolicy.proxy.testing.PgClient;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import dev.pgpolicy.proxy.tls.CertificateAuthority;
import dev.pgpolicy.proxy.tls.CertifiedKey;
import dev.pgpolicy.proxy.tls.Validity;
import dev.pgpolicy.proxy.wire.Query;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Client certificates in {@code auth.mode: proxy}: {@code tls.client_ca} makes the proxy request
 * (not require) a certificate; a verified one authenticates {@code auth: cert} users, and is
 * needed on top of the password by {@code auth: both} users.
 */
@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientCertificateTest {

    private static final String DB = "proxy_certs";
    private static final String ROLE = "proxy_certs_account";
    private static final String DAVE_PASSWORD = "dave's passphrase";

    private Path dir;
    private CertificateAuthority clientCa;
    private ProxyFixture fixture;
    /** What policies would see: the session attributes at each statement, by the statement's text. */
    private final Map<String, String> attributesByStatement = new ConcurrentHashMap<>();

    @BeforeAll
    void start(EmbeddedPostgres postgres, @TempDir Path tempDir) throws IOException {
        dir = tempDir;
        postgres.createDatabase(DB);
        postgres.createRole(ROLE, "certs account secret");
        Files.writeString(dir.resolve("account"), "certs account secret");
        clientCa = CertificateAuthority.generate("pgpolicy test clients CA");
        clientCa.writeCertificate(dir.resolve("clients-ca.crt"));
        Path users = dir.resolve("users.yaml");
        Files.writeString(users, """
                users:
                  carol: { upstream: app, auth: cert, groups: [ops] }
                  dave: { scram: "%s", upstream: app, auth: both, cert_cn: dave.example.org }
                  erin: { scram: "%s", upstream: app }
                accounts:
                  app: { user: %s, password_file: account }
                """.formatted(
                ScramVerifier.generate(DAVE_PASSWORD.toCharArray(), 4096, new SecureRandom()).encode(),
                ScramVerifier.generate("erin's passphrase".toCharArray(), 4096, new SecureRandom()).encode(),
                ROLE));
        SessionHooks recording = new SessionHooks() {
            @Override
            public Verdict onQuery(SessionInfo session, Query query) {
                attributesByStatement.put(query.sql(), session.user().orElse("") + "|" + session.dbUser().orElse("")
                        + "|" + session.groups() + "|" + session.authMethod().orElse("") + "|"
                        + session.certCn().orElse(""));
                return Verdict.FORWARD;
            }
        };
        fixture = ProxyFixture.start(postgres, b -> b.authMode(ProxyConfig.AuthMode.PROXY).usersFile(users)
                .clientCa(dir.resolve("clients-ca.crt")), recording);
    }

    @AfterAll
    void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void aCertificateFromTheClientCaAuthenticatesACertificateUser() throws IOException {
        ProcessResult result = withCertificate("carol", clientCa.issueClient("carol"), "")
                .psql("SELECT current_user /* carol */");
        assertThat(result.succeeded()).as(result.describe()).isTrue();
        assertThat(result.stdout().strip()).isEqualTo(ROLE);
        assertThat(attributesByStatement.get("SELECT current_user /* carol */"))
                .isEqualTo("carol|" + ROLE + "|[ops]|cert|carol");
    }

    @Test
    void expiredCertificateIsRefused() throws IOException {
        CertifiedKey expired = clientCa.issueClient("carol", Validity.expired(Duration.ofDays(1)));
        ProcessResult result = withCertificate("carol", expired, "").psql("SELECT 1");
        assertThat(result.succeeded()).isFalse();
        assertThat(result.stdout()).isEmpty();
    }

    @Test
    void selfSignedCertificateIsRefused() throws IOException {
        CertificateAuthority self = CertificateAuthority.generate("carol");
        Path certificate = dir.resolve("self-signed.crt");
        Path key = dir.resolve("self-signed.key");
        self.writeCertificate(certificate);
        self.writePrivateKey(key);
        restrict(key);
        ProcessResult result = PgClient.to("127.0.0.1", fixture.port()).user("carol").database(DB)
                .sslMode("require").sslClientCertificate(certificate, key).psql("SELECT 1");
        assertThat(result.succeeded()).isFalse();
        assertThat(result.stdout()).isEmpty();
    }

    @Test
    void certificateFromAnotherCaIsRefused() throws IOException {
        CertifiedKey foreign = CertificateAuthority.generate("some other CA").issueClient("carol");
        ProcessResult result = withCertificate("carol", foreign, "").psql("SELECT 1");
        assertThat(result.succeeded()).isFalse();
        assertThat(result.stdout()).isEmpty();
    }

    @Test
    void aCertificateUserTryingAPasswordFailsLikeAnUnknownUser() {
        ProcessResult carol = PgClient.to("127.0.0.1", fixture.port()).user("carol").password("a guess")
                .database(DB).sslMode("require").psql("SELECT 1");
        ProcessResult nobody = PgClient.to("127.0.0.1", fixture.port()).user("nobody").password("a guess")
                .database(DB).sslMode("require").psql("SELECT 1");
        assertThat(carol.succeeded()).isFalse();
        assertThat(carol.stderr()).contains("password authentication failed for user \"carol\"");
        assertThat(nobody.stderr().replace("nobody", "carol")).isEqualTo(carol.stderr());
    }

    @Test
    void aCertificateForSomeoneElseDoesNotAuthenticate() throws IOException {
        // A valid certificate of the CA, but its CN is carol's: it cannot stand for a certificate user "dave".
        ProcessResult result = withCertificate("dave", clientCa.issueClient("carol"), DAVE_PASSWORD).psql("SELECT 1");
        assertThat(result.succeeded()).isFalse();
        assertThat(result.stderr()).contains("password authentication failed for user \"dave\"");
    }

    @Test
    void bothNeedsTheCertificateAndThePassword() throws IOException {
        CertifiedKey daves = clientCa.issueClient("dave.example.org");
        ProcessResult both = withCertificate("dave", daves, DAVE_PASSWORD).psql("SELECT current_user /* dave */");
        assertThat(both.succeeded()).as(both.describe()).isTrue();
        assertThat(both.stdout().strip()).isEqualTo(ROLE);
        assertThat(attributesByStatement.get("SELECT current_user /* dave */"))
                .isEqualTo("dave|" + ROLE + "|[]|cert+scram|dave.example.org");

        ProcessResult certificateOnly = withCertificate("dave", daves, "not the password").psql("SELECT 1");
        assertThat(certificateOnly.succeeded()).isFalse();
        assertThat(certificateOnly.stderr()).contains("password authentication failed for user \"dave\"");

        ProcessResult passwordOnly = PgClient.to("127.0.0.1", fixture.port()).user("dave").password(DAVE_PASSWORD)
                .database(DB).sslMode("require").psql("SELECT 1");
        assertThat(passwordOnly.succeeded()).isFalse();
        assertThat(passwordOnly.stderr()).contains("password authentication failed for user \"dave\"");
    }

    @Test
    void passwordUsersNeedNoCertificate() {
        ProcessResult result = PgClient.to("127.0.0.1", fixture.port()).user("erin").password("erin's passphrase")
                .database(DB).sslMode("require").psql("SELECT current_user /* erin */");
        assertThat(result.succeeded()).as(result.describe()).isTrue();
        assertThat(result.stdout().strip()).isEqualTo(ROLE);
        assertThat(attributesByStatement.get("SELECT current_user /* erin */")).isEqualTo("erin|" + ROLE + "|[]|scram|");
    }

    private PgClient withCertificate(String user, CertifiedKey certificate, String password) throws IOException {
        Path directory = Files.createTempDirectory(dir, "client");
        Path certificateFile = directory.resolve("client.crt");
        Path keyFile = directory.resolve("client.key");
        certificate.writeCertificateChain(certificateFile);
        certificate.writePrivateKey(keyFile);
        restrict(keyFile);
        PgClient client = PgClient.to("127.0.0.1", fixture.port()).user(user).database(DB).sslMode("require")
                .sslClientCertificate(certificateFile, keyFile);
        return password.isEmpty() ? client : client.password(password);
    }

    /** libpq refuses a private key file that others can read. */
    private static void restrict(Path key) throws IOException {
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
    }
}
