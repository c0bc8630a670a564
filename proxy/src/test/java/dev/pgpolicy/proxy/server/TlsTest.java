package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.testing.BackendMessage;
import dev.pgpolicy.proxy.testing.Frames;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import dev.pgpolicy.proxy.testing.RawSocket;
import dev.pgpolicy.proxy.tls.CertificateAuthority;
import dev.pgpolicy.proxy.tls.CertifiedKey;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** TLS toward clients (configured and required) and toward the server (verify-full and a wrong CA). */
@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TlsTest {

    private static final String DB = "tls_relay";

    private Path dir;
    private EmbeddedPostgres postgres;
    private Path proxyCert;
    private Path proxyKey;

    @BeforeAll
    void setUp(EmbeddedPostgres postgres, @TempDir Path dir) {
        this.postgres = postgres;
        this.dir = dir;
        postgres.createDatabase(DB);
        // The proxy's certificate comes from the same test CA as the server's, for localhost and 127.0.0.1.
        CertifiedKey key = postgres.certificateAuthority().issueLocalhostServer();
        proxyCert = dir.resolve("proxy.crt");
        proxyKey = dir.resolve("proxy.key");
        key.writeCertificateChain(proxyCert);
        key.writePrivateKey(proxyKey);
    }

    @Test
    void verifyFullAgainstTheConfiguredCertificate() {
        try (ProxyFixture fixture = ProxyFixture.start(postgres, b -> b.tls(proxyCert, proxyKey))) {
            ProcessResult result = fixture.client(DB).sslMode("verify-full").sslRootCert(postgres.caCertificate())
                    .psql("SELECT 'encrypted'");
            assertThat(result.succeeded()).as(result.describe()).isTrue();
            assertThat(result.stdout().strip()).isEqualTo("encrypted");
        }
    }

    @Test
    void generatedCertificateWorksWithSslmodeRequire() {
        try (ProxyFixture fixture = ProxyFixture.start(postgres)) {
            assertThat(fixture.proxy.certificateFingerprint()).matches("([0-9A-F]{2}:){31}[0-9A-F]{2}");
            ProcessResult result = fixture.client(DB).sslMode("require").psql("SELECT 1");
            assertThat(result.succeeded()).as(result.describe()).isTrue();
            // A self-signed certificate is not trusted by the test CA.
            ProcessResult verified = fixture.client(DB).sslMode("verify-full").sslRootCert(postgres.caCertificate())
                    .psql("SELECT 1");
            assertThat(verified.succeeded()).isFalse();
        }
    }

    @Test
    void plaintextStartupIsRefusedWhenTlsIsRequired() {
        try (ProxyFixture fixture = ProxyFixture.start(postgres, b -> b.tls(proxyCert, proxyKey).requireTls(true))) {
            ProcessResult plain = fixture.client(DB).sslMode("disable").psql("SELECT 1");
            assertThat(plain.succeeded()).isFalse();
            assertThat(plain.stderr()).contains("pgpolicy requires TLS");

            try (RawSocket socket = RawSocket.connect("127.0.0.1", fixture.port())) {
                socket.write(Frames.startup(Map.of("user", postgres.superuser(), "database", DB)));
                BackendMessage error = socket.readMessage();
                assertThat(error.type()).isEqualTo('E');
                assertThat(error.sqlState()).isEqualTo("28000");
                assertThat(socket.awaitClosed(Duration.ofSeconds(5))).isTrue();
            }

            ProcessResult encrypted = fixture.client(DB).sslMode("verify-full").sslRootCert(postgres.caCertificate())
                    .psql("SELECT 'tls required and used'");
            assertThat(encrypted.succeeded()).as(encrypted.describe()).isTrue();
        }
    }

    @Test
    void bytesAfterSslRequestBeforeTheHandshakeAreAProtocolViolation() {
        try (ProxyFixture fixture = ProxyFixture.start(postgres, b -> b.tls(proxyCert, proxyKey));
                RawSocket socket = RawSocket.connect("127.0.0.1", fixture.port())) {
            // CVE-2021-23214: a man in the middle appends plaintext behind the SSLRequest.
            socket.write(Frames.concat(Frames.sslRequest(), Frames.query("SELECT 'injected'")));
            BackendMessage error = socket.readMessage();
            assertThat(error.type()).isEqualTo('E');
            assertThat(error.sqlState()).isEqualTo("08P01");
            assertThat(error.fields().get('M')).contains("unencrypted data after SSL request");
            assertThat(socket.awaitClosed(Duration.ofSeconds(5))).isTrue();
        }
    }

    @Test
    void sslRequestIsAnsweredAndTheStartupContinuesEncrypted() {
        try (ProxyFixture fixture = ProxyFixture.start(postgres, b -> b.tls(proxyCert, proxyKey));
                RawSocket socket = RawSocket.connect("127.0.0.1", fixture.port())) {
            socket.write(Frames.sslRequest());
            assertThat(socket.readByte()).isEqualTo('S');
            socket.startTls(postgres.caCertificate(), "localhost");
            socket.write(Frames.startup(Map.of("user", postgres.superuser(), "database", DB)));
            BackendMessage auth = socket.readMessage();
            assertThat(auth.type()).isEqualTo('R');
            assertThat(auth.int32(0)).isEqualTo(10); // AuthenticationSASL
            assertThat(new String(auth.body(), java.nio.charset.StandardCharsets.UTF_8))
                    .contains("SCRAM-SHA-256").doesNotContain("PLUS");
        }
    }

    @Test
    void upstreamVerifyFullAgainstTheServersCa() {
        try (ProxyFixture fixture = ProxyFixture.start(postgres, b -> b
                .upstreamTls(ProxyConfig.UpstreamTls.VERIFY_FULL).upstreamCa(postgres.caCertificate()))) {
            ProcessResult result = fixture.client(DB)
                    .psql("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
            assertThat(result.succeeded()).as(result.describe()).isTrue();
            assertThat(result.stdout().strip()).matches("t\\|TLSv1\\.[23]");
        }
    }

    @Test
    void upstreamRequireAndVerifyCaEncryptToo() {
        for (ProxyConfig.UpstreamTls mode : new ProxyConfig.UpstreamTls[] {
                ProxyConfig.UpstreamTls.REQUIRE, ProxyConfig.UpstreamTls.VERIFY_CA}) {
            try (ProxyFixture fixture = ProxyFixture.start(postgres, b -> b.upstreamTls(mode)
                    .upstreamCa(mode == ProxyConfig.UpstreamTls.VERIFY_CA ? postgres.caCertificate() : null))) {
                ProcessResult result = fixture.client(DB).psql("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
                assertThat(result.succeeded()).as(mode + ": " + result.describe()).isTrue();
                assertThat(result.stdout().strip()).isEqualTo("t");
            }
        }
    }

    @Test
    void unreachableUpstreamIsAClear08006() throws Exception {
        int closedPort;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0)) {
            closedPort = probe.getLocalPort();
        }
        int port = closedPort;
        try (ProxyFixture fixture = ProxyFixture.start(postgres, b -> b.upstream("127.0.0.1", port))) {
            ProcessResult result = fixture.client(DB).psql("SELECT 1");
            assertThat(result.succeeded()).isFalse();
            assertThat(result.stderr()).contains("FATAL:  could not connect to the upstream server at 127.0.0.1:" + port)
                    .contains("pgpolicy correlation id");
            assertThatThrownBy(() -> fixture.jdbc(DB, "")).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("08006"));
        }
    }

    @Test
    void cancelTravelsOverUpstreamTlsToo() throws Exception {
        try (ProxyFixture fixture = ProxyFixture.start(postgres, b -> b
                .upstreamTls(ProxyConfig.UpstreamTls.VERIFY_FULL).upstreamCa(postgres.caCertificate()));
                java.sql.Connection connection = fixture.jdbc(DB, "");
                java.sql.Statement statement = connection.createStatement()) {
            java.util.concurrent.CompletableFuture<Void> canceller = java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    Thread.sleep(300);
                    statement.cancel();
                } catch (SQLException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            long start = System.nanoTime();
            assertThatThrownBy(() -> statement.execute("SELECT pg_sleep(30)")).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("57014"));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
            canceller.get(5, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    @Test
    void channelBindingIsNotOfferedThroughTheProxy() {
        // Both legs encrypted: the server offers SCRAM-SHA-256-PLUS, the proxy removes it, because
        // the client's channel is bound to the proxy's certificate, not the server's.
        try (ProxyFixture fixture = ProxyFixture.start(postgres, b -> b.tls(proxyCert, proxyKey)
                .upstreamTls(ProxyConfig.UpstreamTls.VERIFY_FULL).upstreamCa(postgres.caCertificate()))) {
            ProcessResult required = fixture.client(DB).sslMode("verify-full").sslRootCert(postgres.caCertificate())
                    .env("PGCHANNELBINDING", "require").psql("SELECT 1");
            assertThat(required.succeeded()).isFalse();
            assertThat(required.stderr()).contains("channel binding");

            ProcessResult plain = fixture.client(DB).sslMode("verify-full").sslRootCert(postgres.caCertificate())
                    .env("PGCHANNELBINDING", "disable").psql("SELECT 'no channel binding'");
            assertThat(plain.succeeded()).as(plain.describe()).isTrue();

            // libpq's default (prefer) announces channel binding support with the "y" flag, which a
            // TLS server refuses as a downgrade; the proof covers the flag, so it cannot be rewritten.
            // The server's refusal reaches the client verbatim (the serve log warns about it).
            ProcessResult prefer = fixture.client(DB).sslMode("verify-full").sslRootCert(postgres.caCertificate())
                    .env("PGCHANNELBINDING", "prefer").psql("SELECT 1");
            assertThat(prefer.succeeded()).isFalse();
            assertThat(prefer.stderr()).contains("SCRAM channel binding negotiation error");
        }
    }

    @Test
    void upstreamVerifyFullWithTheWrongCaFailsWithAClearError() {
        Path otherCa = dir.resolve("other-ca.crt");
        CertificateAuthority.generate("not the server's CA").writeCertificate(otherCa);
        try (ProxyFixture fixture = ProxyFixture.start(postgres, b -> b
                .upstreamTls(ProxyConfig.UpstreamTls.VERIFY_FULL).upstreamCa(otherCa))) {
            ProcessResult result = fixture.client(DB).psql("SELECT 1");
            assertThat(result.succeeded()).isFalse();
            assertThat(result.stderr()).contains("TLS handshake with the upstream server")
                    .contains("verify-full").contains("pgpolicy correlation id").doesNotContain("at dev.");
            assertThatThrownBy(() -> fixture.jdbc(DB, "")).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("08006"));
        }
    }
}
