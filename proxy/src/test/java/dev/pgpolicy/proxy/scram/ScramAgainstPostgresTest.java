package dev.pgpolicy.proxy.scram;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.testing.BackendMessage;
import dev.pgpolicy.proxy.testing.Frames;
import dev.pgpolicy.proxy.testing.RawSocket;
import dev.pgpolicy.proxy.wire.AuthenticationMD5Password;
import dev.pgpolicy.proxy.wire.AuthenticationOk;
import dev.pgpolicy.proxy.wire.AuthenticationSASL;
import dev.pgpolicy.proxy.wire.AuthenticationSASLContinue;
import dev.pgpolicy.proxy.wire.AuthenticationSASLFinal;
import dev.pgpolicy.proxy.wire.BackendMessages;
import dev.pgpolicy.proxy.wire.FrontendMessage;
import dev.pgpolicy.proxy.wire.RawFrame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Our SCRAM client, our verifiers and our server side against a real PostgreSQL 15: the wire
 * protocol is driven over a raw socket with the project's codec, in plaintext and over TLS with
 * SCRAM-SHA-256-PLUS, so the exact bytes PostgreSQL accepts or refuses are the judge.
 */
class ScramAgainstPostgresTest {
    /** Non-ASCII on purpose: U+2168 becomes "IX" under SASLprep, so both sides must prepare alike. */
    private static final String PASSWORD = "p\u00E4ss w\u00F6rd \u2168";
    private static EmbeddedPostgres postgres;

    @BeforeAll
    static void start() {
        postgres = EmbeddedPostgres.builder()
                // The md5 role answers the md5 challenge; every other role gets SCRAM.
                .hbaRule("host all md5_user 127.0.0.1/32 md5")
                .start();
        postgres.createRole("scram_user", PASSWORD);
        postgres.execute("postgres", "SET password_encryption = 'md5';\n"
                + "SET log_min_error_statement = panic;\n"
                + "CREATE ROLE md5_user LOGIN PASSWORD 'md5-secret';\n");
    }

    @AfterAll
    static void stop() {
        if (postgres != null) {
            postgres.stop();
        }
    }

    /** What the server said at the end of a login attempt. */
    record Login(boolean authenticated, String sqlState, String message, ScramClient client) {
    }

    private static Login login(String user, String password, boolean tls, ScramClient.ChannelBindingMode mode,
                               UnaryOperator<AuthenticationSASL> offerSeen, Optional<ChannelBinding> bindingOverride)
            throws ScramException {
        try (RawSocket socket = RawSocket.connect(postgres.host(), postgres.port())) {
            Optional<ChannelBinding> binding = Optional.empty();
            if (tls) {
                socket.write(Frames.sslRequest());
                assertThat(socket.readByte()).isEqualTo('S');
                socket.startTls(postgres.caCertificate(), "localhost");
                try {
                    X509Certificate certificate =
                            (X509Certificate) ((SSLSocket) socket.socket()).getSession().getPeerCertificates()[0];
                    binding = ChannelBinding.tlsServerEndPoint(certificate);
                } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
                    throw new AssertionError(e);
                }
                assertThat(binding).isPresent();
            }
            if (bindingOverride.isPresent()) {
                binding = bindingOverride;
            }
            socket.write(Frames.startup(Map.of("user", user, "database", "postgres")));
            ScramClient client = null;
            while (true) {
                BackendMessage message = socket.readMessage();
                if (message.type() == 'E') {
                    return new Login(false, message.sqlState(), message.fields().get('M'), client);
                }
                if (message.type() == 'Z') {
                    return new Login(true, null, null, client);
                }
                if (message.type() != 'R') {
                    continue;
                }
                Object decoded = decode(message);
                if (decoded instanceof AuthenticationSASL offer) {
                    client = ScramClient.start(offerSeen.apply(offer), password.toCharArray(), binding, mode);
                    socket.write(bytes(client.initialResponse()));
                } else if (decoded instanceof AuthenticationSASLContinue challenge) {
                    socket.write(bytes(client.onContinue(challenge)));
                } else if (decoded instanceof AuthenticationSASLFinal outcome) {
                    client.onFinal(outcome);
                } else if (decoded instanceof AuthenticationMD5Password md5) {
                    socket.write(bytes(Md5Password.response(user, password.toCharArray(), md5.salt())));
                } else if (decoded instanceof AuthenticationOk) {
                    // As libpq: AuthenticationOk before the server proved itself is refused.
                    assertThat(client == null || client.succeeded()).isTrue();
                } else {
                    throw new AssertionError("unexpected authentication request " + decoded);
                }
            }
        }
    }

    private static Login login(String user, String password, boolean tls, ScramClient.ChannelBindingMode mode)
            throws ScramException {
        return login(user, password, tls, mode, offer -> offer, Optional.empty());
    }

    private static Object decode(BackendMessage message) {
        byte[] body = message.body();
        ByteBuf frame = Unpooled.wrappedBuffer(ByteBuffer.allocate(5 + body.length)
                .put((byte) message.type()).putInt(4 + body.length).put(body).array());
        try (RawFrameHolder holder = new RawFrameHolder(RawFrame.wrap(frame))) {
            return BackendMessages.decode(holder.frame);
        }
    }

    /** Releases the frame when the decoded record no longer needs it (records copy their bytes). */
    private record RawFrameHolder(RawFrame frame) implements AutoCloseable {
        @Override
        public void close() {
            frame.release();
        }
    }

    private static byte[] bytes(FrontendMessage message) {
        ByteBuf out = Unpooled.buffer();
        try {
            message.encode(out);
            return ByteBufUtil.getBytes(out);
        } finally {
            out.release();
        }
    }

    @Test
    void scramOverPlaintextAuthenticatesAndVerifiesTheServer() throws ScramException {
        Login login = login("scram_user", PASSWORD, false, ScramClient.ChannelBindingMode.PREFER);
        assertThat(login.authenticated()).isTrue();
        assertThat(login.client().succeeded()).isTrue();
        assertThat(login.client().mechanism()).isEqualTo("SCRAM-SHA-256");
    }

    @Test
    void wrongPasswordIsRefusedByTheServer() throws ScramException {
        Login login = login("scram_user", "not it", false, ScramClient.ChannelBindingMode.PREFER);
        assertThat(login.authenticated()).isFalse();
        assertThat(login.sqlState()).isEqualTo("28P01");
        assertThat(login.client().succeeded()).isFalse();
    }

    @Test
    void scramPlusOverTlsBindsToTheServerCertificate() throws ScramException {
        Login login = login("scram_user", PASSWORD, true, ScramClient.ChannelBindingMode.REQUIRE);
        assertThat(login.authenticated()).isTrue();
        assertThat(login.client().mechanism()).isEqualTo("SCRAM-SHA-256-PLUS");
        assertThat(login.client().channelBound()).isTrue();
        assertThat(login("scram_user", PASSWORD, true, ScramClient.ChannelBindingMode.DISABLE).authenticated()).isTrue();
    }

    @Test
    void bindingToAnotherCertificateIsCaughtByTheServer() throws ScramException {
        // What a man in the middle with its own certificate would produce.
        Login login = login("scram_user", PASSWORD, true, ScramClient.ChannelBindingMode.REQUIRE, offer -> offer,
                Optional.of(ChannelBinding.of(new byte[32])));
        assertThat(login.authenticated()).isFalse();
        assertThat(login.sqlState()).isEqualTo("28000");
        assertThat(login.message()).isEqualTo("SCRAM channel binding check failed");
    }

    @Test
    void strippedPlusOfferMakesTheServerDetectTheDowngrade() throws ScramException {
        // Someone removed -PLUS from the offer: the client answers "y" and the server, which does
        // support binding, refuses.
        Login login = login("scram_user", PASSWORD, true, ScramClient.ChannelBindingMode.PREFER,
                offer -> offer.without("SCRAM-SHA-256-PLUS"), Optional.empty());
        assertThat(login.authenticated()).isFalse();
        assertThat(login.sqlState()).isEqualTo("28000");
        assertThat(login.message()).isEqualTo("SCRAM channel binding negotiation error");
    }

    @Test
    void md5ChallengeIsAnswered() throws ScramException {
        assertThat(login("md5_user", "md5-secret", false, ScramClient.ChannelBindingMode.PREFER).authenticated()).isTrue();
        assertThat(login("md5_user", "md5-wrong", false, ScramClient.ChannelBindingMode.PREFER).sqlState()).isEqualTo("28P01");
    }

    @Test
    void postgresStoredVerifierValidatesOurServerSide() throws Exception {
        List<List<String>> rows = postgres.query("postgres", "SELECT rolpassword FROM pg_authid WHERE rolname = 'scram_user'");
        ScramVerifier stored = ScramVerifier.parse(rows.get(0).get(0));
        assertThat(stored.encode()).isEqualTo(rows.get(0).get(0));
        assertThat(stored.matches(PASSWORD.toCharArray())).isTrue();

        ScramServer server = ScramServer.start("scram_user", Optional.of(stored), MockVerifiers.random(4096), Optional.empty());
        ScramClient client = ScramClient.start(server.offer(), PASSWORD.toCharArray(), Optional.empty(),
                ScramClient.ChannelBindingMode.PREFER);
        ScramServer.Outcome first = server.onInitialResponse(client.initialResponse());
        ScramServer.Outcome last = server.onResponse(client.onContinue(((ScramServer.Challenge) first).message()));
        assertThat(last).isInstanceOf(ScramServer.Success.class);
        client.onFinal(((ScramServer.Success) last).message());
        assertThat(client.succeeded()).isTrue();
    }

    @Test
    void ourVerifierIsAcceptedByPostgresAndByPgjdbc() throws Exception {
        String verifier = ScramVerifier.generate(PASSWORD.toCharArray(), 4096, new SecureRandom()).encode();
        postgres.execute("postgres", "SET log_min_error_statement = panic;\n"
                + "CREATE ROLE ours LOGIN PASSWORD '" + verifier + "';\n");
        // PostgreSQL stores a pre-hashed verifier as given; it must recognise the format.
        assertThat(postgres.query("postgres", "SELECT rolpassword FROM pg_authid WHERE rolname = 'ours'").get(0).get(0))
                .isEqualTo(verifier);

        assertThat(login("ours", PASSWORD, true, ScramClient.ChannelBindingMode.REQUIRE).authenticated()).isTrue();

        Properties properties = new Properties();
        properties.setProperty("user", "ours");
        properties.setProperty("password", PASSWORD);
        try (Connection connection = DriverManager.getConnection(postgres.jdbcUrl("postgres"), properties);
             ResultSet result = connection.createStatement().executeQuery("SELECT current_user")) {
            assertThat(result.next()).isTrue();
            assertThat(result.getString(1)).isEqualTo("ours");
        }
        properties.setProperty("password", "wrong");
        assertThatThrownBy(() -> DriverManager.getConnection(postgres.jdbcUrl("postgres"), properties).close())
                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28P01"));
    }
}
