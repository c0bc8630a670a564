package dev.pgpolicy.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class SqlAnalyzerTest {

    @Test
    void trafficThatDiffersOnlyInConstantsReachesTheParserOnce() {
        try (SqlAnalyzer analyzer = TestAnalyzers.generousBudget()) {
            StatementFacts first = analyzer.analyze("SELECT abalance FROM pgbench_accounts WHERE aid = 1").statements().get(0);
            long parses = analyzer.parses();
            for (int aid = 2; aid < 50; aid++) {
                StatementFacts again = analyzer.analyze("select abalance from pgbench_accounts where aid = " + aid
                        + " /* request " + aid + " */").statements().get(0);
                assertThat(again).isEqualTo(first);
            }
            assertThat(analyzer.parses()).isEqualTo(parses);
            assertThat(analyzer.cachedStatements()).isEqualTo(1);
        }
    }

    @Test
    void heuristicsThatDependOnConstantsOrCommentsAreNotTakenFromTheCache() {
        try (SqlAnalyzer analyzer = TestAnalyzers.generousBudget()) {
            StatementFacts clean = analyzer.analyze("SELECT * FROM users WHERE name = 'bob'").statements().get(0);
            StatementFacts injected = analyzer.analyze("SELECT * FROM users WHERE name = 'bob' --'").statements().get(0);
            assertThat(injected.fingerprint()).isEqualTo(clean.fingerprint());
            assertThat(clean.findings()).doesNotContain(Heuristic.COMMENT_AFTER_LITERAL);
            assertThat(injected.findings()).contains(Heuristic.COMMENT_AFTER_LITERAL);
            StatementFacts harmless = analyzer.analyze("SELECT current_setting('TimeZone')").statements().get(0);
            StatementFacts probe = analyzer.analyze("SELECT current_setting('data_directory')").statements().get(0);
            assertThat(harmless.findings()).doesNotContain(Heuristic.CATALOG_PROBE);
            assertThat(probe.findings()).contains(Heuristic.CATALOG_PROBE);
        }
    }

    @Test
    void theSessionsStandardConformingStringsDecidesWhatIsAString() {
        // With the setting off, the server reads "'a\\' || '" as one string and runs the subquery;
        // with it on, the subquery is inside the second string.
        String sql = "SELECT 'a\\' || ' , (SELECT password_hash FROM users) , '";
        try (SqlAnalyzer analyzer = TestAnalyzers.generousBudget()) {
            StatementFacts on = analyzer.analyze(sql, true).statements().get(0);
            StatementFacts off = analyzer.analyze(sql, false).statements().get(0);
            assertThat(on.tables()).isEmpty();
            assertThat(off.parsed()).isFalse();
            String closed = sql + "'";
            StatementFacts offClosed = analyzer.analyze(closed, false).statements().get(0);
            assertThat(offClosed.parsed()).isTrue();
            assertThat(offClosed.tables()).extracting(t -> t.table().name()).containsExactly("users");
        }
    }

    @Test
    void malformedStatementsNeverUseOrFillTheCache() {
        try (SqlAnalyzer analyzer = TestAnalyzers.generousBudget()) {
            assertThat(analyzer.analyze("SELECT 'x' FROM t").statements().get(0).parsed()).isTrue();
            // Same normalized text, but the string never ends: the server would reject it.
            StatementFacts broken = analyzer.analyze("SELECT 'x FROM t").statements().get(0);
            assertThat(broken.parsed()).isFalse();
            assertThat(broken.findings()).contains(Heuristic.UNPARSED);
            assertThat(analyzer.analyze("SELECT 'x' FROM t").statements().get(0).parsed()).isTrue();
        }
    }

    @Test
    void aStatementOverItsBudgetIsUnparsedAndNotCached() {
        SqlAnalyzer.Settings tiny = SqlAnalyzer.Settings.defaults().withBudget(Duration.ofNanos(1));
        try (SqlAnalyzer analyzer = new SqlAnalyzer(tiny)) {
            StringBuilder sql = new StringBuilder("SELECT * FROM t WHERE a IN (SELECT b FROM u WHERE c = 1");
            for (int i = 0; i < 200; i++) {
                sql.append(" AND c").append(i).append(" = (SELECT max(d) FROM v").append(i).append(")");
            }
            sql.append(")");
            StatementFacts facts = analyzer.analyze(sql.toString()).statements().get(0);
            assertThat(facts.parsed()).isFalse();
            assertThat(facts.kind()).isEqualTo(StatementKind.SELECT);
            assertThat(facts.findings()).contains(Heuristic.UNPARSED);
            assertThat(analyzer.cachedStatements()).isZero();
        }
    }

    @Test
    void longConstantListsAndBatchesStayWithinTheParseLimit() {
        StringBuilder in = new StringBuilder("SELECT * FROM orders WHERE id IN (");
        StringBuilder values = new StringBuilder("INSERT INTO events (kind, payload) VALUES ");
        for (int i = 0; i < 100_000; i++) {
            in.append(i == 0 ? "" : ", ").append(i);
            values.append(i == 0 ? "" : ", ").append("('k").append(i).append("', '{}')");
        }
        in.append(")");
        try (SqlAnalyzer analyzer = TestAnalyzers.generousBudget()) {
            StatementFacts lookup = analyzer.analyze(in.toString()).statements().get(0);
            assertThat(lookup.parsed()).isTrue();
            assertThat(lookup.normalized()).isEqualTo("select * from orders where id in(?)");
            StatementFacts batch = analyzer.analyze(values.toString()).statements().get(0);
            assertThat(batch.parsed()).isTrue();
            assertThat(batch.tables()).containsExactly(new TableAccess(ObjectName.unqualified("events"), Action.INSERT));
            assertThat(batch.normalized()).isEqualTo("insert into events(kind, payload) values(?)");
        }
    }

    @Test
    void deepNestingIsRefusedBeforeParsing() {
        try (SqlAnalyzer analyzer = TestAnalyzers.generousBudget()) {
            String sql = "SELECT " + "(".repeat(500) + "1" + ")".repeat(500) + " FROM t";
            long before = analyzer.parses();
            assertThat(analyzer.analyze(sql).statements().get(0).parsed()).isFalse();
            assertThat(analyzer.parses()).isEqualTo(before);
        }
    }

    @Test
    void emptyMessagesAreOneEmptyStatement() {
        try (SqlAnalyzer analyzer = TestAnalyzers.generousBudget()) {
            QueryAnalysis analysis = analyzer.analyze("  ;; -- nothing\n");
            assertThat(analysis.statements()).singleElement().satisfies(s -> {
                assertThat(s.kind()).isEqualTo(StatementKind.EMPTY);
                assertThat(s.parsed()).isTrue();
            });
            assertThat(analysis.findings()).isEmpty();
        }
    }

    @Test
    void eachStatementOfAMessageIsAnalysedInOrder() {
        try (SqlAnalyzer analyzer = TestAnalyzers.generousBudget()) {
            QueryAnalysis analysis = analyzer.analyze("BEGIN; UPDATE a SET x = 1; SELECT * FROM b; COMMIT");
            assertThat(analysis.statements()).extracting(StatementFacts::kind).containsExactly(StatementKind.TRANSACTION,
                    StatementKind.UPDATE, StatementKind.SELECT, StatementKind.TRANSACTION);
            assertThat(analysis.findings()).containsExactly(Heuristic.STACKED_STATEMENTS);
        }
    }

    @Test
    void concurrentCallersGetTheSameFacts() throws Exception {
        List<String> statements = List.of(
                "SELECT c.email FROM customers c JOIN orders o ON o.customer_id = c.id WHERE o.total > 5",
                "WITH d AS (DELETE FROM t WHERE a = 1 RETURNING *) INSERT INTO log SELECT * FROM d",
                "UPDATE orders SET status = 'x' FROM customers WHERE customers.id = orders.customer_id",
                "COPY (SELECT * FROM payments.cards) TO STDOUT");
        List<StatementFacts> expected = new ArrayList<>();
        try (SqlAnalyzer reference = TestAnalyzers.generousBudget()) {
            for (String sql : statements) {
                expected.add(reference.analyze(sql).statements().get(0));
            }
        }
        ExecutorService callers = Executors.newFixedThreadPool(8);
        try (SqlAnalyzer analyzer = TestAnalyzers.generousBudget()) {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < 400; i++) {
                int index = i % statements.size();
                results.add(callers.submit(() -> analyzer.analyze(statements.get(index)).statements().get(0)
                        .equals(expected.get(index))));
            }
            for (Future<Boolean> result : results) {
                assertThat(result.get()).isTrue();
            }
        } finally {
            callers.shutdownNow();
        }
    }

    @Test
    void neverThrowsOnArbitraryInput() {
        Random random = new Random(42);
        String[] pieces = {"SELECT", "FROM", "WHERE", "(", ")", "'", "\"", "$$", "$a$", ";", "--", "/*", "*/", "E'\\'",
            "U&'", "UESCAPE", "WITH", "AS", "INSERT", "INTO", "VALUES", "COPY", "TO", "PROGRAM", "t", "1", ",", "::",
            "OR", "1=1", "UNION", "NULL", "BEGIN", "ATOMIC", "END", "CREATE FUNCTION", "[", "]", "\u0000", "é", "?"};
        try (SqlAnalyzer analyzer = TestAnalyzers.generousBudget()) {
            for (int round = 0; round < 2000; round++) {
                StringBuilder sql = new StringBuilder();
                int length = random.nextInt(25);
                for (int i = 0; i < length; i++) {
                    sql.append(pieces[random.nextInt(pieces.length)]).append(random.nextBoolean() ? " " : "");
                }
                QueryAnalysis analysis = analyzer.analyze(sql.toString());
                assertThat(analysis.statements()).as("%s", sql).isNotEmpty();
            }
            assertThat(analyzer.analyze(null).statements()).isEmpty();
        }
    }

    @Test
    void theCheapAnalysisAnswersOnlyWithoutTheParserAndThenAsTheFullOneDoes() {
        String join = "SELECT o.amount FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.id = 7";
        String utility = "BEGIN; SET statement_timeout = 0; TRUNCATE audit.events";
        String simple = "SELECT abalance FROM pgbench_accounts WHERE aid = 12";
        String explained = "EXPLAIN SELECT o.amount FROM orders o JOIN customers c ON c.id = o.customer_id";
        try (SqlAnalyzer analyzer = TestAnalyzers.generousBudget()) {
            // A join needs JSqlParser: no answer, and the parser was not called.
            assertThat(analyzer.analyzeIfCheap(join, true)).isEmpty();
            assertThat(analyzer.analyzeIfCheap(explained, true)).isEmpty();
            assertThat(analyzer.parses()).isZero();
            // Read from tokens: answered at once, as the full analysis answers.
            assertThat(analyzer.analyzeIfCheap(simple, true)).contains(analyzer.analyze(simple));
            assertThat(analyzer.analyzeIfCheap(utility, true)).contains(analyzer.analyze(utility));
            // Once the parser has seen the join, its facts are cached: answered, the same analysis.
            QueryAnalysis full = analyzer.analyze(join.replace("7", "8"));
            long parses = analyzer.parses();
            assertThat(analyzer.analyzeIfCheap(join, true)).contains(full);
            assertThat(analyzer.parses()).isEqualTo(parses);
            // A multi-statement message with one statement needing the parser gets no answer at all.
            assertThat(analyzer.analyzeIfCheap(simple + "; " + explained.replace("amount", "id"), true)).isEmpty();
            // Beyond the length an event loop should lex, no answer either.
            String longText = "SELECT abalance FROM pgbench_accounts WHERE aid = 1"
                    + " ".repeat(SqlAnalyzer.CHEAP_ANALYSIS_MAX_LENGTH);
            assertThat(analyzer.analyzeIfCheap(longText, true)).isEmpty();
            assertThat(analyzer.analyzeIfCheap(null, true)).contains(analyzer.analyze(null));
        }
    }
}
