package dev.pgpolicy.proxy.audit;

import dev.pgpolicy.proxy.audit.JsonLine.Surrogates;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Encodes records as audit lines. A line is
 * <pre>
 * {"seq":N,"time":"...","event":"...", ...event fields... ,"alg":"sha256","prev":"&lt;64 hex&gt;","hash":"&lt;64 hex&gt;"}\n
 * </pre>
 * Its canonical bytes are the line's UTF-8 bytes up to, not including, the {@code ,"hash":"} that
 * ends every line; {@code hash} is the chain function over them and {@code prev} is the previous
 * line's {@code hash}. Verification never re-serialises JSON: it hashes the bytes as written.
 * Fields come in a fixed order per event; absent values are written as {@code null} so every line
 * of an event has the same fields.
 *
 * <p>The bytes are written by {@link JsonLine}, which reproduces the Jackson generator that wrote the
 * first logs byte for byte; the chain value is computed over the line's buffer in place and its hex
 * written straight into the line.
 *
 * <p>Owned by one thread (it reuses its buffers and its chain function).
 */
final class AuditJson {
    static final byte[] HASH_PREFIX = ",\"hash\":\"".getBytes(StandardCharsets.US_ASCII);
    static final int HASH_HEX_LENGTH = 64;
    /** {@code ,"hash":"} + 64 hex digits + {@code "}}. */
    static final int HASH_SUFFIX_LENGTH = HASH_PREFIX.length + HASH_HEX_LENGTH + 2;
    static final String FORMAT = "pgpolicy-audit/1";

    static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

    private static final byte[] SUCCESS = quoted("success");
    private static final byte[] FAILURE = quoted("failure");
    /** What follows the hash's hex digits: its closing quote, the object's brace, the newline. */
    private static final byte[] LINE_END = {'"', '}', '\n'};

    /** Sessions whose connection fields are kept rendered; past it the map starts again. */
    private static final int RENDERED_CONNECTIONS = 4096;

    private final ChainKey key;
    private final byte[] algorithm;
    private final JsonLine line = new JsonLine(1024);
    private final JsonLine scratch = new JsonLine(256);
    private final Timestamps timestamps = new Timestamps();
    /**
     * The connection fields of a session, rendered once: they repeat in every record of the
     * session and, escaped field by field, cost more than the rest of a statement record. Found
     * by identity: a session hands the same immutable connection to all its statement records
     * until a field changes, and hashing the whole record per line cost more than the lookup saves.
     * A connection equal to one rendered before, but another instance, is rendered again: the same
     * text, so only the work is repeated.
     */
    private final Map<AuditConnection, byte[]> renderedConnections = new IdentityHashMap<>();

    /** A finished line (with its newline) and its chain value. */
    record Line(byte[] bytes, long seq, String hash) {
    }

    AuditJson(ChainKey key) {
        this.key = key;
        this.algorithm = quoted(key.algorithm());
    }

    Line encode(AuditRecord record, long seq, String prev) {
        header(seq, record.time(), record.event().jsonName());
        line.raw(Field.SESSION);
        line.string(record.sessionId(), Surrogates.ESCAPED);
        // Connection events come once each per session: keeping their text would only push out
        // the statement records' connections.
        if (record.event() == AuditEvent.STATEMENT) {
            line.raw(renderedConnection(record.connection()));
        } else {
            connection(line, record.connection());
        }
        switch (record.event()) {
            case CONNECTION_OPEN -> { }
            case AUTH -> {
                string(Field.AUTH_METHOD, record.authMethod());
                line.raw(Field.OUTCOME);
                line.raw(record.authSucceeded() ? SUCCESS : FAILURE);
                string(Field.REASON, record.reason());
            }
            case CONNECTION_CLOSE -> {
                micros(Field.DURATION_US, record.duration());
                string(Field.REASON, record.reason());
            }
            case STATEMENT -> statement(record.statement());
            case LOG_START -> throw new AssertionError("log_start is not an AuditRecord");
        }
        string(Field.POLICY_REVISION, record.policyRevision());
        return finish(seq, prev);
    }

    Line encode(LogStart start, Instant time, long seq, String prev) {
        header(seq, time, AuditEvent.LOG_START.jsonName());
        string(Field.FORMAT, FORMAT);
        string(Field.REASON, start.reason().jsonName());
        string(Field.PREV_FILE, start.prevFile());
        line.raw(Field.TORN);
        if (start.torn() == null) {
            line.nullValue();
        } else {
            line.raw(Field.FIRST_FILE);
            line.string(start.torn().file(), Surrogates.ESCAPED);
            number(Field.OFFSET, start.torn().offset());
            number(Field.LENGTH, start.torn().length());
            line.raw((byte) '}');
        }
        number(Field.LOST, start.lost());
        string(Field.DETAIL, start.detail());
        return finish(seq, prev);
    }

    private static byte[] quoted(String ascii) {
        return ("\"" + ascii + "\"").getBytes(StandardCharsets.US_ASCII);
    }

    private Line finish(long seq, String prev) {
        line.raw(Field.ALG);
        line.raw(algorithm);
        line.raw(Field.PREV);
        line.string(prev, Surrogates.ESCAPED);
        int canonical = line.size();
        if (line.bytes()[canonical - 1] != '"') {
            throw new AssertionError("canonical bytes must end with the prev value");
        }
        line.raw(HASH_PREFIX);
        int hashAt = line.size();
        line.ensure(HASH_HEX_LENGTH + LINE_END.length);
        // The chain value covers bytes[0, canonical); its hex goes after them in the same buffer.
        key.chainHex(line.bytes(), 0, canonical, line.bytes(), hashAt);
        byte[] bytes = Arrays.copyOf(line.bytes(), hashAt + HASH_HEX_LENGTH + LINE_END.length);
        System.arraycopy(LINE_END, 0, bytes, hashAt + HASH_HEX_LENGTH, LINE_END.length);
        return new Line(bytes, seq, new String(bytes, hashAt, HASH_HEX_LENGTH, StandardCharsets.ISO_8859_1));
    }

    /** {@code {"seq":N,"time":"...","event":"..."}, without the closing brace. */
    private void header(long seq, Instant time, String event) {
        line.reset();
        line.raw(Field.FIRST_SEQ);
        line.number(seq);
        line.raw(Field.TIME);
        line.raw((byte) '"');
        timestamps.write(time, line);
        line.raw((byte) '"');
        string(Field.EVENT, event);
    }

    /** {@code ,"user":...,"tls":...}: the connection's fields as {@link #connection} writes them. */
    private byte[] renderedConnection(AuditConnection connection) {
        byte[] rendered = renderedConnections.get(connection);
        if (rendered == null) {
            scratch.reset();
            connection(scratch, connection);
            rendered = scratch.copy();
            if (renderedConnections.size() >= RENDERED_CONNECTIONS) {
                renderedConnections.clear();
            }
            renderedConnections.put(connection, rendered);
        }
        return rendered;
    }

    /**
     * The connection's fields. Surrogate pairs are written as UTF-8 here, not escaped: these fields
     * were first rendered by a character generator and copied into the line raw, and the lines of
     * every log written since then say so.
     */
    private static void connection(JsonLine out, AuditConnection connection) {
        out.raw(Field.USER);
        out.string(connection.user(), Surrogates.UTF8);
        out.raw(Field.GROUPS);
        out.strings(connection.groups(), Surrogates.UTF8);
        out.raw(Field.DB_USER);
        out.string(connection.dbUser(), Surrogates.UTF8);
        out.raw(Field.DATABASE);
        out.string(connection.database(), Surrogates.UTF8);
        out.raw(Field.APPLICATION_NAME);
        out.string(connection.applicationName(), Surrogates.UTF8);
        out.raw(Field.CLIENT_ADDR);
        out.string(connection.clientAddress(), Surrogates.UTF8);
        out.raw(Field.CLIENT_PORT);
        out.number(connection.clientPort());
        out.raw(Field.TLS);
        out.bool(connection.tls());
    }

    private void statement(AuditStatement statement) {
        string(Field.KIND, statement.kind());
        line.raw(Field.OBJECTS);
        line.raw((byte) '[');
        List<AuditObject> objects = statement.objects();
        for (int i = 0; i < objects.size(); i++) {
            AuditObject object = objects.get(i);
            if (i > 0) {
                line.raw((byte) ',');
            }
            line.raw(Field.FIRST_NAME);
            line.string(object.name(), Surrogates.ESCAPED);
            string(Field.ACTION, object.action());
            line.raw((byte) '}');
        }
        line.raw((byte) ']');
        string(Field.FINGERPRINT, statement.fingerprint());
        string(Field.LEVEL, statement.level().jsonName());
        string(Field.TEXT, statement.text());
        line.raw(Field.PARAMETERS);
        if (statement.level() == AuditLevel.FULL) {
            line.strings(statement.parameters(), Surrogates.ESCAPED);
        } else {
            line.nullValue();
        }
        string(Field.DECISION, statement.decision().jsonName());
        line.raw(Field.RULES);
        line.strings(statement.rules(), Surrogates.ESCAPED);
        line.raw(Field.MASKS);
        line.strings(statement.masks(), Surrogates.ESCAPED);
        line.raw(Field.ROWS);
        if (statement.rows() == null) {
            line.nullValue();
        } else {
            line.number(statement.rows());
        }
        micros(Field.DURATION_US, statement.duration());
        string(Field.REASON, statement.reason());
        string(Field.SQLSTATE, statement.sqlState());
        number(Field.PART, statement.part());
        number(Field.PARTS, statement.parts());
    }

    private void string(byte[] field, String value) {
        line.raw(field);
        line.string(value, Surrogates.ESCAPED);
    }

    private void micros(byte[] field, Duration duration) {
        line.raw(field);
        if (duration == null) {
            line.nullValue();
        } else {
            line.number(duration.toNanos() / 1_000);
        }
    }

    private void number(byte[] field, long value) {
        line.raw(field);
        line.number(value);
    }

    /**
     * {@link #TIME}'s format, written by hand: records come thousands a second, and the formatter's
     * general machinery cost more than the rest of the header. The text up to the seconds is
     * kept for the second in progress.
     */
    static final class Timestamps {
        private long second = Long.MIN_VALUE;
        /** {@code uuuu-MM-dd'T'HH:mm:ss.} of {@link #second}. */
        private byte[] upToSeconds;
        private final byte[] fraction = new byte[7];

        String format(Instant time) {
            JsonLine out = new JsonLine(32);
            write(time, out);
            return new String(out.bytes(), 0, out.size(), StandardCharsets.US_ASCII);
        }

        void write(Instant time, JsonLine out) {
            if (time.getEpochSecond() != second) {
                second = time.getEpochSecond();
                String whole = TIME.format(Instant.ofEpochSecond(second));
                upToSeconds = whole.substring(0, whole.length() - "000000Z".length()).getBytes(StandardCharsets.US_ASCII);
            }
            int micros = time.getNano() / 1_000;
            for (int i = 5; i >= 0; i--) {
                fraction[i] = (byte) ('0' + micros % 10);
                micros /= 10;
            }
            fraction[6] = 'Z';
            out.raw(upToSeconds);
            out.raw(fraction);
        }
    }

    /**
     * Field names with the comma (or brace) before them and the colon after, encoded once: the
     * bytes Jackson wrote between two values.
     */
    private static final class Field {
        static final byte[] ACTION = JsonLine.field("action", false);
        static final byte[] ALG = JsonLine.field("alg", false);
        static final byte[] APPLICATION_NAME = JsonLine.field("application_name", false);
        static final byte[] AUTH_METHOD = JsonLine.field("auth_method", false);
        static final byte[] CLIENT_ADDR = JsonLine.field("client_addr", false);
        static final byte[] CLIENT_PORT = JsonLine.field("client_port", false);
        static final byte[] DATABASE = JsonLine.field("database", false);
        static final byte[] DB_USER = JsonLine.field("db_user", false);
        static final byte[] DECISION = JsonLine.field("decision", false);
        static final byte[] DETAIL = JsonLine.field("detail", false);
        static final byte[] DURATION_US = JsonLine.field("duration_us", false);
        static final byte[] EVENT = JsonLine.field("event", false);
        static final byte[] FIRST_FILE = JsonLine.field("file", true);
        static final byte[] FINGERPRINT = JsonLine.field("fingerprint", false);
        static final byte[] FORMAT = JsonLine.field("format", false);
        static final byte[] GROUPS = JsonLine.field("groups", false);
        static final byte[] KIND = JsonLine.field("kind", false);
        static final byte[] LENGTH = JsonLine.field("length", false);
        static final byte[] LEVEL = JsonLine.field("level", false);
        static final byte[] LOST = JsonLine.field("lost", false);
        static final byte[] MASKS = JsonLine.field("masks", false);
        static final byte[] FIRST_NAME = JsonLine.field("name", true);
        static final byte[] OBJECTS = JsonLine.field("objects", false);
        static final byte[] OFFSET = JsonLine.field("offset", false);
        static final byte[] OUTCOME = JsonLine.field("outcome", false);
        static final byte[] PARAMETERS = JsonLine.field("parameters", false);
        static final byte[] PART = JsonLine.field("part", false);
        static final byte[] PARTS = JsonLine.field("parts", false);
        static final byte[] POLICY_REVISION = JsonLine.field("policy_revision", false);
        static final byte[] PREV = JsonLine.field("prev", false);
        static final byte[] PREV_FILE = JsonLine.field("prev_file", false);
        static final byte[] REASON = JsonLine.field("reason", false);
        static final byte[] ROWS = JsonLine.field("rows", false);
        static final byte[] RULES = JsonLine.field("rules", false);
        static final byte[] FIRST_SEQ = JsonLine.field("seq", true);
        static final byte[] SESSION = JsonLine.field("session", false);
        static final byte[] SQLSTATE = JsonLine.field("sqlstate", false);
        static final byte[] TEXT = JsonLine.field("text", false);
        static final byte[] TIME = JsonLine.field("time", false);
        static final byte[] TLS = JsonLine.field("tls", false);
        static final byte[] TORN = JsonLine.field("torn", false);
        static final byte[] USER = JsonLine.field("user", false);

        private Field() {
        }
    }
}
