package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import dev.pgpolicy.proxy.testing.WireSession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Statements prepared with SQL {@code PREPARE} and run by a protocol Bind naming them (PostgreSQL
 * shares the namespace with Parse) or by {@code EXECUTE}: every execution is decided on the
 * prepared text and has its statement record, with the Bind parameters at level {@code full},
 * written before it runs under {@code audit.fail_closed}. A name the proxy knows no text for
 * (never prepared, a PREPARE the server refused, one prepared inside a DO block, one deallocated)
 * is refused with 26000 and never reaches the server.
 */
@ExtendWith(PostgresExtension.class)
class AuditSqlPreparedTest {

    private static final String POLICY = """
            role app = user == "aud_app";
            allow any session;
            allow app read, write on public.notes;
            allow app do;
            audit app full;
            """;
    /** The same set after a reload that takes the app's right to write. */
    private static final String READ_ONLY = """
            role app = user == "aud_app";
            allow any session;
            allow app read on public.notes;
            audit app full;
            """;

    @TempDir
    Path work;

    @Test
    void everyBindAndExecuteOfASqlPreparedStatementIsDecidedOnItsTextAndRecordedFirst(EmbeddedPostgres postgres)
            throws Exception {
        Path auditDir = work.resolve("audit");
        try (AuditedProxy proxy = AuditedProxy.start(postgres, work, POLICY,
                b -> b.auditDir(auditDir).auditFailClosed(true).policiesWatch(false));
                WireSession session = WireSession.login("127.0.0.1", proxy.proxy.address().getPort(),
                        AuditedProxy.APP, AuditedProxy.PASSWORD, AuditedProxy.DB)) {
            assertThat(session.query("PREPARE ins (int) AS INSERT INTO notes VALUES ($1)").tags())
                    .containsExactly("PREPARE");
            assertRan(session.bindAndExecute("ins", "8101"));
            assertRan(session.bindAndExecute("ins", "8102"));
            assertRan(session.query("EXECUTE ins(8103)"));

            // Names whose text the proxy does not know: refused before the server sees them.
            assertRefused(session.bindAndExecute("never_prepared", "8104"), "not prepared through the proxy");
            assertRefused(session.query("EXECUTE never_prepared(8104)"), "not prepared through the proxy");
            WireSession.Reply failedPrepare = session.query("PREPARE broken (int) AS INSERT INTO notes VALUES ($1, $1)");
            assertThat(failedPrepare.sqlState()).as("the server refuses the PREPARE").isEqualTo("42601");
            assertRefused(session.bindAndExecute("broken", "8105"), "not prepared through the proxy");
            assertRan(session.query(
                    "DO $$ BEGIN EXECUTE 'PREPARE hidden (int) AS INSERT INTO notes VALUES ($1)'; END $$"));
            assertRefused(session.bindAndExecute("hidden", "8106"), "not prepared through the proxy");
            assertRefused(session.query("EXECUTE hidden(8106)"), "not prepared through the proxy");
            assertRan(session.query("DEALLOCATE ins"));
            assertRefused(session.bindAndExecute("ins", "8107"), "not prepared through the proxy");

            // Prepared and executed in one Query: the PREPARE's text was decided with it.
            assertRan(session.query("PREPARE again (int) AS INSERT INTO notes VALUES ($1); EXECUTE again(8108)"));

            // A reload that takes the right away applies to statements prepared before it.
            assertThat(session.query("PREPARE later (int) AS INSERT INTO notes VALUES ($1)").tags())
                    .containsExactly("PREPARE");
            Files.writeString(work.resolve("policies").resolve("audit.pgpolicy"), READ_ONLY);
            proxy.proxy.reload();
            WireSession.Reply deniedBind = session.bindAndExecute("later", "8109");
            assertThat(deniedBind.sqlState()).as(deniedBind.messages().toString()).isEqualTo("42501");
            WireSession.Reply deniedExecute = session.query("EXECUTE later(8109)");
            assertThat(deniedExecute.sqlState()).as(deniedExecute.messages().toString()).isEqualTo("42501");
        }

        assertThat(notes(postgres, 8101, 8109)).containsExactly("8101", "8102", "8103", "8108");
        List<JsonNode> statements = statements(auditDir);
        JsonNode first = bindRecord(statements, "8101");
        assertThat(first.get("text").asText()).isEqualTo("INSERT INTO notes VALUES ($1)");
        assertThat(first.get("kind").asText()).isEqualTo("insert");
        assertThat(first.get("decision").asText()).isEqualTo("allow");
        assertThat(first.get("objects").toString()).contains("notes");
        assertThat(first.get("rows").isNull()).as("written before it ran").isTrue();
        assertThat(bindRecord(statements, "8102").get("text").asText()).isEqualTo("INSERT INTO notes VALUES ($1)");
        assertThat(texts(statements, "allow")).contains("EXECUTE ins(8103)",
                "PREPARE again (int) AS INSERT INTO notes VALUES ($1); EXECUTE again(8108)");
        assertThat(statements).filteredOn(r -> r.get("decision").asText().equals("deny")
                && r.get("text").asText().equals("EXECUTE later(8109)")).hasSize(1);
        assertThat(statements).filteredOn(r -> r.get("decision").asText().equals("deny")
                && r.get("text").asText().equals("INSERT INTO notes VALUES ($1)")
                && r.get("parameters").toString().equals("[]")).as("the Bind refused after the reload")
                .hasSize(1);
        AuditedProxy.assertVerifies(auditDir);
    }

    @Test
    void withoutFailClosedTheRecordsOfSqlPreparedStatementsCarryTheirOutcome(EmbeddedPostgres postgres)
            throws Exception {
        Path auditDir = work.resolve("audit-queued");
        try (AuditedProxy proxy = AuditedProxy.start(postgres, work, POLICY, b -> b.auditDir(auditDir))) {
            ProcessResult psql = proxy.client(AuditedProxy.APP).psqlScript("""
                    PREPARE q (int) AS INSERT INTO notes VALUES ($1);
                    EXECUTE q(8201);
                    DEALLOCATE q;
                    EXECUTE q(8202);
                    """);
            assertThat(psql.succeeded()).isFalse();
            assertThat(psql.stderr()).contains("prepared statement \"q\" cannot be used");
            try (WireSession session = WireSession.login("127.0.0.1", proxy.proxy.address().getPort(),
                    AuditedProxy.APP, AuditedProxy.PASSWORD, AuditedProxy.DB)) {
                assertRan(session.query("PREPARE upd (int, int) AS UPDATE notes SET id = $2 WHERE id = $1"));
                assertRan(session.query("INSERT INTO notes VALUES (8203)"));
                WireSession.Reply update = session.bindAndExecute("upd", "8203", "8204");
                assertThat(update.tags()).containsExactly("UPDATE 1");
            }
        }
        assertThat(notes(postgres, 8201, 8204)).containsExactly("8201", "8204");
        List<JsonNode> statements = statements(auditDir);
        // psql sends the statement with its semicolon.
        JsonNode executed = statements.stream().filter(r -> r.get("text").asText().startsWith("EXECUTE q(8201)"))
                .findFirst().orElseThrow();
        assertThat(executed.get("kind").asText()).isEqualTo("execute");
        assertThat(executed.get("rows").asLong()).isEqualTo(1);
        JsonNode bound = bindRecord(statements, "8203");
        assertThat(bound.get("text").asText()).isEqualTo("UPDATE notes SET id = $2 WHERE id = $1");
        assertThat(bound.get("parameters").toString()).isEqualTo("[\"8203\",\"8204\"]");
        assertThat(bound.get("rows").asLong()).isEqualTo(1);
        assertThat(bound.get("kind").asText()).isEqualTo("update");
        AuditedProxy.assertVerifies(auditDir);
    }

    private static void assertRan(WireSession.Reply reply) {
        assertThat(reply.sqlState()).as("%s", reply.messages()).isNull();
    }

    private static void assertRefused(WireSession.Reply reply, String why) {
        assertThat(reply.sqlState()).as("%s", reply.messages()).isEqualTo("26000");
        assertThat(reply.errorMessage()).startsWith("pgpolicy: prepared statement").contains(why);
    }

    private static List<String> notes(EmbeddedPostgres postgres, int from, int to) {
        List<String> ids = new ArrayList<>();
        for (List<String> row : postgres.query(AuditedProxy.DB, "SELECT id::text FROM notes WHERE id BETWEEN "
                + from + " AND " + to + " ORDER BY id")) {
            ids.add(row.get(0));
        }
        return ids;
    }

    private static List<JsonNode> statements(Path auditDir) throws Exception {
        return AuditedProxy.records(auditDir).stream().filter(r -> r.get("event").asText().equals("statement"))
                .toList();
    }

    /** The one allowed record whose first Bind parameter is {@code parameter}. */
    private static JsonNode bindRecord(List<JsonNode> statements, String parameter) {
        List<JsonNode> found = statements.stream().filter(r -> r.get("decision").asText().equals("allow")
                && r.get("parameters").size() > 0 && r.get("parameters").get(0).asText().equals(parameter)).toList();
        assertThat(found).as("records with the Bind parameter %s", parameter).hasSize(1);
        return found.get(0);
    }

    private static List<String> texts(List<JsonNode> statements, String decision) {
        return statements.stream().filter(r -> r.get("decision").asText().equals(decision))
                .map(r -> r.get("text").asText()).toList();
    }
}
