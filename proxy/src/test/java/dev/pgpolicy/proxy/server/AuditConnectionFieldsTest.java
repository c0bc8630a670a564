package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A session's statement records name the connection as it is when each statement runs: a
 * {@code SET application_name} in the middle of a session (reported by the server's
 * ParameterStatus) shows in the next statement's record, through the simple protocol (psql) and
 * the extended one (pgjdbc), though the proxy keeps the connection's fields between records.
 */
@ExtendWith(PostgresExtension.class)
class AuditConnectionFieldsTest {

    @TempDir
    Path work;

    @Test
    void aSetApplicationNameShowsInTheNextStatementRecord(EmbeddedPostgres postgres) throws Exception {
        Path auditDir = work.resolve("audit");
        try (AuditedProxy proxy = AuditedProxy.start(postgres, work, b -> b.auditDir(auditDir))) {
            ProcessResult psql = proxy.client(AuditedProxy.APP).applicationName("fields-before")
                    .psqlScript("""
                            SELECT id FROM customers WHERE id = 1;
                            SELECT id FROM customers WHERE id = 1;
                            SET application_name = 'fields-after';
                            SELECT id FROM customers WHERE id = 1;
                            SELECT id FROM customers WHERE id = 1;
                            """);
            assertThat(psql.succeeded()).as(psql.describe()).isTrue();

            try (Connection connection = proxy.jdbc(AuditedProxy.APP);
                    Statement statement = connection.createStatement()) {
                for (String name : new String[] {"jdbc-first", "jdbc-second"}) {
                    // pgjdbc sends SET application_name itself and waits for the server's ParameterStatus.
                    connection.setClientInfo("ApplicationName", name);
                    try (ResultSet rows = statement.executeQuery("SELECT name FROM customers WHERE id = 2")) {
                        assertThat(rows.next()).isTrue();
                    }
                    try (ResultSet rows = statement.executeQuery("SELECT name FROM customers WHERE id = 2")) {
                        assertThat(rows.next()).isTrue();
                    }
                }
            }
        }

        List<JsonNode> selects = AuditedProxy.records(auditDir).stream()
                .filter(r -> r.get("event").asText().equals("statement"))
                .filter(r -> r.get("kind").asText().equals("select"))
                .toList();
        List<String> psqlNames = selects.stream()
                .filter(r -> r.get("text").asText().equals("SELECT id FROM customers WHERE id = 1;")
                        || r.get("text").asText().equals("SELECT id FROM customers WHERE id = 1"))
                .map(r -> r.get("application_name").asText()).toList();
        assertThat(psqlNames).as(selects.toString())
                .containsExactly("fields-before", "fields-before", "fields-after", "fields-after");
        List<String> jdbcNames = selects.stream()
                .filter(r -> r.get("text").asText().equals("SELECT name FROM customers WHERE id = 2"))
                .map(r -> r.get("application_name").asText()).toList();
        assertThat(jdbcNames).as(selects.toString())
                .containsExactly("jdbc-first", "jdbc-first", "jdbc-second", "jdbc-second");
        AuditedProxy.assertVerifies(auditDir);
    }
}
