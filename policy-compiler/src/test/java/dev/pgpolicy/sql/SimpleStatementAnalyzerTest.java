package dev.pgpolicy.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The fast path's own answers, spelled out, and its place in the analyser: simple statements
 * never reach the parser, and switching the fast path off gives the same facts through it.
 * (SimpleStatementEquivalenceTest in the proxy module and SimpleStatementProperties in fuzz
 * compare the two paths over the accuracy corpus, generated statements and mutations.)
 */
class SimpleStatementAnalyzerTest {
    private static final ObjectName ACCOUNTS = ObjectName.unqualified("pgbench_accounts");
    private static final ObjectName ORDERS = new ObjectName("shop", "orders");

    private static Optional<StatementFacts> simple(String sql) {
        List<LexedStatement> statements = StatementSplitter.split(sql);
        assertThat(statements).as(sql).hasSize(1);
        LexedStatement statement = statements.get(0);
        String normalized = Normalizer.normalize(statement);
        return SimpleStatementAnalyzer.analyze(statement, StatementClassifier.classify(statement),
                Normalizer.fingerprint(normalized), normalized, 256 * 1024);
    }

    private static StatementFacts answered(String sql) {
        Optional<StatementFacts> facts = simple(sql);
        assertThat(facts).as("the fast path must answer: %s", sql).isPresent();
        assertThat(facts.get().parsed()).isTrue();
        assertThat(facts.get().functions()).isEmpty();
        assertThat(facts.get().findings()).isEmpty();
        return facts.get();
    }

    @Test
    void pgbenchSelect() {
        StatementFacts facts = answered("SELECT abalance FROM pgbench_accounts WHERE aid = $1");
        assertThat(facts.kind()).isEqualTo(StatementKind.SELECT);
        assertThat(facts.tables()).containsExactly(new TableAccess(ACCOUNTS, Action.SELECT));
        assertThat(facts.columns()).containsExactly(
                new ColumnUse(ACCOUNTS, "abalance", Clause.PROJECTION, false),
                new ColumnUse(ACCOUNTS, "aid", Clause.FILTER, true));
    }

    @Test
    void selectWithAliasOrderLimitAndLock() {
        StatementFacts facts = answered("select o.id, Status AS s, 1 from shop.orders o where o.total between $1 and 10 "
                + "and o.customer_id in (1, 2) or o.note is null order by o.created_at desc nulls last, 1 limit $2 "
                + "offset 5 for update skip locked");
        assertThat(facts.tables()).containsExactly(new TableAccess(ORDERS, Action.SELECT));
        assertThat(facts.columns()).containsExactly(
                new ColumnUse(ORDERS, "id", Clause.PROJECTION, false),
                new ColumnUse(ORDERS, "status", Clause.PROJECTION, false),
                new ColumnUse(ORDERS, "total", Clause.FILTER, true),
                new ColumnUse(ORDERS, "customer_id", Clause.FILTER, true),
                new ColumnUse(ORDERS, "note", Clause.FILTER, true),
                new ColumnUse(ORDERS, "created_at", Clause.FILTER, false));
    }

    @Test
    void updateInsertAndDeleteInTheWalkersOrder() {
        StatementFacts update = answered("UPDATE pgbench_accounts SET abalance = abalance + $1, filler = 'x' "
                + "WHERE aid = $2 RETURNING abalance");
        assertThat(update.tables()).containsExactly(new TableAccess(ACCOUNTS, Action.UPDATE));
        assertThat(update.columns()).containsExactly(
                new ColumnUse(ACCOUNTS, "abalance", Clause.ASSIGNMENT, false),
                new ColumnUse(ACCOUNTS, "abalance", Clause.PROJECTION, true),
                new ColumnUse(ACCOUNTS, "filler", Clause.ASSIGNMENT, false),
                new ColumnUse(ACCOUNTS, "aid", Clause.FILTER, true),
                new ColumnUse(ACCOUNTS, "abalance", Clause.RETURNING, false));

        StatementFacts insert = answered("INSERT INTO shop.orders (id, total) VALUES ($1, 1.5), (2, DEFAULT) RETURNING id");
        assertThat(insert.tables()).containsExactly(new TableAccess(ORDERS, Action.INSERT));
        assertThat(insert.columns()).containsExactly(
                new ColumnUse(ORDERS, "id", Clause.ASSIGNMENT, false),
                new ColumnUse(ORDERS, "total", Clause.ASSIGNMENT, false),
                new ColumnUse(ORDERS, "id", Clause.RETURNING, false));

        StatementFacts delete = answered("DELETE FROM shop.orders AS o WHERE NOT (o.id <> $1)");
        assertThat(delete.tables()).containsExactly(new TableAccess(ORDERS, Action.DELETE));
        assertThat(delete.columns()).containsExactly(new ColumnUse(ORDERS, "id", Clause.FILTER, true));
    }

    @Test
    void declinesWhatItCannotBeSureAbout() {
        for (String sql : List.of(
                "SELECT id FROM t WHERE lower(name) = $1",
                "SELECT id FROM t WHERE id = $1 OR 1 = 1",
                "SELECT id FROM t WHERE id = $1 OR id = id",
                "SELECT id FROM t WHERE a + 1 = a + 2",
                "SELECT id FROM t WHERE name = 'x' -- comment",
                "SELECT id FROM t WHERE name = E'x'",
                "SELECT id FROM t WHERE name = $$x$$",
                "SELECT id FROM t WHERE id = $1::int",
                "SELECT \"Id\" FROM t",
                "SELECT id FROM t, u",
                "SELECT id FROM t JOIN u ON u.id = t.id",
                "SELECT id FROM t WHERE id IN (SELECT id FROM u)",
                "SELECT id FROM t WHERE x.id = 1",
                "SELECT value FROM t",
                "SELECT id FROM pg_shadow",
                "SELECT id FROM t partition",
                "SELECT id FROM t WHERE name = 'x",
                "SELECT a",
                "INSERT INTO t (a) VALUES (b)",
                "INSERT INTO t (a) VALUES (1) ON CONFLICT DO NOTHING",
                "UPDATE t SET a = 1 FROM u WHERE u.id = t.id",
                "DELETE FROM t USING u WHERE u.id = t.id",
                "WITH w AS (SELECT 1) SELECT * FROM w",
                "SELECT 1 UNION SELECT 2")) {
            assertThat(simple(sql)).as("the fast path must decline: %s", sql).isEmpty();
        }
    }

    @Test
    void deepNestingIsBoundedAndLongNotRunsDoNotRecurse() {
        String nested = "SELECT id FROM t WHERE " + "(".repeat(17) + "id = 1" + ")".repeat(17);
        assertThat(simple(nested)).isEmpty();
        String shallow = "SELECT id FROM t WHERE " + "(".repeat(16) + "id = 1" + ")".repeat(16);
        assertThat(simple(shallow)).isPresent();
        String nots = "SELECT 1 FROM t WHERE " + "NOT ".repeat(50_000) + "id = 1";
        assertThat(simple(nots).orElseThrow().columns())
                .containsExactly(new ColumnUse(ObjectName.unqualified("t"), "id", Clause.FILTER, true));
    }

    @Test
    void aStatementTooDeepForTheParserIsNotAnsweredByTheFastPathEither() {
        SqlAnalyzer.Settings shallow = new SqlAnalyzer.Settings(1, 16, Duration.ofSeconds(60), 100, 256 * 1024, 1, true);
        try (SqlAnalyzer analyzer = new SqlAnalyzer(shallow)) {
            StatementFacts facts = analyzer.analyze("SELECT id FROM t WHERE (id IN (1, 2))").statements().get(0);
            assertThat(facts.parsed()).isFalse();
            assertThat(facts.findings()).contains(Heuristic.UNPARSED);
            assertThat(analyzer.simpleAnswers()).isZero();
        }
    }

    @Test
    void aStatementWhoseParserInputCouldBeTooLongIsDeclined() {
        String sql = "SELECT id FROM t WHERE id = 1";
        LexedStatement statement = StatementSplitter.split(sql).get(0);
        String normalized = Normalizer.normalize(statement);
        assertThat(SimpleStatementAnalyzer.analyze(statement, StatementKind.SELECT, Normalizer.fingerprint(normalized),
                normalized, 10)).isEmpty();
        assertThat(SimpleStatementAnalyzer.analyze(statement, StatementKind.SELECT, Normalizer.fingerprint(normalized),
                normalized, 1000)).isPresent();
    }

    @Test
    void theAnalyserAnswersSimpleStatementsWithoutTheParserAndTheFullPathAgrees() {
        String sql = "SELECT abalance FROM pgbench_accounts WHERE aid = 42";
        try (SqlAnalyzer fast = TestAnalyzers.generousBudget();
             SqlAnalyzer full = new SqlAnalyzer(SqlAnalyzer.Settings.defaults()
                     .withBudget(Duration.ofSeconds(60)).withSimpleFastPath(false))) {
            QueryAnalysis viaTokens = fast.analyze(sql);
            assertThat(fast.parses()).isZero();
            assertThat(fast.simpleAnswers()).isEqualTo(1);
            QueryAnalysis viaParser = full.analyze(sql);
            assertThat(full.parses()).isEqualTo(1);
            assertThat(full.simpleAnswers()).isZero();
            assertThat(viaTokens).isEqualTo(viaParser);
            // A statement outside the simple shapes still goes to the parser.
            fast.analyze("SELECT count(*) FROM pgbench_accounts");
            assertThat(fast.parses()).isEqualTo(1);
        }
    }
}
