package dev.pgpolicy.proxy.dryrun;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.net.InetAddress;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the statements of a PostgreSQL server log written with {@code log_statement = all}, in
 * {@code csvlog} or {@code jsonlog} format ("Error Reporting and Logging", "Using CSV-Format Log
 * Output" and "Using JSON-Format Log Output" in the PostgreSQL docs).
 *
 * <p>{@code log_statement} writes a LOG entry {@code statement: TEXT} for each simple Query (the
 * whole message, possibly several statements) and {@code execute NAME: TEXT} for each Execute of
 * the extended protocol, with the statement's text. Those are the entries read; an
 * {@code execute fetch from ...} entry continues a suspended portal and is not a new execution.
 * Entries written by {@code log_min_duration_statement} ({@code duration: ... statement: ...}) are
 * not read, so a server that logs both does not count statements twice.
 *
 * <p>The session attributes come from each entry: user, database, application_name and the
 * client address ({@code [local]}, a Unix socket, has none).
 */
final class ServerLogReader {
    enum Format { CSV, JSON }

    /** csvlog columns, stable since PostgreSQL 9.0 (application_name is the 23rd). */
    private static final int CSV_LOG_TIME = 0;
    private static final int CSV_USER = 1;
    private static final int CSV_DATABASE = 2;
    private static final int CSV_CONNECTION_FROM = 4;
    private static final int CSV_SEVERITY = 11;
    private static final int CSV_MESSAGE = 13;
    private static final int CSV_APPLICATION_NAME = 22;

    private static final Pattern STATEMENT = Pattern.compile("^statement: (.*)$", Pattern.DOTALL);
    private static final Pattern EXECUTE = Pattern.compile("^execute (?!fetch from )[^:]*: (.*)$", Pattern.DOTALL);
    private static final DateTimeFormatter LOG_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss[.SSS]");

    private final ObjectMapper json = new ObjectMapper();

    void read(Path file, Format format, TrafficSink sink) {
        String name = file.toString();
        try (BufferedReader reader = new BufferedReader(new java.io.InputStreamReader(Files.newInputStream(file),
                StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
                        .onUnmappableCharacter(CodingErrorAction.REPLACE)))) {
            if (format == Format.CSV) {
                readCsv(name, reader, sink);
            } else {
                readJson(name, reader, sink);
            }
        } catch (IOException e) {
            sink.problem(new InputProblem(name, -1, "cannot read: " + e.getMessage()));
        }
    }

    private void readCsv(String name, Reader reader, TrafficSink sink) throws IOException {
        CsvRecords records = new CsvRecords(reader);
        List<String> fields;
        while ((fields = records.next()) != null) {
            long line = records.recordLine();
            if (records.unterminated()) {
                sink.problem(new InputProblem(name, -1, "line " + line + ": the file ends inside a quoted field; the last entry is incomplete"));
                return;
            }
            if (fields.size() < CSV_APPLICATION_NAME + 1) {
                sink.problem(new InputProblem(name, -1, "line " + line + ": " + fields.size()
                        + " fields, not a csvlog entry (at least 23 expected)"));
                continue;
            }
            entry(name, line, fields.get(CSV_LOG_TIME), fields.get(CSV_USER), fields.get(CSV_DATABASE),
                    fields.get(CSV_APPLICATION_NAME), host(fields.get(CSV_CONNECTION_FROM), true),
                    fields.get(CSV_SEVERITY), fields.get(CSV_MESSAGE), sink);
        }
    }

    private void readJson(String name, BufferedReader reader, TrafficSink sink) throws IOException {
        String text;
        long line = 0;
        while ((text = reader.readLine()) != null) {
            line++;
            if (text.isBlank()) {
                continue;
            }
            JsonNode node;
            try {
                node = json.readTree(text);
            } catch (JsonProcessingException e) {
                sink.problem(new InputProblem(name, -1, "line " + line + ": not a JSON log entry: "
                        + e.getOriginalMessage()));
                continue;
            }
            if (node == null || !node.isObject()) {
                sink.problem(new InputProblem(name, -1, "line " + line + ": not a JSON log entry"));
                continue;
            }
            entry(name, line, node.path("timestamp").asText(""), node.path("user").asText(""),
                    node.path("dbname").asText(""), node.path("application_name").asText(""),
                    host(node.path("remote_host").asText(""), false), node.path("error_severity").asText(""),
                    node.path("message").asText(""), sink);
        }
    }

    private void entry(String name, long line, String time, String user, String database, String application,
                       Optional<InetAddress> client, String severity, String message, TrafficSink sink) {
        if (!"LOG".equals(severity)) {
            return;
        }
        Matcher statement = STATEMENT.matcher(message);
        Matcher execute = EXECUTE.matcher(message);
        String sql;
        if (statement.matches()) {
            sql = statement.group(1);
        } else if (execute.matches()) {
            sql = execute.group(1);
        } else {
            return;
        }
        if (sql.isBlank()) {
            return;
        }
        Instant at = parseTime(time).orElseGet(() -> {
            sink.problem(new InputProblem(name, -1, "line " + line + ": unreadable log time \"" + time
                    + "\"; the statement is evaluated at the epoch"));
            return Instant.EPOCH;
        });
        Optional<String> knownUser = user.isEmpty() ? Optional.empty() : Optional.of(user);
        sink.statement(new CapturedStatement(CapturedSession.of(knownUser, database, application, client.orElse(null)), sql, at));
    }

    /** {@code 2026-03-04 10:00:00.123 UTC}: PostgreSQL's log time, in log_timezone, named by abbreviation or offset. */
    static Optional<Instant> parseTime(String text) {
        int space = text.lastIndexOf(' ');
        if (space <= 0) {
            return Optional.empty();
        }
        try {
            LocalDateTime local = LocalDateTime.parse(text.substring(0, space), LOG_TIME);
            return Optional.of(ZonedDateTime.of(local, zone(text.substring(space + 1))).toInstant());
        } catch (java.time.DateTimeException e) {
            return Optional.empty();
        }
    }

    private static ZoneId zone(String name) {
        if (name.equals("UTC") || name.equals("GMT") || name.equals("Z")) {
            return ZoneOffset.UTC;
        }
        if (name.startsWith("+") || name.startsWith("-")) {
            return ZoneOffset.of(name.length() == 3 ? name + ":00" : name);
        }
        return ZoneId.of(name, ZoneId.SHORT_IDS);
    }

    /** The client address of {@code host:port} (csvlog) or {@code host} (jsonlog); {@code [local]} has none. */
    static Optional<InetAddress> host(String connectionFrom, boolean withPort) {
        String host = connectionFrom;
        if (host.isEmpty() || host.equals("[local]")) {
            return Optional.empty();
        }
        if (withPort) {
            int colon = host.lastIndexOf(':');
            if (colon > 0) {
                host = host.substring(0, colon);
            }
        }
        return Addresses.literal(host);
    }

    /** RFC 4180 records from a character stream, quoted fields spanning lines included. */
    static final class CsvRecords {
        private final Reader reader;
        private long line = 1;
        private long recordLine;
        private boolean unterminated;
        private int pushedBack = -2;

        CsvRecords(Reader reader) {
            this.reader = reader;
        }

        long recordLine() {
            return recordLine;
        }

        boolean unterminated() {
            return unterminated;
        }

        private int read() throws IOException {
            if (pushedBack != -2) {
                int c = pushedBack;
                pushedBack = -2;
                return c;
            }
            return reader.read();
        }

        /** The next record's fields, or null at the end of the input. */
        List<String> next() throws IOException {
            recordLine = line;
            List<String> fields = new ArrayList<>();
            StringBuilder field = new StringBuilder();
            boolean quoted = false;
            boolean any = false;
            while (true) {
                int c = read();
                if (c < 0) {
                    if (quoted) {
                        unterminated = true;
                    }
                    if (!any) {
                        return null;
                    }
                    fields.add(field.toString());
                    return fields;
                }
                any = true;
                if (quoted) {
                    if (c == '"') {
                        int following = read();
                        if (following == '"') {
                            field.append('"');
                        } else {
                            quoted = false;
                            pushedBack = following;
                        }
                    } else {
                        if (c == '\n') {
                            line++;
                        }
                        field.append((char) c);
                    }
                } else if (c == '"') {
                    quoted = true;
                } else if (c == ',') {
                    fields.add(field.toString());
                    field.setLength(0);
                } else if (c == '\n') {
                    line++;
                    fields.add(field.toString());
                    return fields;
                } else if (c != '\r') {
                    field.append((char) c);
                }
            }
        }
    }
}
