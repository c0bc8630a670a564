package dev.pgpolicy.proxy.dryrun;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgpolicy.proxy.audit.AuditEvent;
import dev.pgpolicy.proxy.audit.AuditLevel;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Reads the statement records of pgpolicy's own audit log (JSON Lines, docs/audit.md): a file, or
 * a directory whose {@code *.jsonl} files are read in name order, which is chain order.
 *
 * <p>Each {@code statement} record gives the session as the proxy knew it (user, groups, db_user,
 * database, application_name, client address) and, at level {@code full}, the SQL text as the
 * client sent it. At level {@code statements} the record holds the normalized text (literals
 * replaced by placeholders), which is replayed with a notice, since heuristics that look at
 * literals cannot fire on it; at {@code metadata} there is no text, and such records are counted
 * in a notice. Records of denied statements count too: the question is what the policy set would
 * do with the traffic clients sent. The chain itself is checked by {@code pgpolicy audit verify}.
 */
final class AuditLogReader {
    private final ObjectMapper json = new ObjectMapper();

    void read(Path location, TrafficSink sink) {
        List<Path> files = new ArrayList<>();
        if (Files.isDirectory(location)) {
            try (Stream<Path> list = Files.list(location)) {
                list.filter(p -> p.getFileName().toString().endsWith(".jsonl")).sorted().forEach(files::add);
            } catch (IOException e) {
                sink.problem(new InputProblem(location.toString(), -1, "cannot list: " + e.getMessage()));
                return;
            }
            if (files.isEmpty()) {
                sink.problem(new InputProblem(location.toString(), -1, "no audit file (*.jsonl) in this directory"));
            }
        } else {
            files.add(location);
        }
        for (Path file : files) {
            readFile(file, sink);
        }
    }

    private void readFile(Path file, TrafficSink sink) {
        String name = file.toString();
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            sink.problem(new InputProblem(name, -1, "cannot read: " + e.getMessage()));
            return;
        }
        long withoutText = 0;
        long normalizedOnly = 0;
        int start = 0;
        int lineNumber = 0;
        while (start < bytes.length) {
            int end = start;
            while (end < bytes.length && bytes[end] != '\n') {
                end++;
            }
            lineNumber++;
            if (end == bytes.length) {
                // The writer ends every record with a newline: bytes after the last one are an interrupted write.
                sink.problem(new InputProblem(name, start, "line " + lineNumber + ": incomplete record at the end of the file ("
                        + (end - start) + " bytes, a torn write); it is not read"));
                break;
            }
            String text = new String(bytes, start, end - start, StandardCharsets.UTF_8);
            int lineStart = start;
            start = end + 1;
            if (text.isBlank()) {
                continue;
            }
            JsonNode record;
            try {
                record = json.readTree(text);
            } catch (IOException e) {
                sink.problem(new InputProblem(name, lineStart, "line " + lineNumber + ": not an audit record"));
                continue;
            }
            if (record == null || !record.isObject()) {
                sink.problem(new InputProblem(name, lineStart, "line " + lineNumber + ": not an audit record"));
                continue;
            }
            if (!AuditEvent.STATEMENT.jsonName().equals(record.path("event").asText())) {
                continue;
            }
            JsonNode sql = record.path("text");
            if (!sql.isTextual()) {
                withoutText++;
                continue;
            }
            boolean full = AuditLevel.FULL.jsonName().equals(record.path("level").asText());
            if (full && record.path("part").asInt(1) > 1) {
                // A Query with several statements: every record holds the whole text; replay it once.
                continue;
            }
            if (!full) {
                normalizedOnly++;
            }
            Optional<Instant> time = time(record.path("time").asText(""));
            if (time.isEmpty()) {
                sink.problem(new InputProblem(name, lineStart, "line " + lineNumber + ": unreadable time; the statement is"
                        + " evaluated at the epoch"));
            }
            Set<String> groups = new HashSet<>();
            record.path("groups").forEach(group -> groups.add(group.asText()));
            String user = record.path("user").asText("");
            CapturedSession session = new CapturedSession(user.isEmpty() ? Optional.empty() : Optional.of(user), groups,
                    record.path("db_user").asText(""), record.path("database").asText(""),
                    record.path("application_name").asText(""), address(record.path("client_addr").asText("")));
            sink.statement(new CapturedStatement(session, sql.asText(), time.orElse(Instant.EPOCH)));
        }
        if (withoutText > 0) {
            sink.notice(new InputProblem(name, -1, withoutText + " statement record(s) hold no SQL text (audit level metadata)"
                    + " and cannot be replayed; audit at level full for dry-runs"));
        }
        if (normalizedOnly > 0) {
            sink.notice(new InputProblem(name, -1, normalizedOnly + " statement record(s) hold only the normalized text"
                    + " (audit level statements): replayed without their literals"));
        }
    }

    private static Optional<Instant> time(String text) {
        try {
            return Optional.of(OffsetDateTime.parse(text).toInstant());
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    private static InetAddress address(String text) {
        return Addresses.literal(text).orElse(null);
    }
}
