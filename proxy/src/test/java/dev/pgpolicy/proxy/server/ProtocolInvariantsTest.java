package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.testing.BackendMessage;
import dev.pgpolicy.proxy.testing.Frames;
import dev.pgpolicy.proxy.testing.RawSocket;
import dev.pgpolicy.proxy.testing.Resources;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The protocol invariants of DESIGN.md, checked byte by byte on a raw socket. A cluster of its
 * own lets one role log in with {@code trust}, so the raw client can reach the READY phase
 * without implementing SCRAM.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProtocolInvariantsTest {

    private static final String TRUSTED = "trusted_raw";
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

    private EmbeddedPostgres postgres;
    private ProxyFixture fixture;

    @BeforeAll
    void start() {
        postgres = EmbeddedPostgres.builder()
                .hbaRule("host all " + TRUSTED + " 127.0.0.1/32 trust")
                .hbaRule("host all md5_user 127.0.0.1/32 md5")
                .hbaRule("host all cleartext_user 127.0.0.1/32 password")
                .start();
        postgres.createRole(TRUSTED, null);
        // md5 authentication needs an md5-hashed password; a SCRAM verifier would make the server use SCRAM.
        postgres.execute("postgres", "SET password_encryption = 'md5';\n"
                + "CREATE ROLE md5_user LOGIN PASSWORD 'md5 secret';\n"
                + "CREATE ROLE cleartext_user LOGIN PASSWORD 'cleartext secret';\n");
        fixture = ProxyFixture.start(postgres);
    }

    @AfterAll
    void stop() {
        Resources.closeAll(fixture, postgres);
    }

    private RawSocket connect(ProxyFixture proxy) {
        return RawSocket.connect("127.0.0.1", proxy.port());
    }

    private static byte[] trustedStartup() {
        return Frames.startup(Map.of("user", TRUSTED, "database", "postgres"));
    }

    /** Reads up to ReadyForQuery; returns the messages' types in order. */
    private static String readUntilReady(RawSocket socket) {
        StringBuilder types = new StringBuilder();
        while (true) {
            BackendMessage message = socket.readMessage();
            types.append(message.type());
            assertThat(message.type()).as("unexpected error: %s", message).isNotEqualTo('E');
            if (message.type() == 'Z') {
                return types.toString();
            }
        }
    }

    private static void assertFatal(RawSocket socket, String sqlState) {
        BackendMessage error = socket.readMessage();
        assertThat(error.type()).as(error.toString()).isEqualTo('E');
        assertThat(error.sqlState()).as(error.toString()).isEqualTo(sqlState);
        assertThat(error.fields().get('S')).isEqualTo("FATAL");
        assertThat(error.fields().get('D')).startsWith("pgpolicy correlation id ");
        assertThat(socket.awaitClosed(CLOSE_WAIT)).isTrue();
    }

    @Test
    void startupReachesReadyWithAProxyIssuedKey() {
        try (RawSocket socket = connect(fixture)) {
            socket.write(trustedStartup());
            String types = readUntilReady(socket);
            // AuthenticationOk, ParameterStatus..., BackendKeyData, ReadyForQuery
            assertThat(types).startsWith("R").contains("S").contains("K").endsWith("Z");
            socket.write(Frames.query("SELECT 1"));
            assertThat(readUntilReady(socket)).isEqualTo("TDCZ");
        }
    }

    @Test
    void md5AndCleartextPasswordExchangesAreRelayed() {
        for (String[] login : new String[][] {{"md5_user", "md5 secret"}, {"cleartext_user", "cleartext secret"}}) {
            dev.pgpolicy.proxy.embedded.ProcessResult ok = dev.pgpolicy.proxy.testing.PgClient.to("127.0.0.1", fixture.port())
                    .user(login[0]).password(login[1]).database("postgres").sslMode("disable").psql("SELECT current_user");
            assertThat(ok.succeeded()).as(ok.describe()).isTrue();
            assertThat(ok.stdout().strip()).isEqualTo(login[0]);
            dev.pgpolicy.proxy.embedded.ProcessResult wrong = dev.pgpolicy.proxy.testing.PgClient.to("127.0.0.1", fixture.port())
                    .user(login[0]).password("wrong").database("postgres").sslMode("disable").psql("SELECT 1");
            assertThat(wrong.succeeded()).isFalse();
            assertThat(wrong.stderr()).contains("password authentication failed for user \"" + login[0] + "\"");
        }
    }

    @Test
    void gssEncRequestIsAnsweredN() {
        try (RawSocket socket = connect(fixture)) {
            socket.write(Frames.gssEncRequest());
            assertThat(socket.readByte()).isEqualTo('N');
            socket.write(trustedStartup());
            assertThat(readUntilReady(socket)).endsWith("Z");
        }
    }

    @Test
    void protocol32IsNegotiatedDownTo30() {
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("user", TRUSTED);
        parameters.put("database", "postgres");
        parameters.put("_pq_.future_option", "on");
        try (RawSocket socket = connect(fixture)) {
            socket.write(Frames.startup((3 << 16) | 2, parameters));
            BackendMessage negotiate = socket.readMessage();
            assertThat(negotiate.type()).isEqualTo('v');
            assertThat(negotiate.int32(0)).isZero(); // newest minor version supported
            assertThat(negotiate.int32(4)).isEqualTo(1); // one unrecognized option
            assertThat(new String(negotiate.body(), 8, negotiate.body().length - 9, StandardCharsets.UTF_8))
                    .isEqualTo("_pq_.future_option");
            assertThat(readUntilReady(socket)).endsWith("Z");
            socket.write(Frames.query("SELECT 1"));
            assertThat(readUntilReady(socket)).isEqualTo("TDCZ");
        }
    }

    @Test
    void unsupportedMajorVersionIsRefused() {
        try (RawSocket socket = connect(fixture)) {
            socket.write(Frames.startup(2 << 16, Map.of("user", TRUSTED)));
            BackendMessage error = socket.readMessage();
            assertThat(error.sqlState()).isEqualTo("0A000");
            assertThat(socket.awaitClosed(CLOSE_WAIT)).isTrue();
        }
    }

    @Test
    void malformedFrameIsAProtocolViolation() {
        try (RawSocket socket = connect(fixture)) {
            socket.write(trustedStartup());
            readUntilReady(socket);
            // A Query whose string is not terminated.
            socket.write(Frames.typed('Q', "SELECT 1".getBytes(StandardCharsets.UTF_8)));
            assertFatal(socket, "08P01");
        }
    }

    @Test
    void invalidUtf8InAStatementIsAnErrorNotTheEndOfTheSession() {
        try (RawSocket socket = connect(fixture)) {
            socket.write(trustedStartup());
            readUntilReady(socket);
            byte[] sql = {'S', 'E', 'L', 'E', 'C', 'T', ' ', '\'', (byte) 0xC3, (byte) 0x28, '\'', 0};
            socket.write(Frames.typed('Q', sql));
            BackendMessage error = socket.readMessage();
            assertThat(error.type()).isEqualTo('E');
            assertThat(error.sqlState()).isEqualTo("22021");
            assertThat(error.fields().get('S')).isEqualTo("ERROR");
            assertThat(socket.readMessage().type()).isEqualTo('Z');
            socket.write(Frames.query("SELECT 'still usable'"));
            assertThat(readUntilReady(socket)).isEqualTo("TDCZ");
        }
    }

    @Test
    void clientEncodingsWhereAsciiCanHideInsideACharacterAreRefused() {
        var refused = dev.pgpolicy.proxy.testing.PgClient.to("127.0.0.1", fixture.port()).user(TRUSTED)
                .database("postgres").sslMode("disable").env("PGCLIENTENCODING", "SJIS").psql("SELECT 1");
        assertThat(refused.succeeded()).isFalse();
        assertThat(refused.stderr()).contains("client_encoding SJIS is not supported through pgpolicy");
        try (RawSocket socket = connect(fixture)) {
            socket.write(trustedStartup());
            readUntilReady(socket);
            socket.write(Frames.query("SET client_encoding = 'WIN936'"));
            BackendMessage message;
            do {
                message = socket.readMessage(); // CommandComplete comes first; the ParameterStatus never arrives
            } while (message.type() != 'E');
            assertThat(message.sqlState()).isEqualTo("0A000");
            assertThat(message.fields().get('M')).contains("client_encoding GBK");
            assertThat(socket.awaitClosed(CLOSE_WAIT)).isTrue();
        }
    }

    @Test
    void impossibleLengthIsAProtocolViolation() {
        try (RawSocket socket = connect(fixture)) {
            socket.write(trustedStartup());
            readUntilReady(socket);
            socket.write(ByteBuffer.allocate(5).put((byte) 'Q').putInt(2).array());
            assertFatal(socket, "08P01");
        }
    }

    @Test
    void messageFromTheWrongPhaseIsAProtocolViolation() {
        try (RawSocket socket = connect(fixture)) {
            socket.write(trustedStartup());
            readUntilReady(socket);
            // A password message in a ready session.
            socket.write(Frames.password("secret"));
            assertFatal(socket, "08P01");
        }
        try (RawSocket socket = connect(fixture)) {
            socket.write(Frames.startup(Map.of("user", postgres.superuser(), "database", "postgres")));
            BackendMessage sasl = socket.readMessage();
            assertThat(sasl.type()).isEqualTo('R');
            assertThat(sasl.int32(0)).isEqualTo(10);
            // A query while the server waits for the SASL answer.
            socket.write(Frames.query("SELECT 1"));
            assertFatal(socket, "08P01");
        }
    }

    @Test
    void bytesBehindTheStartupPacketAreAProtocolViolation() {
        try (RawSocket socket = connect(fixture)) {
            socket.write(Frames.concat(trustedStartup(), Frames.query("SELECT 1")));
            assertFatal(socket, "08P01");
        }
    }

    @Test
    void startupWithoutUserIsRefused() {
        try (RawSocket socket = connect(fixture)) {
            socket.write(Frames.startup(Map.of("database", "postgres")));
            assertFatal(socket, "28000");
        }
    }

    @Test
    void handshakeDeadlineClosesASilentClient() {
        try (ProxyFixture quick = ProxyFixture.start(postgres, b -> b.handshakeTimeout(Duration.ofMillis(300)))) {
            try (RawSocket silent = connect(quick)) {
                assertThat(silent.awaitClosed(CLOSE_WAIT)).isTrue();
            }
            try (RawSocket stalled = connect(quick)) {
                stalled.write(Frames.startup(Map.of("user", postgres.superuser(), "database", "postgres")));
                assertThat(stalled.readMessage().type()).isEqualTo('R');
                // Never answers the SASL request.
                BackendMessage error = stalled.readMessage();
                assertThat(error.sqlState()).isEqualTo("57014");
                assertThat(error.fields().get('M')).isEqualTo("canceling authentication due to timeout");
                assertThat(stalled.awaitClosed(CLOSE_WAIT)).isTrue();
            }
            // A ready session is not affected by the deadline.
            try (RawSocket ready = connect(quick)) {
                ready.write(trustedStartup());
                readUntilReady(ready);
                sleep(600);
                ready.write(Frames.query("SELECT 1"));
                assertThat(readUntilReady(ready)).isEqualTo("TDCZ");
            }
        }
    }

    @Test
    void tooManyClientsIsRefusedLikePostgres() {
        try (ProxyFixture small = ProxyFixture.start(postgres, b -> b.maxClientConnections(1))) {
            try (RawSocket first = connect(small)) {
                first.write(trustedStartup());
                readUntilReady(first);
                try (RawSocket second = connect(small)) {
                    second.write(trustedStartup());
                    BackendMessage error = second.readMessage();
                    assertThat(error.sqlState()).isEqualTo("53300");
                    assertThat(error.fields().get('M')).isEqualTo("sorry, too many clients already");
                    assertThat(second.awaitClosed(CLOSE_WAIT)).isTrue();
                }
                first.write(Frames.terminate());
                assertThat(first.awaitClosed(CLOSE_WAIT)).isTrue();
            }
            // The slot is released when the first session ends.
            long deadline = System.nanoTime() + CLOSE_WAIT.toNanos();
            while (small.proxy.activeSessions() > 0 && System.nanoTime() < deadline) {
                sleep(20);
            }
            try (RawSocket third = connect(small)) {
                third.write(trustedStartup());
                assertThat(readUntilReady(third)).endsWith("Z");
            }
        }
    }

    @Test
    void cancelRequestWithAnUnknownKeyIsDroppedSilently() {
        try (RawSocket session = connect(fixture)) {
            session.write(trustedStartup());
            readUntilReady(session);
            try (RawSocket cancel = connect(fixture)) {
                cancel.write(Frames.cancelRequest(12345, 67890));
                assertThat(cancel.awaitClosed(CLOSE_WAIT)).isTrue();
            }
            session.write(Frames.query("SELECT 'unaffected'"));
            assertThat(readUntilReady(session)).isEqualTo("TDCZ");
        }
    }

    @Test
    void extendedProtocolPipelineIsRelayedInOrder() {
        try (RawSocket socket = connect(fixture)) {
            socket.write(trustedStartup());
            readUntilReady(socket);
            // Parse/Bind/Execute twice, one failing, then one Sync: the second batch item after the
            // error is skipped by the server, and the session stays usable.
            socket.write(Frames.concat(
                    parse("", "SELECT 1"), bind("", ""), execute(""),
                    parse("", "SELECT 1/0"), bind("", ""), execute(""),
                    parse("", "SELECT 3"), bind("", ""), execute(""),
                    Frames.sync()));
            StringBuilder types = new StringBuilder();
            while (true) {
                BackendMessage message = socket.readMessage();
                types.append(message.type());
                if (message.type() == 'Z') {
                    break;
                }
            }
            assertThat(types.toString()).isEqualTo("12DC1EZ");
            socket.write(Frames.query("SELECT 'after pipeline'"));
            assertThat(readUntilReady(socket)).isEqualTo("TDCZ");
        }
    }

    @Test
    void aClientThatStopsReadingDoesNotMakeTheProxyBufferTheResult() throws Exception {
        try (RawSocket socket = connect(fixture)) {
            socket.write(trustedStartup());
            readUntilReady(socket);
            long before = io.netty.buffer.PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
            // About 200 MB of rows, and the client reads none of it for a while.
            socket.write(Frames.query("SELECT repeat('x', 10000) FROM generate_series(1, 20000)"));
            Thread.sleep(1500);
            long during = io.netty.buffer.PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
            assertThat(during - before).as("direct memory held while the client is not reading")
                    .isLessThan(32L * 1024 * 1024);
            int rows = 0;
            while (true) {
                BackendMessage message = socket.readMessage();
                if (message.type() == 'D') {
                    rows++;
                } else if (message.type() == 'Z') {
                    break;
                }
            }
            assertThat(rows).isEqualTo(20_000);
        }
    }

    private static byte[] parse(String name, String sql) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        cString(body, name);
        cString(body, sql);
        body.writeBytes(new byte[] {0, 0});
        return Frames.typed('P', body.toByteArray());
    }

    private static byte[] bind(String portal, String statement) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        cString(body, portal);
        cString(body, statement);
        body.writeBytes(new byte[] {0, 0, 0, 0, 0, 0});
        return Frames.typed('B', body.toByteArray());
    }

    private static byte[] execute(String portal) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        cString(body, portal);
        body.writeBytes(new byte[] {0, 0, 0, 0});
        return Frames.typed('E', body.toByteArray());
    }

    private static void cString(ByteArrayOutputStream out, String text) {
        out.writeBytes(text.getBytes(StandardCharsets.UTF_8));
        out.write(0);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
