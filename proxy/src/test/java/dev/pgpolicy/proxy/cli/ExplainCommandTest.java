package dev.pgpolicy.proxy.cli;

import static dev.pgpolicy.proxy.cli.CheckCommandTest.assertNothingAlarming;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgpolicy.proxy.testing.CommandRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExplainCommandTest {

    private static final String EXAMPLE = Path.of("..", "policies", "language-example").toString();
    private static final String ANALYST = "user=ana,groups=bi_readers,client_ip=10.1.2.3,time=2026-03-04T10:00:00Z";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void textShowsFactsRequestsRulesAndTheDecision() {
        CommandRun run = CommandRun.of("explain", "--policies", EXAMPLE, "--as", ANALYST,
                "SELECT email FROM payments.customers WHERE id = 1");

        assertThat(run.exitCode()).as(run.all()).isZero();
        assertThat(run.out())
                .contains("session:     user=ana groups=bi_readers")
                .contains("client_ip=10.1.2.3")
                .contains("(hour 10, wed)")
                .contains("search_path: \"$user\", public  (\"$user\" assumed not to exist)")
                .contains("statement 1: select, parsed, fingerprint ")
                .contains("  tables:     payments.customers (select)")
                .contains("  columns:    payments.customers.email (projection), payments.customers.id (filter)")
                .containsPattern("select on payments\\.customers +allowed by .*policy\\.pgpolicy:7")
                .containsPattern("filter on column payments\\.customers\\.id +no allow needed")
                .contains("decision: ALLOW")
                .containsPattern("masks: +payments\\.customers\\.email with email\\(\\)")
                .contains("queries 20 per second per user")
                .contains("rows 10000 per query")
                .contains("idle_in_transaction 1m")
                .contains("audit:   statements");
        assertNothingAlarming(run);
    }

    @Test
    void textNamesTheDenyingRuleAndItsReason() {
        CommandRun run = CommandRun.of("explain", "--policies", EXAMPLE,
                "--as", "user=payments_svc,client_ip=10.20.1.1", "DROP TABLE payments.orders");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out())
                .containsPattern("ddl on payments\\.orders +denied by no-ddl")
                .contains("decision: DENY")
                .contains("  rules:   no-ddl")
                .contains("  reason:  schema changes go through migrations");
    }

    @Test
    void jsonIsOneObjectOfTheDocumentedShape() throws IOException {
        CommandRun run = CommandRun.of("explain", "--policies", EXAMPLE, "--as", ANALYST, "--json",
                "SELECT email FROM payments.customers WHERE id = 1");

        assertThat(run.exitCode()).as(run.all()).isZero();
        assertThat(run.out().strip().lines()).hasSize(1);
        JsonNode root = JSON.readTree(run.out());
        assertThat(fieldNames(root)).startsWith("decision", "rules", "reason", "statements", "masks");
        assertThat(root.get("decision").asText()).isEqualTo("allow");
        assertThat(root.get("rules").get(0).asText()).endsWith("policy.pgpolicy:7");
        assertThat(root.get("reason").isNull()).isTrue();

        JsonNode statement = root.get("statements").get(0);
        assertThat(statement.get("kind").asText()).isEqualTo("select");
        assertThat(statement.get("fingerprint").asText()).isNotBlank();
        assertThat(statement.get("parsed").asBoolean()).isTrue();
        assertThat(statement.get("tables").toString())
                .isEqualTo("[{\"name\":\"payments.customers\",\"action\":\"select\"}]");
        assertThat(statement.get("functions").toString()).isEqualTo("[]");
        assertThat(statement.get("columns").toString()).isEqualTo(
                "[{\"name\":\"payments.customers.email\",\"clause\":\"projection\"},"
                        + "{\"name\":\"payments.customers.id\",\"clause\":\"filter\"}]");

        JsonNode mask = root.get("masks").get(0);
        assertThat(mask.get("column").asText()).isEqualTo("payments.customers.email");
        assertThat(mask.get("function").asText()).isEqualTo("email");
        assertThat(root.get("audit").asText()).isEqualTo("statements");
    }

    @Test
    void jsonResolvesUnqualifiedNamesWithTheSearchPath() throws IOException {
        CommandRun byDefault = CommandRun.of("explain", "--policies", EXAMPLE, "--as", ANALYST, "--json",
                "SELECT email FROM customers");
        JsonNode root = JSON.readTree(byDefault.out());
        assertThat(root.get("statements").get(0).get("tables").get(0).get("name").asText()).isEqualTo("public.customers");
        assertThat(root.get("decision").asText()).isEqualTo("deny");
        assertThat(root.get("reason").asText()).contains("no allow rule covers select on public.customers");

        CommandRun withPath = CommandRun.of("explain", "--policies", EXAMPLE, "--as", ANALYST + ",search_path=payments",
                "--json", "SELECT email FROM customers");
        JsonNode resolved = JSON.readTree(withPath.out());
        assertThat(resolved.get("statements").get(0).get("tables").get(0).get("name").asText())
                .isEqualTo("payments.customers");
        assertThat(resolved.get("decision").asText()).isEqualTo("allow");
    }

    @Test
    void jsonForSeveralStatementsAndGuards() throws IOException {
        CommandRun run = CommandRun.of("explain", "--policies", EXAMPLE, "--as", "user=payments_svc,client_ip=10.20.1.1",
                "--json", "SELECT id FROM payments.orders WHERE id = 1 OR 1=1; DELETE FROM payments.orders");
        JsonNode root = JSON.readTree(run.out());

        assertThat(root.get("decision").asText()).isEqualTo("deny");
        assertThat(root.get("statements")).hasSize(2);
        assertThat(root.get("rules").toString()).contains("guard.stacked_statements").contains("guard.tautology");
        assertThat(root.get("statements").get(1).get("tables").get(0).get("action").asText()).isEqualTo("delete");
    }

    @Test
    void everySessionAttributeOfAsIsUsed() throws IOException {
        Files.writeString(dir.resolve("p.pgpolicy"), """
                role all_of_them = user == "u" and db_user == "svc_ro" and database == "shop"
                    and application_name == "psql" and "g2" in groups and client_ip in 10.0.0.0/8
                    and auth == "cert" and tls and cert_cn == "u.example" and hour == 23 and weekday == "sun";
                allow all_of_them select on shop.orders;
                """);
        String as = "user=u,db_user=svc_ro,database=shop,app=psql,groups=g1|g2,client_ip=10.1.1.1,auth=cert,"
                + "tls=true,cert_cn=u.example,time=2026-03-08T23:30:00Z";
        CommandRun allowed = CommandRun.of("explain", "--policies", dir.toString(), "--as", as, "--json",
                "SELECT id FROM shop.orders");
        assertThat(JSON.readTree(allowed.out()).get("decision").asText()).as(allowed.all()).isEqualTo("allow");

        CommandRun withoutTls = CommandRun.of("explain", "--policies", dir.toString(), "--as",
                as.replace("tls=true", "tls=false"), "--json", "SELECT id FROM shop.orders");
        assertThat(JSON.readTree(withoutTls.out()).get("decision").asText()).isEqualTo("deny");
    }

    @Test
    void aBadAsOptionIsAUsageError() {
        CommandRun run = CommandRun.of("explain", "--policies", EXAMPLE, "--as", "user=ana,colour=blue", "SELECT 1");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--as: unknown attribute 'colour'");

        CommandRun badTime = CommandRun.of("explain", "--policies", EXAMPLE, "--as", "time=yesterday", "SELECT 1");
        assertThat(badTime.exitCode()).isEqualTo(2);
        assertThat(badTime.err()).contains("--as: time must be ISO-8601");
        assertNothingAlarming(badTime);
    }

    @Test
    void aBrokenPolicySetPrintsItsDiagnosticsAndExitsOne() throws IOException {
        Files.writeString(dir.resolve("p.pgpolicy"), "allow ghost select;\n");
        CommandRun run = CommandRun.of("explain", "--policies", dir.toString(), "SELECT 1");

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).contains(dir.resolve("p.pgpolicy") + ":1:7: error: unknown role 'ghost'");
        assertNothingAlarming(run);
    }

    @Test
    void unparsableSqlIsExplainedAsUnparsed() throws IOException {
        CommandRun run = CommandRun.of("explain", "--policies", EXAMPLE, "--as", ANALYST, "--json",
                "SELECT FROM payments.customers WHERE ((");
        JsonNode root = JSON.readTree(run.out());
        assertThat(root.get("statements").get(0).get("parsed").asBoolean()).isFalse();
        assertThat(root.get("decision").asText()).isEqualTo("deny");
        assertThat(root.get("rules").toString()).contains("guard.unparsed");
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
