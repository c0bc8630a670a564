package dev.pgpolicy.proxy.audit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Representative audit lines, encoded one after another as one chain: every event, every kind of
 * field value (null, empty and several-element lists, numbers at their limits), and text that
 * needs each kind of JSON escape or UTF-8 sequence. The lines pinned from them are the format's
 * contract with the verifier and with every log already written.
 */
final class AuditLineSamples {
    /** Every character class the string writer treats apart, in one string. */
    static final String AWKWARD = "q\"b\\s/ nl\n tab\t cr\r bs\b ff\f nul\u0000 us\u001f del\u007f"
            + " \u00e9\u00ff\u0100\u07ff\u0800\u20ac\u2028\u2029\uffff \ud83d\ude00"
            + " lone-high\ud800 lone-low\udc00 end-high\ud83d";

    private AuditLineSamples() {
    }

    static List<byte[]> encode(AuditJson json, String genesis) {
        List<byte[]> lines = new ArrayList<>();
        String prev = genesis;
        long seq = 0;
        for (Object item : items()) {
            AuditJson.Line line = item instanceof AuditRecord record
                    ? json.encode(record, ++seq, prev)
                    : json.encode((LogStart) item, Instant.parse("2026-12-04T23:59:59.999999Z"), ++seq, prev);
            lines.add(Arrays.copyOf(line.bytes(), line.bytes().length));
            prev = line.hash();
        }
        return lines;
    }

    static Path keyFile(Path directory) throws IOException {
        Path file = directory.resolve("samples.key");
        Files.writeString(file, "0123456789abcdef0123456789abcdef0123456789abcdef\n", StandardCharsets.US_ASCII);
        return file;
    }

    private static List<Object> items() {
        AuditConnection plain = new AuditConnection("alice", List.of(), null, "app", null, "127.0.0.1", 0, false);
        AuditConnection full = new AuditConnection("b\u00f6b \"admin\"", List.of("ops", "dba\\x", "\u4e2d"), "app_rw",
                "db\n1", "psql\t16 \ud83d\ude00\ud800", "::1", 65_535, true);
        Instant time = Instant.parse("2026-01-02T03:04:05.000001Z");
        Instant late = Instant.parse("1999-12-31T23:59:59.999999999Z");
        AuditStatement metadata = AuditStatement.builder(AuditLevel.METADATA, "select", AuditDecision.ALLOW)
                .object("public.pgbench_accounts", "select")
                .object("public.orders", "update")
                .fingerprint("bb98f4e89857e4b6")
                .rules(List.of("bench.pgpolicy:2", "mask-email"))
                .masks(List.of("public.users.email"))
                .rows(Long.MAX_VALUE)
                .duration(Duration.ofNanos(212_345))
                .build();
        AuditStatement denied = AuditStatement.builder(AuditLevel.STATEMENTS, "update", AuditDecision.DENY)
                .sql("UPDATE t SET a = 1", "UPDATE t SET a = $1")
                .reason("read-only " + AWKWARD)
                .part(2, 3)
                .build();
        List<String> parameters = new ArrayList<>();
        parameters.add("1");
        parameters.add(null);
        parameters.add("\\x00ff");
        parameters.add(AWKWARD);
        AuditStatement fullLevel = AuditStatement.builder(AuditLevel.FULL, "insert", AuditDecision.ALLOW)
                .sql("INSERT INTO t VALUES ('" + AWKWARD + "')", "INSERT INTO t VALUES ($1)")
                .parameters(parameters)
                .rows(0)
                .duration(Duration.ZERO)
                .sqlState("23505")
                .reason("duplicate key value violates unique constraint")
                .build();
        AuditStatement failed = AuditStatement.builder(AuditLevel.METADATA, "other", AuditDecision.WOULD_DENY)
                .build();
        return List.of(
                new LogStart(LogStart.Reason.NEW_LOG, null, null, 0, null),
                new LogStart(LogStart.Reason.RECOVERY, "00000000000000000001-20261204T000000Z.jsonl",
                        new Torn("00000000000000000001-20261204T000000Z.jsonl", 4096, 17), 42, AWKWARD),
                AuditRecord.connectionOpened(time, "5e55b3c4", plain, null),
                AuditRecord.authenticated(time, "5e55b3c4", full, "scram-sha-256", false, "password mismatch",
                        "sha256 " + "9b1e".repeat(16)),
                AuditRecord.authenticated(late, "5e55b3c4", full, "cert", true, null, "r1"),
                AuditRecord.statement(time, "5e55b3c4", full, metadata, "r1"),
                AuditRecord.statement(time, "5e55b3c4", full, metadata, "r1"),
                AuditRecord.statement(late, "s\u00e9ssion", plain, denied, null),
                AuditRecord.statement(time, "5e55b3c4", full, fullLevel, "r2"),
                AuditRecord.statement(time, "5e55b3c4", plain, failed, "r2"),
                AuditRecord.connectionClosed(late, "5e55b3c4", full, Duration.ofSeconds(86_400, 999),
                        "client closed \u2028", "r2"));
    }
}
