package dev.pgpolicy.proxy.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditLogFormatTest {
    @TempDir
    Path directory;

    private List<JsonNode> writeSession() throws Exception {
        try (AuditLog log = AuditLog.open(AuditConfig.defaults(directory))) {
            for (AuditRecord record : AuditRecords.session("s-1")) {
                log.appendConfirmed(record).get();
            }
            assertThat(log.recordsWritten()).isEqualTo(7);
            assertThat(log.writeFailures()).isZero();
            assertThat(log.healthy()).isTrue();
        }
        return AuditFiles.records(directory);
    }

    @Test
    void aScriptedSessionIsWrittenWithEveryFieldInAFixedOrder() throws Exception {
        List<JsonNode> records = writeSession();
        assertThat(records).extracting(r -> r.get("event").asText()).containsExactly("log_start",
                "connection_open", "auth", "statement", "statement", "statement", "statement", "connection_close");
        assertThat(records).extracting(r -> r.get("seq").asLong()).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L);

        JsonNode start = records.get(0);
        assertThat(fieldNames(start)).containsExactly("seq", "time", "event", "format", "reason", "prev_file", "torn",
                "lost", "detail", "alg", "prev", "hash");
        assertThat(start.get("reason").asText()).isEqualTo("new_log");
        assertThat(start.get("prev").asText()).isEqualTo(genesisSha256());

        JsonNode open = records.get(1);
        assertThat(fieldNames(open)).containsExactly("seq", "time", "event", "session", "user", "groups", "db_user",
                "database", "application_name", "client_addr", "client_port", "tls", "policy_revision", "alg",
                "prev", "hash");
        assertThat(open.get("time").asText()).isEqualTo("2026-11-21T10:15:30.123456Z");
        assertThat(open.get("session").asText()).isEqualTo("s-1");
        assertThat(open.get("user").asText()).isEqualTo("ana");
        assertThat(open.get("groups")).extracting(JsonNode::asText).containsExactly("bi_readers", "staff");
        assertThat(open.get("db_user").asText()).isEqualTo("analyst_ro");
        assertThat(open.get("database").asText()).isEqualTo("shop");
        assertThat(open.get("application_name").asText()).isEqualTo("psql");
        assertThat(open.get("client_addr").asText()).isEqualTo("10.1.2.3");
        assertThat(open.get("client_port").asInt()).isEqualTo(51234);
        assertThat(open.get("tls").asBoolean()).isTrue();
        assertThat(open.get("policy_revision").asText()).isEqualTo(AuditRecords.REVISION);
        assertThat(open.get("alg").asText()).isEqualTo("sha256");

        JsonNode auth = records.get(2);
        assertThat(auth.get("auth_method").asText()).isEqualTo("scram-sha-256");
        assertThat(auth.get("outcome").asText()).isEqualTo("success");

        JsonNode metadata = records.get(3);
        assertThat(fieldNames(metadata)).containsExactly("seq", "time", "event", "session", "user", "groups",
                "db_user", "database", "application_name", "client_addr", "client_port", "tls", "kind", "objects",
                "fingerprint", "level", "text", "parameters", "decision", "rules", "masks", "rows", "duration_us",
                "reason", "sqlstate", "part", "parts", "policy_revision", "alg", "prev", "hash");
        assertThat(metadata.get("level").asText()).isEqualTo("metadata");
        assertThat(metadata.get("sqlstate").isNull()).isTrue();
        assertThat(metadata.get("text").isNull()).isTrue();
        assertThat(metadata.get("parameters").isNull()).isTrue();
        assertThat(metadata.get("kind").asText()).isEqualTo("select");
        assertThat(metadata.get("objects").get(0).get("name").asText()).isEqualTo("public.orders");
        assertThat(metadata.get("objects").get(0).get("action").asText()).isEqualTo("select");
        assertThat(metadata.get("fingerprint").asText()).isEqualTo("a1b2c3");
        assertThat(metadata.get("decision").asText()).isEqualTo("allow");
        assertThat(metadata.get("rules").get(0).asText()).isEqualTo("orders.read");
        assertThat(metadata.get("rows").asLong()).isEqualTo(1);
        assertThat(metadata.get("duration_us").asLong()).isEqualTo(812);

        JsonNode statements = records.get(4);
        assertThat(statements.get("text").asText()).isEqualTo("SELECT email, card FROM customers WHERE name = $1");
        assertThat(statements.get("masks")).extracting(JsonNode::asText)
                .containsExactly("public.customers.email", "public.customers.card");

        JsonNode full = records.get(5);
        assertThat(full.get("text").asText()).isEqualTo("INSERT INTO orders(customer, total) VALUES ($1, $2)");
        assertThat(full.get("parameters").get(0).asText()).isEqualTo("42");
        assertThat(full.get("parameters").get(1).isNull()).isTrue();

        JsonNode denied = records.get(6);
        assertThat(denied.get("decision").asText()).isEqualTo("deny");
        assertThat(denied.get("rules").get(0).asText()).isEqualTo("no_ddl");
        assertThat(denied.get("reason").asText()).isEqualTo("DDL only through migrations");
        assertThat(denied.get("rows").isNull()).isTrue();

        JsonNode close = records.get(7);
        assertThat(close.get("duration_us").asLong()).isEqualTo(2_000_000);
        assertThat(close.get("reason").asText()).isEqualTo("client terminated");
    }

    @Test
    void eachHashIsSha256OfTheLineUpToTheHashFieldAndPrevIsThePreviousHash() throws Exception {
        writeSession();
        Path file = AuditFiles.files(directory).get(0);
        String previous = genesisSha256();
        for (String line : AuditFiles.lines(file)) {
            int cut = line.lastIndexOf(",\"hash\":\"");
            byte[] canonical = line.substring(0, cut).getBytes(StandardCharsets.UTF_8);
            String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(canonical));
            JsonNode record = AuditFiles.JSON.readTree(line);
            assertThat(record.get("hash").asText()).isEqualTo(expected);
            assertThat(record.get("prev").asText()).isEqualTo(previous);
            assertThat(line).endsWith(",\"hash\":\"" + expected + "\"}");
            previous = expected;
        }
    }

    @Test
    void verifyPassesAndPrintsTheOneLineSummary() throws Exception {
        writeSession();
        VerifyReport report = AuditFiles.verify(directory);
        assertThat(report.intact()).isTrue();
        assertThat(report.records()).isEqualTo(8);
        assertThat(report.lastSeq()).isEqualTo(8);

        AuditFiles.Cli cli = AuditFiles.cli("audit", "verify", directory.toString());
        assertThat(cli.exit()).isZero();
        assertThat(cli.out()).isEqualTo("OK: 8 records in 1 file, chain intact" + System.lineSeparator());

        AuditFiles.Cli onFile = AuditFiles.cli("audit", "verify", AuditFiles.files(directory).get(0).toString());
        assertThat(onFile.exit()).isZero();
        assertThat(onFile.out()).startsWith("OK: 8 records in 1 file, chain intact");

        AuditFiles.Cli missing = AuditFiles.cli("audit", "verify", directory.resolve("absent").toString());
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).contains("no such file or directory");
    }

    @Test
    void sqlTextNeverReachesARecordAboveItsLevel() {
        AuditStatement metadata = AuditStatement.builder(AuditLevel.METADATA, "select", AuditDecision.ALLOW)
                .sql("SELECT '4111 1111 1111 1111'", "SELECT $1").parameters(List.of("secret")).build();
        assertThat(metadata.text()).isNull();
        assertThat(metadata.parameters()).isEmpty();
        AuditStatement statements = AuditStatement.builder(AuditLevel.STATEMENTS, "select", AuditDecision.ALLOW)
                .sql("SELECT '4111 1111 1111 1111'", "SELECT $1").parameters(List.of("secret")).build();
        assertThat(statements.text()).isEqualTo("SELECT $1");
        assertThat(statements.parameters()).isEmpty();
        AuditStatement full = AuditStatement.builder(AuditLevel.FULL, "select", AuditDecision.ALLOW)
                .sql("SELECT '4111 1111 1111 1111'", "SELECT $1").parameters(List.of("secret")).build();
        assertThat(full.toString()).doesNotContain("4111").doesNotContain("secret");
        assertThatThrownBy(() -> new AuditStatement("select", List.of(), null, AuditLevel.METADATA, "SELECT 1",
                List.of(), AuditDecision.ALLOW, List.of(), List.of(), null, null, null, null, 1, 1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void controlCharactersAndNewlinesInSqlStayInsideOneLine() throws Exception {
        String sql = "SELECT 1;\n-- comment\r\n\tSELECT 'é\u2028'";
        try (AuditLog log = AuditLog.open(AuditConfig.defaults(directory))) {
            log.appendConfirmed(AuditRecord.statement(AuditRecords.T0, "s", AuditRecords.ANA, AuditStatement
                    .builder(AuditLevel.FULL, "select", AuditDecision.ALLOW).sql(sql, sql).build(), null)).get();
        }
        Path file = AuditFiles.files(directory).get(0);
        assertThat(AuditFiles.lines(file)).hasSize(2);
        assertThat(AuditFiles.records(directory).get(1).get("text").asText()).isEqualTo(sql);
        assertThat(AuditFiles.verify(directory).intact()).isTrue();
        assertThat(Files.size(file)).isPositive();
    }

    @Test
    void unpairedSurrogatesAreWrittenAsReplacementCharacters() throws Exception {
        String lowAlone = String.valueOf((char) 0xDC00);
        String highAlone = String.valueOf((char) 0xD800);
        String sql = "SELECT '" + highAlone + "' || '\uD83D\uDE00' || '" + lowAlone + "x'";
        try (AuditLog log = AuditLog.open(AuditConfig.defaults(directory))) {
            log.appendConfirmed(AuditRecord.statement(AuditRecords.T0, "s", AuditRecords.ANA, AuditStatement
                    .builder(AuditLevel.FULL, "select", AuditDecision.ALLOW).sql(sql, sql).build(), null)).get();
            assertThat(log.healthy()).isTrue();
        }
        assertThat(AuditFiles.records(directory).get(1).get("text").asText())
                .isEqualTo("SELECT '\uFFFD' || '\uD83D\uDE00' || '\uFFFDx'");
        assertThat(AuditFiles.verify(directory).intact()).isTrue();
    }

    @Test
    void interleavedSessionsEachKeepTheirOwnConnectionFields() throws Exception {
        // Connection fields are rendered once per session and reused; records of two sessions
        // written alternately must each carry their own, escaped as any other field is.
        String oddName = "app \"quoted\" \\ " + (char) 0xD800 + "\n";
        AuditConnection other = new AuditConnection("bo", List.of("ops"), "bo_rw", "shop", oddName, "::1", 6000, false);
        try (AuditLog log = AuditLog.open(AuditConfig.defaults(directory))) {
            for (int i = 0; i < 3; i++) {
                log.appendConfirmed(AuditRecord.statement(AuditRecords.T0, "s-ana", AuditRecords.ANA, AuditStatement
                        .builder(AuditLevel.METADATA, "select", AuditDecision.ALLOW).build(), null)).get();
                log.appendConfirmed(AuditRecord.statement(AuditRecords.T0, "s-bo", other, AuditStatement
                        .builder(AuditLevel.METADATA, "select", AuditDecision.ALLOW).build(), null)).get();
            }
        }
        List<JsonNode> records = AuditFiles.records(directory);
        assertThat(records).hasSize(7);
        for (JsonNode record : records.subList(1, 7)) {
            boolean ana = record.get("session").asText().equals("s-ana");
            assertThat(record.get("user").asText()).isEqualTo(ana ? "ana" : "bo");
            assertThat(record.get("groups")).extracting(JsonNode::asText)
                    .containsExactlyElementsOf(ana ? List.of("bi_readers", "staff") : List.of("ops"));
            assertThat(record.get("application_name").asText()).isEqualTo(ana ? "psql" : "app \"quoted\" \\ \uFFFD\n");
            assertThat(record.get("client_port").asInt()).isEqualTo(ana ? 51234 : 6000);
            assertThat(record.get("tls").asBoolean()).isEqualTo(ana);
            assertThat(fieldNames(record).subList(0, 13)).containsExactly("seq", "time", "event", "session", "user",
                    "groups", "db_user", "database", "application_name", "client_addr", "client_port", "tls", "kind");
        }
        assertThat(AuditFiles.lines(AuditFiles.files(directory).get(0))).hasSize(7);
        assertThat(AuditFiles.verify(directory).intact()).isTrue();
    }

    @Test
    void timestampsAreTheFormattersTextToTheMicrosecond() {
        AuditJson.Timestamps timestamps = new AuditJson.Timestamps();
        List<Instant> instants = new ArrayList<>(List.of(Instant.EPOCH, Instant.parse("2024-02-29T23:59:59.999999999Z"),
                Instant.parse("2024-03-01T00:00:00Z"), Instant.parse("1999-12-31T23:59:59.000001Z"),
                Instant.parse("2026-11-21T10:15:30.123456789Z"), Instant.parse("2026-11-21T10:15:30.000000500Z"),
                Instant.parse("2026-11-21T10:15:29.5Z")));
        Random random = new Random(20261204);
        for (int i = 0; i < 10_000; i++) {
            // Mostly within a few seconds of each other, as records come, and sometimes going back.
            Instant previous = instants.get(instants.size() - 1);
            instants.add(i % 100 == 0 ? Instant.ofEpochSecond(random.nextInt(2_000_000_000), random.nextInt(1_000_000_000))
                    : previous.plusNanos(random.nextInt(400_000_000) - 50_000_000L));
        }
        for (Instant instant : instants) {
            assertThat(timestamps.format(instant)).as(instant.toString()).isEqualTo(AuditJson.TIME.format(instant));
        }
    }

    private static String genesisSha256() {
        try (ChainKey key = ChainKey.unkeyed()) {
            return key.genesis();
        }
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            names.add(it.next());
        }
        return names;
    }
}
