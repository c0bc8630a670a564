package dev.pgpolicy.proxy.server;

import dev.pgpolicy.proxy.testing.Frames;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Client sessions as the real clients put them on the wire, one message per element, built byte
 * by byte from the PostgreSQL docs ("Message Formats", 55.7) rather than with the proxy's own
 * encoders, so a shared misunderstanding cannot hide a bug. The hostile-client properties replay
 * them against the live proxy, mutated.
 */
final class RecordedSessions {

    /** A named client conversation; {@code messages} in the order the client writes them. */
    record Session(String name, List<byte[]> messages) {
        Session {
            messages = List.copyOf(messages);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private RecordedSessions() {
    }

    /** Every recorded session, each logging in as {@code user} (a role the server trusts from 127.0.0.1). */
    static List<Session> all(String user) {
        return List.of(psqlSimpleQueries(user), pgjdbcPipeline(user), copyFromStdin(user), sslRequestThenPlaintext(user));
    }

    /** psql: startup, then one Query per command, a transaction block among them, then Terminate. */
    static Session psqlSimpleQueries(String user) {
        return new Session("psql simple queries", List.of(
                startup(user),
                Frames.query("SELECT relname FROM pg_class ORDER BY oid LIMIT 3"),
                Frames.query("BEGIN"),
                Frames.query("SELECT 1 AS one; SELECT 'two' AS two"),
                Frames.query("COMMIT"),
                Frames.terminate()));
    }

    /**
     * pgjdbc (extended protocol): a statement with a typed parameter as {@code PreparedStatement}
     * sends it (Parse with parameter OIDs, Bind, Describe portal, Execute, Sync), then a batch of
     * two executions of a named statement pipelined before one Sync, then Terminate.
     */
    static Session pgjdbcPipeline(String user) {
        return new Session("pgjdbc extended pipeline", List.of(
                startup(user),
                parse("", "SELECT $1::int4 + 1", 23),
                bind("", "", "41"),
                describePortal(""),
                execute(""),
                Frames.sync(),
                parse("S_1", "SELECT $1::int4 * 2", 23),
                bind("", "S_1", "1"),
                describePortal(""),
                execute(""),
                bind("", "S_1", "2"),
                execute(""),
                Frames.sync(),
                Frames.terminate()));
    }

    /** psql's {@code \copy ... from stdin}: COPY FROM STDIN, rows as CopyData, CopyDone, then a check. */
    static Session copyFromStdin(String user) {
        return new Session("COPY FROM STDIN", List.of(
                startup(user),
                Frames.query("CREATE TEMP TABLE copied (id int, label text)"),
                Frames.query("COPY copied FROM STDIN"),
                copyData("1\tone\n"),
                copyData("2\ttwo\n3\tthree\n"),
                Frames.typed('c', new byte[0]),
                Frames.query("SELECT count(*) FROM copied"),
                Frames.terminate()));
    }

    /**
     * An SSLRequest followed by plaintext instead of a TLS ClientHello: the bytes must never be
     * taken as a startup packet (the CVE-2021-23214 class).
     */
    static Session sslRequestThenPlaintext(String user) {
        return new Session("SSLRequest then plaintext", List.of(
                Frames.sslRequest(),
                startup(user),
                Frames.query("SELECT 1"),
                Frames.terminate()));
    }

    /** Messages that are legal somewhere in the protocol, but never where a mutation puts them. */
    static List<byte[]> outOfPhaseMessages(String user) {
        return List.of(
                startup(user),
                Frames.sslRequest(),
                Frames.gssEncRequest(),
                Frames.cancelRequest(1, 2),
                Frames.password("not asked for"),
                copyData("stray\n"),
                Frames.typed('c', new byte[0]),
                Frames.typed('f', cString("client gave up")),
                // Backend-only types sent by a client: ReadyForQuery, DataRow.
                Frames.typed('Z', new byte[] {'I'}),
                Frames.typed('D', new byte[] {0, 0}),
                // FunctionCall of a non-existent function OID.
                Frames.typed('F', ByteBuffer.allocate(12).putInt(0).putShort((short) 0).putShort((short) 0)
                        .putShort((short) 0).array()),
                Frames.sync(),
                Frames.typed('H', new byte[0]));
    }

    static byte[] startup(String user) {
        return Frames.startup(Map.of("user", user, "database", "postgres", "application_name", "hostile"));
    }

    private static byte[] parse(String statement, String sql, int... parameterTypes) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(cString(statement));
        body.writeBytes(cString(sql));
        body.writeBytes(ByteBuffer.allocate(2).putShort((short) parameterTypes.length).array());
        for (int type : parameterTypes) {
            body.writeBytes(ByteBuffer.allocate(4).putInt(type).array());
        }
        return Frames.typed('P', body.toByteArray());
    }

    /** Bind with one text parameter, all formats text (no format codes), default result formats. */
    private static byte[] bind(String portal, String statement, String parameter) {
        byte[] value = parameter.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(cString(portal));
        body.writeBytes(cString(statement));
        body.writeBytes(ByteBuffer.allocate(2 + 2 + 4 + value.length + 2)
                .putShort((short) 0) // parameter format codes: all text
                .putShort((short) 1).putInt(value.length).put(value)
                .putShort((short) 0) // result format codes: all text
                .array());
        return Frames.typed('B', body.toByteArray());
    }

    private static byte[] describePortal(String portal) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write('P');
        body.writeBytes(cString(portal));
        return Frames.typed('D', body.toByteArray());
    }

    private static byte[] execute(String portal) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(cString(portal));
        body.writeBytes(new byte[] {0, 0, 0, 0}); // no row limit
        return Frames.typed('E', body.toByteArray());
    }

    private static byte[] copyData(String text) {
        return Frames.typed('d', text.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] cString(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(bytes.length + 1).put(bytes).put((byte) 0).array();
    }
}
