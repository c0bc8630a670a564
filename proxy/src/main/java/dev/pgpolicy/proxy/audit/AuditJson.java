package dev.pgpolicy.proxy.audit;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.io.SerializedString;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
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
 * <p>Owned by one thread (it reuses its buffer).
 */
final class AuditJson {
    static final byte[] HASH_PREFIX = ",\"hash\":\"".getBytes(StandardCharsets.US_ASCII);
    static final int HASH_HEX_LENGTH = 64;
    /** {@code ,"hash":"} + 64 hex digits + {@code "}}. */
    static final int HASH_SUFFIX_LENGTH = HASH_PREFIX.length + HASH_HEX_LENGTH + 2;
    static final String FORMAT = "pgpolicy-audit/1";

    static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

    private static final JsonFactory JSON = JsonFactory.builder()
            .disable(StreamWriteFeature.AUTO_CLOSE_TARGET)
            // The object is left open: the canonical bytes end before the hash field.
            .disable(StreamWriteFeature.AUTO_CLOSE_CONTENT)
            .build();

    /** Sessions whose connection fields are kept rendered; past it the map starts again. */
    private static final int RENDERED_CONNECTIONS = 4096;

    private final ChainKey key;
    private final LineBuffer buffer = new LineBuffer(1024);
    private final Timestamps timestamps = new Timestamps();
    /**
     * The connection fields of a session, rendered once: they repeat in every record of the
     * session and, escaped field by field, cost more than the rest of a statement record. Found
     * by identity: a session hands the same immutable connection to all its statement records
     * until a field changes, and hashing the whole record per line cost more than the lookup saves.
     * A connection equal to one rendered before, but another instance, is rendered again: the same
     * text, so only the work is repeated.
     */
    private final Map<AuditConnection, String> renderedConnections = new IdentityHashMap<>();

    /** A finished line (with its newline) and its chain value. */
    record Line(byte[] bytes, long seq, String hash) {
    }

    AuditJson(ChainKey key) {
        this.key = key;
    }

    Line encode(AuditRecord record, long seq, String prev) {
        return finish(seq, prev, generator -> {
            header(generator, seq, record.time(), record.event().jsonName());
            string(generator, Field.SESSION, record.sessionId());
            // Raw text after a field: the generator writes the comma before the next field itself.
            // Connection events come once each per session: keeping their text would only push
            // out the statement records' connections.
            generator.writeRaw(record.event() == AuditEvent.STATEMENT ? renderedConnection(record.connection())
                    : render(record.connection()));
            switch (record.event()) {
                case CONNECTION_OPEN -> { }
                case AUTH -> {
                    string(generator, Field.AUTH_METHOD, record.authMethod());
                    string(generator, Field.OUTCOME, record.authSucceeded() ? "success" : "failure");
                    string(generator, Field.REASON, record.reason());
                }
                case CONNECTION_CLOSE -> {
                    micros(generator, Field.DURATION_US, record.duration());
                    string(generator, Field.REASON, record.reason());
                }
                case STATEMENT -> statement(generator, record.statement());
                case LOG_START -> throw new AssertionError("log_start is not an AuditRecord");
            }
            string(generator, Field.POLICY_REVISION, record.policyRevision());
        });
    }

    Line encode(LogStart start, Instant time, long seq, String prev) {
        return finish(seq, prev, generator -> {
            header(generator, seq, time, AuditEvent.LOG_START.jsonName());
            string(generator, Field.FORMAT, FORMAT);
            string(generator, Field.REASON, start.reason().jsonName());
            string(generator, Field.PREV_FILE, start.prevFile());
            if (start.torn() == null) {
                nullField(generator, Field.TORN);
            } else {
                generator.writeFieldName(Field.TORN);
                generator.writeStartObject();
                string(generator, Field.FILE, start.torn().file());
                number(generator, Field.OFFSET, start.torn().offset());
                number(generator, Field.LENGTH, start.torn().length());
                generator.writeEndObject();
            }
            number(generator, Field.LOST, start.lost());
            string(generator, Field.DETAIL, start.detail());
        });
    }

    private interface Fields {
        void write(JsonGenerator generator) throws IOException;
    }

    private Line finish(long seq, String prev, Fields fields) {
        buffer.reset();
        try (JsonGenerator generator = JSON.createGenerator(buffer, JsonEncoding.UTF8)) {
            generator.writeStartObject();
            fields.write(generator);
            string(generator, Field.ALG, key.algorithm());
            string(generator, Field.PREV, prev);
        } catch (IOException e) {
            throw new UncheckedIOException("writing JSON to memory", e);
        }
        byte[] body = buffer.bytes();
        int length = buffer.size();
        if (body[length - 1] != '"') {
            throw new AssertionError("canonical bytes must end with the prev value");
        }
        String hash = key.chain(body, 0, length);
        byte[] line = Arrays.copyOf(body, length + HASH_SUFFIX_LENGTH + 1);
        int at = length;
        System.arraycopy(HASH_PREFIX, 0, line, at, HASH_PREFIX.length);
        at += HASH_PREFIX.length;
        byte[] hex = hash.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(hex, 0, line, at, hex.length);
        at += hex.length;
        line[at++] = '"';
        line[at++] = '}';
        line[at] = '\n';
        return new Line(line, seq, hash);
    }

    private void header(JsonGenerator generator, long seq, Instant time, String event) throws IOException {
        number(generator, Field.SEQ, seq);
        generator.writeFieldName(Field.TIME);
        generator.writeString(timestamps.format(time));
        string(generator, Field.EVENT, event);
    }

    /** {@code ,"user":...,"tls":...}: the connection's fields as {@link #connection} writes them, with a leading comma. */
    private String renderedConnection(AuditConnection connection) {
        String rendered = renderedConnections.get(connection);
        if (rendered == null) {
            rendered = render(connection);
            if (renderedConnections.size() >= RENDERED_CONNECTIONS) {
                renderedConnections.clear();
            }
            renderedConnections.put(connection, rendered);
        }
        return rendered;
    }

    private static String render(AuditConnection connection) {
        StringWriter out = new StringWriter(256);
        try (JsonGenerator generator = JSON.createGenerator(out)) {
            generator.writeStartObject();
            connection(generator, connection);
        } catch (IOException e) {
            throw new UncheckedIOException("writing JSON to memory", e);
        }
        // The generator wrote "{" and the fields; the record needs "," in place of the "{".
        return "," + out.getBuffer().substring(1);
    }

    private static void connection(JsonGenerator generator, AuditConnection connection) throws IOException {
        string(generator, Field.USER, connection.user());
        strings(generator, Field.GROUPS, connection.groups());
        string(generator, Field.DB_USER, connection.dbUser());
        string(generator, Field.DATABASE, connection.database());
        string(generator, Field.APPLICATION_NAME, connection.applicationName());
        string(generator, Field.CLIENT_ADDR, connection.clientAddress());
        number(generator, Field.CLIENT_PORT, connection.clientPort());
        bool(generator, Field.TLS, connection.tls());
    }

    private static void statement(JsonGenerator generator, AuditStatement statement) throws IOException {
        string(generator, Field.KIND, statement.kind());
        generator.writeFieldName(Field.OBJECTS);
        generator.writeStartArray();
        for (AuditObject object : statement.objects()) {
            generator.writeStartObject();
            string(generator, Field.NAME, object.name());
            string(generator, Field.ACTION, object.action());
            generator.writeEndObject();
        }
        generator.writeEndArray();
        string(generator, Field.FINGERPRINT, statement.fingerprint());
        string(generator, Field.LEVEL, statement.level().jsonName());
        string(generator, Field.TEXT, statement.text());
        if (statement.level() == AuditLevel.FULL) {
            strings(generator, Field.PARAMETERS, statement.parameters());
        } else {
            nullField(generator, Field.PARAMETERS);
        }
        string(generator, Field.DECISION, statement.decision().jsonName());
        strings(generator, Field.RULES, statement.rules());
        strings(generator, Field.MASKS, statement.masks());
        if (statement.rows() == null) {
            nullField(generator, Field.ROWS);
        } else {
            number(generator, Field.ROWS, statement.rows());
        }
        micros(generator, Field.DURATION_US, statement.duration());
        string(generator, Field.REASON, statement.reason());
        string(generator, Field.SQLSTATE, statement.sqlState());
        number(generator, Field.PART, statement.part());
        number(generator, Field.PARTS, statement.parts());
    }

    private static void string(JsonGenerator generator, SerializableString field, String value) throws IOException {
        generator.writeFieldName(field);
        generator.writeString(value == null ? null : wellFormed(value));
    }

    /**
     * Replaces unpaired UTF-16 surrogates with U+FFFD: they have no UTF-8 encoding (RFC 3629,
     * section 3), and one odd character in a client's SQL must not stop a record from being written.
     */
    static String wellFormed(String value) {
        StringBuilder fixed = null;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            boolean paired = Character.isHighSurrogate(c) && i + 1 < value.length()
                    && Character.isLowSurrogate(value.charAt(i + 1));
            if (paired) {
                if (fixed != null) {
                    fixed.append(c).append(value.charAt(i + 1));
                }
                i++;
            } else if (Character.isSurrogate(c)) {
                if (fixed == null) {
                    fixed = new StringBuilder(value.length()).append(value, 0, i);
                }
                fixed.append('\uFFFD');
            } else if (fixed != null) {
                fixed.append(c);
            }
        }
        return fixed == null ? value : fixed.toString();
    }

    private static void strings(JsonGenerator generator, SerializableString field, List<String> values) throws IOException {
        generator.writeFieldName(field);
        generator.writeStartArray();
        for (String value : values) {
            generator.writeString(value == null ? null : wellFormed(value));
        }
        generator.writeEndArray();
    }

    private static void micros(JsonGenerator generator, SerializableString field, Duration duration) throws IOException {
        if (duration == null) {
            nullField(generator, field);
        } else {
            number(generator, field, duration.toNanos() / 1_000);
        }
    }

    private static void number(JsonGenerator generator, SerializableString field, long value) throws IOException {
        generator.writeFieldName(field);
        generator.writeNumber(value);
    }

    private static void nullField(JsonGenerator generator, SerializableString field) throws IOException {
        generator.writeFieldName(field);
        generator.writeNull();
    }

    private static void bool(JsonGenerator generator, SerializableString field, boolean value) throws IOException {
        generator.writeFieldName(field);
        generator.writeBoolean(value);
    }

    /** A ByteArrayOutputStream whose bytes are read in place: a line is copied once, not twice. */
    private static final class LineBuffer extends ByteArrayOutputStream {
        LineBuffer(int size) {
            super(size);
        }

        byte[] bytes() {
            return buf;
        }
    }

    /**
     * {@link #TIME}'s format, written by hand: records come thousands a second, and the formatter's
     * general machinery cost more than the rest of the header. The text up to the seconds is
     * kept for the second in progress.
     */
    static final class Timestamps {
        private long second = Long.MIN_VALUE;
        private String upToSeconds;

        String format(Instant time) {
            if (time.getEpochSecond() != second) {
                second = time.getEpochSecond();
                String whole = TIME.format(Instant.ofEpochSecond(second));
                upToSeconds = whole.substring(0, whole.length() - "000000Z".length());
            }
            int micros = time.getNano() / 1_000;
            char[] fraction = new char[7];
            for (int i = 5; i >= 0; i--) {
                fraction[i] = (char) ('0' + micros % 10);
                micros /= 10;
            }
            fraction[6] = 'Z';
            return upToSeconds + new String(fraction);
        }
    }

    /**
     * Field names, quoted and encoded once: written as strings, each name would be escaped again
     * for every record, which cost as much as writing the values.
     */
    private static final class Field {
        static final SerializableString ACTION = new SerializedString("action");
        static final SerializableString ALG = new SerializedString("alg");
        static final SerializableString APPLICATION_NAME = new SerializedString("application_name");
        static final SerializableString AUTH_METHOD = new SerializedString("auth_method");
        static final SerializableString CLIENT_ADDR = new SerializedString("client_addr");
        static final SerializableString CLIENT_PORT = new SerializedString("client_port");
        static final SerializableString DATABASE = new SerializedString("database");
        static final SerializableString DB_USER = new SerializedString("db_user");
        static final SerializableString DECISION = new SerializedString("decision");
        static final SerializableString DETAIL = new SerializedString("detail");
        static final SerializableString DURATION_US = new SerializedString("duration_us");
        static final SerializableString EVENT = new SerializedString("event");
        static final SerializableString FILE = new SerializedString("file");
        static final SerializableString FINGERPRINT = new SerializedString("fingerprint");
        static final SerializableString FORMAT = new SerializedString("format");
        static final SerializableString GROUPS = new SerializedString("groups");
        static final SerializableString KIND = new SerializedString("kind");
        static final SerializableString LENGTH = new SerializedString("length");
        static final SerializableString LEVEL = new SerializedString("level");
        static final SerializableString LOST = new SerializedString("lost");
        static final SerializableString MASKS = new SerializedString("masks");
        static final SerializableString NAME = new SerializedString("name");
        static final SerializableString OBJECTS = new SerializedString("objects");
        static final SerializableString OFFSET = new SerializedString("offset");
        static final SerializableString OUTCOME = new SerializedString("outcome");
        static final SerializableString PARAMETERS = new SerializedString("parameters");
        static final SerializableString PART = new SerializedString("part");
        static final SerializableString PARTS = new SerializedString("parts");
        static final SerializableString POLICY_REVISION = new SerializedString("policy_revision");
        static final SerializableString PREV = new SerializedString("prev");
        static final SerializableString PREV_FILE = new SerializedString("prev_file");
        static final SerializableString REASON = new SerializedString("reason");
        static final SerializableString ROWS = new SerializedString("rows");
        static final SerializableString RULES = new SerializedString("rules");
        static final SerializableString SEQ = new SerializedString("seq");
        static final SerializableString SESSION = new SerializedString("session");
        static final SerializableString SQLSTATE = new SerializedString("sqlstate");
        static final SerializableString TEXT = new SerializedString("text");
        static final SerializableString TIME = new SerializedString("time");
        static final SerializableString TLS = new SerializedString("tls");
        static final SerializableString TORN = new SerializedString("torn");
        static final SerializableString USER = new SerializedString("user");

        private Field() {
        }
    }
}
