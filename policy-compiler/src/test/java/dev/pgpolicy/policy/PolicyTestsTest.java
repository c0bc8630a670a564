package dev.pgpolicy.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.lang.Diagnostic;
import dev.pgpolicy.lang.ParsedTests;
import dev.pgpolicy.lang.PolicyParser;
import dev.pgpolicy.lang.TestQuery;
import dev.pgpolicy.sql.Action;
import dev.pgpolicy.sql.Clause;
import dev.pgpolicy.sql.Heuristic;
import dev.pgpolicy.sql.QueryAnalysis;
import dev.pgpolicy.sql.StatementKind;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The .pgtest semantics, with the analyser's facts written by hand for each query. */
class PolicyTestsTest {

    private static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");
    private static final PolicySet EXAMPLE = Policies.compile(Policies.resource("language-example.pgpolicy"));

    private static List<TestQuery> queries(String text) {
        ParsedTests parsed = PolicyParser.parseTests("t.pgtest", text);
        assertThat(parsed.diagnostics()).isEmpty();
        assertThat(PolicyTests.check(parsed.ast())).isEmpty();
        return parsed.ast().cases().get(0).queries();
    }

    private static List<String> run(TestQuery query, QueryAnalysis facts) {
        SessionContext session = PolicyTests.session(query.session(), NOW, ZoneOffset.UTC);
        Decision decision = EXAMPLE.evaluate(session, facts, SearchPathResolver.defaultPath());
        return PolicyTests.failures(query, decision).stream().map(PolicyTests.Failure::toString).toList();
    }

    @Test
    void languageExampleTestPasses() {
        List<TestQuery> queries = queries(Policies.resource("language-example.pgtest"));
        assertThat(run(queries.get(0), Facts.of(StatementKind.SELECT).table("payments.customers", Action.SELECT)
                .column("payments.customers", "email", Clause.PROJECTION)
                .column("payments.customers", "id", Clause.FILTER).query())).isEmpty();
        assertThat(run(queries.get(1), Facts.of(StatementKind.SELECT).table("payments.customers", Action.SELECT)
                .column("payments.customers", "id", Clause.PROJECTION)
                .column("payments.customers", "ssn", Clause.FILTER).query())).isEmpty();
    }

    @Test
    void unmetExpectationsAreReportedWithTheirPositions() {
        List<TestQuery> queries = queries("""
                test "wrong" {
                  as user "ana" groups ("bi_readers") at "2026-03-04T10:00:00Z";
                  query "SELECT email FROM payments.customers";
                  expect deny by "no-ssn-filter";
                  expect mask payments.customers.email with null;
                  expect mask customers.ssn with redact("xxx");
                  expect warn tautology;
                  query "DROP TABLE payments.orders";
                  expect allow;
                }
                """);
        assertThat(run(queries.get(0), Facts.of(StatementKind.SELECT).table("payments.customers", Action.SELECT)
                .column("payments.customers", "email", Clause.PROJECTION).finding(Heuristic.TAUTOLOGY).query()))
                .containsExactly(
                        "t.pgtest:4:3: expected deny by \"no-ssn-filter\", got deny by guard.tautology (guard tautology:"
                                + " an always-true OR branch in a condition)",
                        "t.pgtest:5:3: expected mask payments.customers.email with null, got email()",
                        "t.pgtest:6:3: expected mask customers.ssn with redact(\"xxx\"), got redact(\"***-**-****\")",
                        "t.pgtest:7:3: expected warn tautology, got findings [tautology=deny]");
        assertThat(run(queries.get(1), Facts.of(StatementKind.DDL).table("payments.orders", Action.DDL).query()))
                .containsExactly("t.pgtest:9:3: expected allow, got deny by no-ddl (schema changes go through migrations)");
    }

    @Test
    void defaultsOfTheTestSession() {
        TestQuery query = queries("test \"d\" { query \"SELECT 1\"; expect allow; }").get(0);
        SessionContext session = PolicyTests.session(query.session(), NOW, ZoneOffset.UTC);
        assertThat(session.user()).isEmpty();
        assertThat(session.groups()).isEmpty();
        assertThat(session.clientIp().getHostAddress()).isEqualTo("127.0.0.1");
        assertThat(session.time()).isEqualTo(NOW);
    }

    @Test
    void unknownNamesInExpectationsAreErrors() {
        ParsedTests parsed = PolicyParser.parseTests("t.pgtest", """
                test "typos" { query "SELECT 1"; expect warn tautologie; expect mask a.b.c with scramble; expect mask c with null; }
                """);
        assertThat(PolicyTests.check(parsed.ast())).extracting(Diagnostic::toString).containsExactly(
                "t.pgtest:1:46: error: unknown heuristic 'tautologie'; did you mean 'tautology'?",
                "t.pgtest:1:81: error: unknown mask function 'scramble'",
                "t.pgtest:1:103: error: a masked column is TABLE.COLUMN or SCHEMA.TABLE.COLUMN");
    }
}
