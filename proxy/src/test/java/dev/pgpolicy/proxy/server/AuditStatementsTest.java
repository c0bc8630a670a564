package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Statement records of real psql and pgjdbc sessions through a proxy started as {@code serve
 * --policies --audit} starts it: one record per statement, at the level the policy sets, with the
 * connection, the decision, rows, duration, SQLSTATE and policy revision; the log verifies.
 */
@ExtendWith(PostgresExtension.class)
class AuditStatementsTest {

    @TempDir
    Path work;

    @Test
    void aScriptedSessionLeavesOneRecordPerStatementAtThePolicysLevel(EmbeddedPostgres postgres) throws Exception {
        Path auditDir = work.resolve("audit");
        try (AuditedProxy proxy = AuditedProxy.start(postgres, work, b -> b.auditDir(auditDir))) {
            ProcessResult app = proxy.client(AuditedProxy.APP).applicationName("audit-app")
                    .psql("SELECT id, name FROM customers WHERE name = 'Ada Lovelace'");
            assertThat(app.succeeded()).as(app.describe()).isTrue();
            ProcessResult multi = proxy.client(AuditedProxy.APP).applicationName("audit-multi")
                    .psql("INSERT INTO notes VALUES (41), (42); SELECT id FROM customers ORDER BY id");
            assertThat(multi.succeeded()).as(multi.describe()).isTrue();
            ProcessResult ddl = proxy.client(AuditedProxy.APP).applicationName("audit-ddl")
                    .psql("CREATE TABLE forbidden (id int)");
            assertThat(ddl.succeeded()).isFalse();
            assertThat(ddl.stderr()).contains("no-ddl");
            ProcessResult failing = proxy.client(AuditedProxy.APP).applicationName("audit-failing")
                    .psql("INSERT INTO customers VALUES (1, 'duplicate', 'dup@example.com')");
            assertThat(failing.succeeded()).isFalse();
            assertThat(failing.stderr()).contains("duplicate key");
            ProcessResult masked = proxy.client(AuditedProxy.ANALYST).applicationName("audit-analyst")
                    .psql("SELECT email FROM customers WHERE id = 2");
            assertThat(masked.succeeded()).as(masked.describe()).isTrue();
            assertThat(masked.stdout()).doesNotContain("alan@example.org");
            ProcessResult star = proxy.client(AuditedProxy.ANALYST).applicationName("audit-analyst-star")
                    .psql("SELECT * FROM customers WHERE id = 1");
            assertThat(star.succeeded()).as(star.describe()).isTrue();
            assertThat(star.stdout()).contains("Ada Lovelace").doesNotContain("ada@example.com");
            ProcessResult metadata = proxy.client(AuditedProxy.REPORTER).applicationName("audit-reporter")
                    .psql("SELECT name FROM customers WHERE email = 'ada@example.com'");
            assertThat(metadata.succeeded()).as(metadata.describe()).isTrue();
            ProcessResult throttled = proxy.client(AuditedProxy.REPORTER).applicationName("audit-throttled")
                    .psqlScript("SELECT id FROM customers WHERE id = 7;\n".repeat(30));
            assertThat(throttled.succeeded()).isFalse();
            assertThat(throttled.stderr()).contains("query rate limit exceeded");

            try (Connection connection = proxy.jdbc(AuditedProxy.APP);
                    PreparedStatement select = connection.prepareStatement(
                            "SELECT name FROM customers WHERE id = ? AND name <> ? AND email IS DISTINCT FROM ?")) {
                select.setInt(1, 1);
                select.setString(2, "nobody");
                select.setNull(3, Types.VARCHAR);
                try (ResultSet rows = select.executeQuery()) {
                    assertThat(rows.next()).isTrue();
                    assertThat(rows.getString(1)).isEqualTo("Ada Lovelace");
                }
                select.setInt(1, 2);
                select.setString(2, "it's a secret");
                select.setString(3, "x");
                try (ResultSet rows = select.executeQuery()) {
                    assertThat(rows.next()).isTrue();
                    assertThat(rows.getString(1)).isEqualTo("Alan Turing");
                }
                try (Statement statement = connection.createStatement()) {
                    assertThatThrownBy(() -> statement.execute("DROP TABLE notes"))
                            .isInstanceOf(SQLException.class).hasMessageContaining("no-ddl");
                }
                // A batch in one pipeline whose second row fails: the server skips the rest up to the Sync.
                try (PreparedStatement insert = connection.prepareStatement(
                        "INSERT INTO customers (id, name, email) VALUES (?, ?, ?)")) {
                    for (int id : new int[] {10, 1, 11}) {
                        insert.setInt(1, id);
                        insert.setString(2, "batch " + id);
                        insert.setString(3, "batch" + id + "@example.com");
                        insert.addBatch();
                    }
                    assertThatThrownBy(insert::executeBatch).isInstanceOf(SQLException.class);
                }
                // Rows fetched in pieces: each Execute of the portal is a record.
                connection.setAutoCommit(false);
                try (Statement cursor = connection.createStatement()) {
                    cursor.setFetchSize(1);
                    try (ResultSet rows = cursor.executeQuery("SELECT id FROM customers WHERE id < 3 ORDER BY id")) {
                        int count = 0;
                        while (rows.next()) {
                            count++;
                        }
                        assertThat(count).isEqualTo(2);
                    }
                }
                connection.commit();
            }
        }

        List<JsonNode> records = AuditedProxy.records(auditDir);
        List<JsonNode> statements = records.stream().filter(r -> r.get("event").asText().equals("statement")).toList();
        String revision = statements.isEmpty() ? null : statements.get(0).get("policy_revision").asText();
        assertThat(revision).as(statements.toString()).contains("sha256 ");
        for (JsonNode record : records) {
            if (!record.get("event").asText().equals("log_start")) {
                assertThat(record.get("policy_revision").asText()).as(record.toString()).isEqualTo(revision);
            }
        }

        // Allowed select at full: the text as sent, rows from CommandComplete, a duration.
        JsonNode select = only(statements, r -> app(r, "audit-app"));
        assertThat(select.get("user").asText()).isEqualTo(AuditedProxy.APP);
        assertThat(select.get("db_user").asText()).isEqualTo(AuditedProxy.APP);
        assertThat(select.get("groups")).isEmpty();
        assertThat(select.get("database").asText()).isEqualTo(AuditedProxy.DB);
        assertThat(select.get("client_addr").asText()).isEqualTo("127.0.0.1");
        assertThat(select.get("client_port").asInt()).isPositive();
        assertThat(select.get("tls").asBoolean()).isFalse();
        assertThat(select.get("kind").asText()).isEqualTo("select");
        assertThat(select.get("objects").toString()).contains("customers").contains("\"action\":\"select\"");
        assertThat(select.get("fingerprint").asText()).isNotEmpty();
        assertThat(select.get("level").asText()).isEqualTo("full");
        assertThat(select.get("text").asText()).isEqualTo("SELECT id, name FROM customers WHERE name = 'Ada Lovelace'");
        assertThat(select.get("parameters")).isEmpty();
        assertThat(select.get("decision").asText()).isEqualTo("allow");
        assertThat(select.get("rules")).isNotEmpty();
        assertThat(select.get("masks")).isEmpty();
        assertThat(select.get("rows").asLong()).isEqualTo(1);
        assertThat(select.get("duration_us").isNumber()).isTrue();
        assertThat(select.get("duration_us").asLong()).isNotNegative();
        assertThat(select.get("sqlstate").isNull()).isTrue();
        String session = select.get("session").asText();
        assertThat(records).anySatisfy(r -> {
            assertThat(r.get("event").asText()).isEqualTo("connection_open");
            assertThat(r.get("session").asText()).isEqualTo(session);
        });

        // Two statements in one Query: two records, in order, each with its own rows.
        List<JsonNode> multi = statements.stream().filter(r -> app(r, "audit-multi")).toList();
        assertThat(multi).as(multi.toString()).hasSize(2);
        assertThat(multi.get(0).get("kind").asText()).isEqualTo("insert");
        assertThat(multi.get(0).get("rows").asLong()).isEqualTo(2);
        assertThat(multi.get(1).get("kind").asText()).isEqualTo("select");
        assertThat(multi.get(1).get("rows").asLong()).isEqualTo(2);
        assertThat(multi.get(0).get("seq").asLong()).isLessThan(multi.get(1).get("seq").asLong());
        assertThat(multi.get(0).get("part").asInt()).isEqualTo(1);
        assertThat(multi.get(1).get("part").asInt()).isEqualTo(2);
        assertThat(multi.get(1).get("parts").asInt()).isEqualTo(2);
        assertThat(select.get("part").asInt()).isEqualTo(1);
        assertThat(select.get("parts").asInt()).isEqualTo(1);

        // Denied DDL: at least statements, the rule and its reason, no rows.
        JsonNode denied = only(statements, r -> app(r, "audit-ddl"));
        assertThat(denied.get("decision").asText()).isEqualTo("deny");
        assertThat(denied.get("kind").asText()).isEqualTo("ddl");
        assertThat(denied.get("rules").toString()).contains("no-ddl");
        assertThat(denied.get("reason").asText()).isEqualTo("schema changes go through migrations");
        assertThat(denied.get("rows").isNull()).isTrue();
        assertThat(denied.get("text").asText()).isEqualTo("CREATE TABLE forbidden (id int)");

        // Allowed by policy, failed in the server: its SQLSTATE and message.
        JsonNode failed = only(statements, r -> app(r, "audit-failing"));
        assertThat(failed.get("decision").asText()).isEqualTo("allow");
        assertThat(failed.get("sqlstate").asText()).isEqualTo("23505");
        assertThat(failed.get("reason").asText()).contains("duplicate key");
        assertThat(failed.get("rows").isNull()).isTrue();

        // statements: normalized text, no literal; the mask applied.
        JsonNode analyst = only(statements, r -> app(r, "audit-analyst"));
        assertThat(analyst.get("level").asText()).isEqualTo("statements");
        assertThat(analyst.get("text").asText()).isEqualTo("select email from customers where id = ?");
        assertThat(analyst.get("parameters").isNull()).isTrue();
        assertThat(analyst.get("masks").toString()).contains("customers.email");
        assertThat(analyst.get("rows").asLong()).isEqualTo(1);

        // SELECT *: the mask only the RowDescription revealed.
        JsonNode star = only(statements, r -> app(r, "audit-analyst-star"));
        assertThat(star.get("masks").toString()).isEqualTo("[\"public.customers.email\"]");
        assertThat(star.get("rows").asLong()).isEqualTo(1);

        // metadata: no text at all, but kind, objects and fingerprint.
        JsonNode reporter = only(statements, r -> app(r, "audit-reporter"));
        assertThat(reporter.get("level").asText()).isEqualTo("metadata");
        assertThat(reporter.get("text").isNull()).isTrue();
        assertThat(reporter.get("parameters").isNull()).isTrue();
        assertThat(reporter.get("kind").asText()).isEqualTo("select");
        assertThat(reporter.get("objects").toString()).contains("customers");
        assertThat(reporter.toString()).doesNotContain("ada@example.com");

        // Throttled: refused before the policy decided, audited at least at statements.
        JsonNode limited = only(statements, r -> app(r, "audit-throttled") && r.get("decision").asText().equals("throttle"));
        assertThat(limited.get("level").asText()).isEqualTo("statements");
        assertThat(limited.get("text").asText()).isEqualTo("select id from customers where id = ?");
        assertThat(limited.get("kind").asText()).isEqualTo("select");
        assertThat(limited.get("reason").asText()).contains("query rate limit exceeded");
        // Named in rules like a denial's rule: the limit rule has no @id, so its file:line, the file
        // named relative to the policy directory.
        assertThat(limited.get("rules")).singleElement()
                .satisfies(rule -> assertThat(rule.asText()).isEqualTo("audit.pgpolicy:16"));
        assertThat(limited.get("rows").isNull()).isTrue();

        // pgjdbc's prepared statement at full: one record per Execute with its Bind parameters.
        List<JsonNode> jdbc = statements.stream().filter(r -> app(r, "audit-jdbc")).toList();
        List<JsonNode> executes = new ArrayList<>(jdbc.stream()
                .filter(r -> r.get("text").asText().startsWith("SELECT name FROM customers")).toList());
        assertThat(executes).as(jdbc.toString()).hasSize(2);
        assertThat(executes.get(0).get("text").asText())
                .isEqualTo("SELECT name FROM customers WHERE id = $1 AND name <> $2 AND email IS DISTINCT FROM $3");
        assertThat(executes.get(0).get("parameters").toString()).isEqualTo("[\"\\\\x00000001\",\"nobody\",null]");
        assertThat(executes.get(0).get("rows").asLong()).isEqualTo(1);
        assertThat(executes.get(1).get("parameters").toString()).isEqualTo("[\"\\\\x00000002\",\"it's a secret\",\"x\"]");
        assertThat(executes.get(1).get("rows").asLong()).isEqualTo(1);
        JsonNode jdbcDenied = only(jdbc, r -> r.get("decision").asText().equals("deny"));
        assertThat(jdbcDenied.get("text").asText()).isEqualTo("DROP TABLE notes");

        // The batch: the first row inserted, the second failed, the third never ran and has no record.
        List<JsonNode> batch = jdbc.stream().filter(r -> r.get("kind").asText().equals("insert")).toList();
        assertThat(batch).as(jdbc.toString()).hasSize(2);
        assertThat(batch.get(0).get("rows").asLong()).isEqualTo(1);
        assertThat(batch.get(0).get("parameters").get(1).asText()).isEqualTo("batch 10");
        assertThat(batch.get(1).get("sqlstate").asText()).isEqualTo("23505");
        assertThat(batch.get(1).get("parameters").get(1).asText()).isEqualTo("batch 1");
        assertThat(postgres.query(AuditedProxy.DB, "SELECT count(*) FROM customers WHERE id IN (10, 11)").get(0).get(0))
                .as("the failed batch rolled back").isEqualTo("0");

        // Fetched one row at a time: suspended Executes, then the one that completes.
        List<JsonNode> fetched = jdbc.stream()
                .filter(r -> r.get("text").asText().equals("SELECT id FROM customers WHERE id < 3 ORDER BY id")).toList();
        assertThat(fetched).as(jdbc.toString()).hasSizeGreaterThanOrEqualTo(2);
        assertThat(fetched.get(0).get("reason").asText()).contains("portal suspended");
        assertThat(fetched.get(fetched.size() - 1).get("rows").isNumber()).isTrue();

        AuditedProxy.assertVerifies(auditDir);
    }

    private static boolean app(JsonNode record, String applicationName) {
        return applicationName.equals(record.path("application_name").asText());
    }

    private static JsonNode only(List<JsonNode> records, Predicate<JsonNode> which) {
        List<JsonNode> matching = records.stream().filter(which).toList();
        assertThat(matching).as(records.toString()).hasSize(1);
        return matching.get(0);
    }
}
