package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A statement the policy allows but a {@code concurrent} limit refuses is recorded as what happened
 * to it, {@code throttle} naming the limit rule, and never as {@code allow}: the slot is taken
 * before the record is written, with and without {@code audit.fail_closed}, in the simple and the
 * extended protocol. The following statements of the session keep their own records.
 */
@ExtendWith(PostgresExtension.class)
class AuditConcurrentLimitTest {

    /** The limit is the line after the shared policy's last one: its rule id ends with file:line. */
    private static final String POLICY = AuditedProxy.POLICY + "limit app { concurrent 1 per user; }\n";
    private static final String CONCURRENT_RULE = "audit.pgpolicy:" + (AuditedProxy.POLICY.lines().count() + 1);

    @TempDir
    Path work;

    @ParameterizedTest(name = "fail_closed {0}")
    @ValueSource(booleans = {false, true})
    void aStatementRefusedByAConcurrentLimitIsRecordedAsThrottledNotAllowed(boolean failClosed,
            EmbeddedPostgres postgres) throws Exception {
        Path auditDir = work.resolve("audit");
        String holderApp = "audit-concurrent-holder-" + failClosed;
        String refusedApp = "audit-concurrent-refused-" + failClosed;
        try (AuditedProxy proxy = AuditedProxy.start(postgres, work, POLICY,
                b -> b.auditDir(auditDir).auditFailClosed(failClosed));
                Connection lock = DriverManager.getConnection(postgres.jdbcUrl(AuditedProxy.DB), postgres.superuser(),
                        postgres.superuserPassword());
                // Connected first: pgjdbc's own start-up statements need the slot too.
                Connection jdbc = proxy.jdbc(AuditedProxy.APP);
                PreparedStatement select = jdbc.prepareStatement("SELECT name FROM customers WHERE id = ?")) {
            // The app's only slot is held by an INSERT waiting for a table lock taken outside the proxy.
            lock.setAutoCommit(false);
            try (Statement statement = lock.createStatement()) {
                statement.execute("LOCK TABLE notes IN ACCESS EXCLUSIVE MODE");
            }
            CompletableFuture<ProcessResult> holder = CompletableFuture.supplyAsync(() ->
                    proxy.client(AuditedProxy.APP).applicationName(holderApp).psql("INSERT INTO notes VALUES (77)"));
            awaitWaitingForLock(postgres, holderApp, holder);

            ProcessResult refused = proxy.client(AuditedProxy.APP).applicationName(refusedApp).psqlWith(
                    "--set=ON_ERROR_STOP=0", "--command=SELECT name FROM customers WHERE id = 2");
            assertThat(refused.stderr()).contains("too many concurrent statements").contains(CONCURRENT_RULE);
            select.setInt(1, 1);
            assertThatThrownBy(select::executeQuery).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("53400"));
            lock.commit();
            ProcessResult held = holder.get(60, TimeUnit.SECONDS);
            assertThat(held.succeeded()).as(held.describe()).isTrue();
            // The slot is free again: the same prepared statement runs and is recorded as allowed.
            try (ResultSet rows = select.executeQuery()) {
                assertThat(rows.next()).isTrue();
                assertThat(rows.getString(1)).isEqualTo("Ada Lovelace");
            }
        }

        List<JsonNode> statements = AuditedProxy.records(auditDir).stream()
                .filter(r -> r.get("event").asText().equals("statement")).toList();
        List<JsonNode> refusedRecords = statements.stream()
                .filter(r -> r.get("application_name").asText().equals(refusedApp)).toList();
        assertThat(refusedRecords).as(statements.toString()).hasSize(1);
        assertThrottled(refusedRecords.get(0));
        assertThat(refusedRecords.get(0).get("text").asText()).isEqualTo("SELECT name FROM customers WHERE id = 2");

        List<JsonNode> jdbcSelects = statements.stream()
                .filter(r -> r.get("application_name").asText().equals("audit-jdbc")
                        && r.get("text").asText().equals("SELECT name FROM customers WHERE id = $1"))
                .toList();
        assertThat(jdbcSelects).as(statements.toString()).hasSize(2);
        assertThrottled(jdbcSelects.get(0));
        assertThat(jdbcSelects.get(1).get("decision").asText()).isEqualTo("allow");
        assertThat(jdbcSelects.get(1).get("parameters").toString()).isEqualTo("[\"\\\\x00000001\"]");

        assertThat(statements).filteredOn(r -> r.get("application_name").asText().equals(holderApp))
                .singleElement().satisfies(r -> assertThat(r.get("decision").asText()).isEqualTo("allow"));
        AuditedProxy.assertVerifies(auditDir);
    }

    private static void assertThrottled(JsonNode record) {
        assertThat(record.get("decision").asText()).as(record.toString()).isEqualTo("throttle");
        assertThat(record.get("rules")).singleElement()
                .satisfies(rule -> assertThat(rule.asText()).isEqualTo(CONCURRENT_RULE));
        assertThat(record.get("reason").asText()).contains("too many concurrent statements");
        assertThat(record.get("rows").isNull()).isTrue();
    }

    /**
     * Polls until the proxied INSERT waits for the lock (from another session: the holder's own
     * transaction would keep seeing the activity snapshot it took first).
     */
    private static void awaitWaitingForLock(EmbeddedPostgres postgres, String applicationName,
            CompletableFuture<ProcessResult> holder) throws InterruptedException {
        String probe = "SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + applicationName
                + "' AND wait_event_type = 'Lock'";
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!postgres.query(AuditedProxy.DB, probe).get(0).get(0).equals("1")) {
            assertThat(holder.isDone()).as("the INSERT ended before it waited: %s",
                    holder.isDone() ? holder.join().describe() : "").isFalse();
            assertThat(System.nanoTime() - deadline).as("the INSERT never waited for the lock").isNegative();
            Thread.sleep(20);
        }
    }
}
