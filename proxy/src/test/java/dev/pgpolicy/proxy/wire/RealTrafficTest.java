package dev.pgpolicy.proxy.wire;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.testing.SharedPostgres;
import static dev.pgpolicy.proxy.wire.WireTestSupport.assertSameBytes;
import static dev.pgpolicy.proxy.wire.WireTestSupport.encode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.largeobject.LargeObject;
import org.postgresql.largeobject.LargeObjectManager;

/**
 * Real clients (pgjdbc, psql) talk to a real PostgreSQL through a recording relay; afterwards every
 * packet and frame of both directions must decode, and re-encode to exactly the bytes that were on
 * the wire. This is what "byte-exact framing" means for the proxy: any record it re-encodes
 * instead of forwarding is indistinguishable from the original.
 */
class RealTrafficTest {
    private static EmbeddedPostgres postgres;

    @BeforeAll
    static void startServer() {
        postgres = SharedPostgres.get();
    }

    private static Connection connect(TrafficTap tap, String options) throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("user", postgres.superuser());
        properties.setProperty("password", postgres.superuserPassword());
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + tap.port()
                + "/postgres?sslmode=disable&gssEncMode=disable&" + options, properties);
    }

    @Test
    void pgjdbcTrafficDecodesAndReencodesByteForByte() throws Exception {
        Set<String> seen = new LinkedHashSet<>();
        try (TrafficTap tap = new TrafficTap(postgres.port())) {
            try (Connection connection = connect(tap, "prepareThreshold=1&binaryTransfer=true")) {
                runPgjdbcWorkload(connection);
            }
            replayAll(tap, seen);
        }
        assertThat(seen).contains(
                "StartupMessage", "SASLInitialResponse", "SASLResponse", "Query", "Parse", "Bind", "Describe",
                "Execute", "Sync", "Terminate", "CopyData", "CopyDone", "FunctionCall", "CancelRequest",
                "AuthenticationSASL", "AuthenticationSASLContinue", "AuthenticationSASLFinal", "AuthenticationOk",
                "ParameterStatus", "BackendKeyData", "ReadyForQuery", "RowDescription", "DataRow", "CommandComplete",
                "ErrorResponse", "NoticeResponse", "ParseComplete", "BindComplete", "ParameterDescription",
                "PortalSuspended", "CopyInResponse", "CopyOutResponse", "NotificationResponse",
                "FunctionCallResponse", "EmptyQueryResponse");
    }

    @Test
    void psqlTrafficDecodesAndReencodesByteForByte() throws Exception {
        Set<String> seen = new LinkedHashSet<>();
        try (TrafficTap tap = new TrafficTap(postgres.port())) {
            ProcessBuilder psql = new ProcessBuilder("psql", "-X", "-q",
                    "host=127.0.0.1 port=" + tap.port() + " user=" + postgres.superuser()
                            + " dbname=postgres sslmode=disable gssencmode=disable application_name=wire-test",
                    "-c", "SELECT 1 AS one, 'ä' AS umlaut, NULL AS nothing",
                    "-c", "SELECT 1/0",
                    "-c", "\\copy (SELECT generate_series(1, 3)) TO STDOUT",
                    "-c", "");
            psql.environment().put("PGPASSWORD", postgres.superuserPassword());
            Path output = Files.createTempFile("pgpolicy-wire-psql", ".log");
            try {
                Process process = psql.redirectErrorStream(true).redirectOutput(output.toFile()).start();
                assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
                String printed = Files.readString(output, StandardCharsets.UTF_8);
                assertThat(printed).contains("division by zero");
            } finally {
                Files.deleteIfExists(output);
            }
            replayAll(tap, seen);
        }
        assertThat(seen).contains("StartupMessage", "SASLInitialResponse", "SASLResponse", "Query", "Terminate",
                "RowDescription", "DataRow", "ErrorResponse", "CopyOutResponse", "CopyData", "CopyDone");
    }

    private static void runPgjdbcWorkload(Connection connection) throws Exception {
        PGConnection pg = connection.unwrap(PGConnection.class);
        try (Statement statement = connection.createStatement()) {
            statement.execute("CREATE TEMP TABLE people (id int PRIMARY KEY, name text, photo bytea)");
            try (ResultSet rs = statement.executeQuery("SELECT 1, 'ä日本\uD83D\uDE00', NULL::text, repeat('x', 200000)")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(2)).isEqualTo("ä日本\uD83D\uDE00");
                assertThat(rs.getString(4)).hasSize(200_000);
            }
            statement.execute("");
            statement.execute("DO $$ BEGIN RAISE NOTICE 'wire notice'; END $$");
            assertThat((Object) statement.getWarnings()).isNotNull();
            assertThatThrownBy(() -> statement.execute("SELECT 1/0")).isInstanceOf(SQLException.class);
            statement.execute("LISTEN wire_channel");
            statement.execute("NOTIFY wire_channel, 'hello'");
        }
        PGNotification[] notifications = pg.getNotifications(10_000);
        assertThat(notifications).extracting(PGNotification::getParameter).contains("hello");

        try (PreparedStatement insert = connection.prepareStatement("INSERT INTO people VALUES (?, ?, ?)")) {
            for (int id = 1; id <= 5; id++) {
                insert.setInt(1, id);
                insert.setString(2, id == 3 ? null : "person " + id);
                insert.setBytes(3, new byte[] {0, (byte) id, (byte) 0xFF});
                insert.addBatch();
            }
            insert.executeBatch();
        }
        try (PreparedStatement select = connection.prepareStatement("SELECT name, photo FROM people WHERE id = ?")) {
            assertThat(select.getParameterMetaData().getParameterCount()).isEqualTo(1);
            for (int id = 1; id <= 3; id++) {
                select.setInt(1, id);
                try (ResultSet rs = select.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getBytes(2)).containsExactly(0, id, 0xFF);
                }
            }
        }

        var copy = pg.getCopyAPI();
        assertThat(copy.copyIn("COPY people (id, name) FROM STDIN", new StringReader("10\tten\n11\t\\N\n"))).isEqualTo(2);
        StringWriter copied = new StringWriter();
        copy.copyOut("COPY people (id, name) TO STDOUT", copied);
        assertThat(copied.toString()).contains("10\tten");

        connection.setAutoCommit(false);
        try (PreparedStatement series = connection.prepareStatement("SELECT generate_series(1, 10)")) {
            series.setFetchSize(3);
            int rows = 0;
            try (ResultSet rs = series.executeQuery()) {
                while (rs.next()) {
                    rows++;
                }
            }
            assertThat(rows).isEqualTo(10);
        }
        LargeObjectManager objects = pg.getLargeObjectAPI();
        long oid = objects.createLO();
        try (LargeObject object = objects.open(oid, LargeObjectManager.READWRITE)) {
            object.write("large object bytes".getBytes(StandardCharsets.UTF_8));
            object.seek(0);
            assertThat(new String(object.read(18), StandardCharsets.UTF_8)).isEqualTo("large object bytes");
        }
        objects.delete(oid);
        connection.commit();
        connection.setAutoCommit(true);

        try (Statement slow = connection.createStatement()) {
            slow.setQueryTimeout(1);
            // pgjdbc cancels through a CancelRequest on a new connection, which the tap records too.
            assertThatThrownBy(() -> slow.execute("SELECT pg_sleep(30)"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("57014"));
        }
    }

    private static void replayAll(TrafficTap tap, Set<String> seen) throws InterruptedException {
        List<TrafficTap.Recording> recordings = tap.recordings();
        assertThat(recordings).isNotEmpty();
        for (TrafficTap.Recording recording : recordings) {
            assertThat(recording.awaitClosed(30)).as("connection closed").isTrue();
            replay(recording.clientBytes(), recording.serverBytes(), seen);
        }
    }

    /** Decodes one connection's two byte streams in full and checks every re-encoding. */
    private static void replay(byte[] client, byte[] server, Set<String> seen) {
        int clientPos = 0;
        int serverPos = 0;
        while (true) {
            int length = Unpooled.wrappedBuffer(client, clientPos, 4).getInt(0);
            byte[] packetBytes = Arrays.copyOfRange(client, clientPos, clientPos + length);
            StartupPacket packet = decodeStartup(packetBytes);
            assertThat(encode(packet)).isEqualTo(packetBytes);
            seen.add(packet.getClass().getSimpleName());
            clientPos += length;
            if (packet instanceof SSLRequest || packet instanceof GSSENCRequest) {
                assertThat(server[serverPos]).isEqualTo((byte) 'N');
                serverPos++;
                continue;
            }
            if (packet instanceof CancelRequest) {
                assertThat(clientPos).isEqualTo(client.length);
                assertThat(server).isEmpty();
                return;
            }
            assertThat(((StartupMessage) packet).parameters()).containsEntry("user", postgres.superuser());
            break;
        }
        Set<String> backendSeen = replayFrames(server, serverPos, BackendMessages::decode);
        boolean sasl = backendSeen.contains("AuthenticationSASL");
        int[] authenticationResponses = {0};
        Set<String> frontendSeen = replayFrames(client, clientPos, frame -> {
            if (frame.type() != PasswordMessage.TYPE) {
                return FrontendMessages.decode(frame);
            }
            if (!sasl) {
                return FrontendMessages.decodePassword(frame);
            }
            return authenticationResponses[0]++ == 0
                    ? FrontendMessages.decodeSaslInitialResponse(frame)
                    : FrontendMessages.decodeSaslResponse(frame);
        });
        seen.addAll(backendSeen);
        seen.addAll(frontendSeen);
    }

    private static StartupPacket decodeStartup(byte[] packet) {
        EmbeddedChannel channel = new EmbeddedChannel(new StartupDecoder());
        channel.writeInbound(Unpooled.wrappedBuffer(packet));
        StartupPacket decoded = channel.readInbound();
        assertThat(channel.finishAndReleaseAll()).isFalse();
        return decoded;
    }

    private static Set<String> replayFrames(byte[] stream, int from, Function<RawFrame, WireMessage> decoder) {
        Set<String> seen = new LinkedHashSet<>();
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
        channel.writeInbound(Unpooled.wrappedBuffer(stream, from, stream.length - from));
        List<Object> frames = new ArrayList<>();
        WireTestSupport.drainInbound(channel, frames);
        try {
            for (Object object : frames) {
                RawFrame frame = (RawFrame) object;
                WireMessage message = decoder.apply(frame);
                try {
                    byte[] reencoded = encode(message);
                    assertSameBytes(frame.content(), reencoded);
                    seen.add(message.getClass().getSimpleName());
                } finally {
                    ReferenceCountUtil.release(message);
                }
            }
        } finally {
            WireTestSupport.releaseAll(frames);
        }
        // The recorded stream ends exactly on a frame boundary: nothing is left undecoded.
        assertThat(channel.finishAndReleaseAll()).isFalse();
        return seen;
    }

    @Test
    void theTapItselfRelaysUnchanged() throws Exception {
        try (TrafficTap tap = new TrafficTap(postgres.port());
             Connection connection = connect(tap, "preferQueryMode=simple")) {
            try (Statement statement = connection.createStatement();
                 ResultSet rs = statement.executeQuery("SELECT 42")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(42);
            }
            byte[] fromClient = tap.recordings().get(0).clientBytes();
            assertThat(ByteBufUtil.hexDump(fromClient)).contains(ByteBufUtil.hexDump("SELECT 42".getBytes(StandardCharsets.US_ASCII)));
        }
    }
}
