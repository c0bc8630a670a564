package dev.pgpolicy.proxy.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.sql.Heuristic;
import dev.pgpolicy.sql.LexedStatement;
import dev.pgpolicy.sql.Normalizer;
import dev.pgpolicy.sql.QueryAnalysis;
import dev.pgpolicy.sql.SimpleStatementAnalyzer;
import dev.pgpolicy.sql.SqlAnalyzer;
import dev.pgpolicy.sql.StatementClassifier;
import dev.pgpolicy.sql.StatementFacts;
import dev.pgpolicy.sql.StatementKind;
import dev.pgpolicy.sql.StatementSplitter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fast path ({@link SimpleStatementAnalyzer}) against the full JSqlParser path: wherever the
 * fast path answers, its facts equal the full path's, record for record; it answers for the
 * common OLTP shapes (so a fast path that never fires fails here); and it declines the near
 * misses a careless reader of tokens would get wrong.
 */
class SimpleStatementEquivalenceTest {
    private static final Logger LOG = LoggerFactory.getLogger(SimpleStatementEquivalenceTest.class);

    /** pgbench's built-in scripts (tpcb-like, simple-update, select-only), as -M simple and -M extended send them. */
    private static final List<String> PGBENCH = List.of(
            "UPDATE pgbench_accounts SET abalance = abalance + -1234 WHERE aid = 56789",
            "SELECT abalance FROM pgbench_accounts WHERE aid = 56789",
            "UPDATE pgbench_tellers SET tbalance = tbalance + 4321 WHERE tid = 7",
            "UPDATE pgbench_branches SET bbalance = bbalance + 4321 WHERE bid = 1",
            "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (7, 1, 56789, 4321, CURRENT_TIMESTAMP)",
            "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2",
            "SELECT abalance FROM pgbench_accounts WHERE aid = $1",
            "UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2",
            "UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2",
            "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)");

    /** Shapes an OLTP application sends all day; the fast path must answer every one. */
    private static final List<String> COMMON = List.of(
            "SELECT abalance AS b17 FROM pgbench_accounts WHERE aid = 12345",
            "SELECT id, name FROM customers",
            "SELECT * FROM customers WHERE id = 42",
            "select ID, Name from CUSTOMERS where EMAIL like '%@example.com'",
            "SELECT c.id, c.email FROM public.customers c WHERE c.id = $1 AND c.name IS NOT NULL",
            "SELECT id FROM orders AS o WHERE o.status IN ('paid', 'shipped') AND o.total BETWEEN 10 AND 20",
            "SELECT id, total FROM orders WHERE customer_id = $1 ORDER BY created_at DESC, id LIMIT 20 OFFSET $2",
            "SELECT * FROM orders WHERE id = $1 FOR UPDATE",
            "SELECT * FROM orders WHERE id = $1 FOR SHARE SKIP LOCKED",
            "SELECT id FROM orders WHERE status = 'new' OR customer_id = $1",
            "SELECT id FROM orders WHERE NOT (status = 'paid' OR total > 100) AND customer_id <> 3",
            "SELECT 1",
            "SELECT \"id\", \"name\" FROM \"customers\" WHERE \"id\" = $1",
            "SELECT name, type, data, version, comment, level FROM items WHERE key = $1",
            "INSERT INTO orders (customer_id, status, total) VALUES ($1, 'new', 10.5) RETURNING id",
            "INSERT INTO orders (customer_id, status) VALUES (1, 'new'), (2, 'paid'), (3, DEFAULT)",
            "UPDATE orders SET status = 'paid', total = total * 2 WHERE id = $1 RETURNING id, status",
            "UPDATE public.customers c SET name = $1 WHERE c.id = $2",
            "DELETE FROM orders WHERE id = $1",
            "DELETE FROM orders o WHERE o.status = 'cancelled' AND o.created_at < $1 RETURNING o.id");

    /** Near misses: each differs from a common shape by what the fast path must leave to the parser. */
    private static final List<String> NEAR_MISSES = List.of(
            "SELECT id FROM customers WHERE lower(email) = $1",
            "SELECT id FROM customers WHERE id = $1 OR 1=1",
            "SELECT id FROM customers WHERE id = $1 OR 'a' = 'a'",
            "SELECT id FROM customers WHERE id = $1 OR id = id",
            "SELECT id FROM customers WHERE id = $1 OR id + 1 = id + 2",
            "SELECT id FROM customers WHERE id = $1 OR true",
            "SELECT id FROM customers WHERE id = $1 OR NOT (2 > 1)",
            "SELECT id FROM customers WHERE name = 'x' -- ' or 1=1",
            "SELECT id FROM customers WHERE name = 'x' /* trailing */",
            "SELECT id FROM customers WHERE name = 'x'/*",
            "SELECT \"Id\" FROM customers",
            "SELECT \"a.b\" FROM customers",
            "SELECT \"select\" FROM customers",
            "SELECT id FROM \"Customers\"",
            "SELECT c.id FROM customers c, orders o WHERE o.customer_id = c.id",
            "SELECT id FROM customers WHERE id IN (SELECT customer_id FROM orders)",
            "SELECT * FROM customers WHERE id = (SELECT max(customer_id) FROM orders)",
            "SELECT * FROM customers WHERE EXISTS (SELECT 1 FROM orders WHERE orders.customer_id = customers.id)",
            "SELECT id FROM customers WHERE name = $$x$$",
            "SELECT id FROM customers WHERE name = $tag$x' OR 1=1 --$tag$",
            "SELECT id FROM customers WHERE name = E'it\\'s'",
            "SELECT id FROM customers WHERE name = U&'d\\0061t'",
            "SELECT id FROM customers WHERE id = $1::int",
            "SELECT CAST(id AS text) FROM customers",
            "SELECT id FROM customers c JOIN orders o ON o.customer_id = c.id",
            "WITH x AS (SELECT id FROM customers) SELECT id FROM x",
            "SELECT id FROM customers UNION SELECT NULL",
            "SELECT id FROM customers UNION SELECT usename FROM pg_user",
            "SELECT usename FROM pg_user",
            "SELECT relname FROM pg_catalog.pg_class WHERE oid = $1",
            "SELECT id FROM customers WHERE name = current_setting('data_directory')",
            "SELECT pg_sleep(1)",
            "SELECT id FROM customers WHERE id = $1 AND pg_sleep(5) IS NULL",
            "SELECT DISTINCT id FROM customers",
            "SELECT id, count(*) FROM orders GROUP BY id",
            "SELECT id FROM customers c WHERE x.id = 1",
            "SELECT id FROM s.customers WHERE s.customers.id = 1",
            "SELECT id FROM customers partition WHERE id = 1",
            "SELECT id FROM customers WHERE id = ANY($1)",
            "SELECT id FROM customers WHERE id = $1 FOR UPDATE OF customers",
            "SELECT id FROM customers WHERE id = $1 FOR NO KEY UPDATE",
            "SELECT id INTO copy_of_customers FROM customers",
            "SELECT id FROM ONLY customers",
            "SELECT id FROM customers TABLESAMPLE SYSTEM (10)",
            "INSERT INTO orders (customer_id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET total = excluded.total",
            "INSERT INTO orders (customer_id) SELECT id FROM customers",
            "INSERT INTO orders (customer_id) VALUES (nextval('s'))",
            "INSERT INTO orders DEFAULT VALUES",
            "UPDATE orders SET total = (SELECT max(total) FROM orders) WHERE id = 1",
            "UPDATE orders o SET total = 1 FROM customers c WHERE c.id = o.customer_id",
            "UPDATE orders SET (status, total) = ('paid', 1) WHERE id = 1",
            "DELETE FROM orders USING customers WHERE customers.id = orders.customer_id",
            "DELETE FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE name = $1)",
            "EXPLAIN SELECT id FROM customers",
            "TABLE customers",
            "(SELECT id FROM customers)",
            "VALUES (1, 2)",
            "SELECT id FROM customers WHERE id = 1 OR id = 2 OR name LIKE name");

    private static SqlAnalyzer fast;
    private static SqlAnalyzer full;

    @BeforeAll
    static void analyzers() {
        // The budget is not under test; a loaded machine must not turn parses into timeouts.
        SqlAnalyzer.Settings settings = SqlAnalyzer.Settings.defaults().withBudget(Duration.ofSeconds(60));
        fast = new SqlAnalyzer(settings);
        full = new SqlAnalyzer(settings.withSimpleFastPath(false));
    }

    @AfterAll
    static void close() {
        fast.close();
        full.close();
    }

    @Test
    void fastPathAnswersPgbenchAndCommonShapesWithTheFullPathsFacts() {
        List<String> failures = new ArrayList<>();
        for (String statement : concat(PGBENCH, COMMON)) {
            if (compare(statement, failures) == 0) {
                failures.add("the fast path declined a common shape: " + statement);
            }
        }
        assertThat(failures).isEmpty();
        QueryAnalysis analysis = fast.analyze("SELECT abalance FROM pgbench_accounts WHERE aid = 1");
        assertThat(analysis.statements().get(0).tables()).hasSize(1);
    }

    /**
     * Stacked statements are a property of the message, added by the analyser after each
     * statement's facts: the fast path answers the plain SELECT and the finding is still there.
     */
    @Test
    void stackedStatementsKeepTheirFindingWhenTheFastPathAnswersOne() {
        List<String> failures = new ArrayList<>();
        String message = "SELECT id FROM customers WHERE id = 1; DROP TABLE customers";
        assertThat(compare(message, failures)).isEqualTo(1);
        assertThat(failures).isEmpty();
        assertThat(fast.analyze(message).findings()).contains(Heuristic.STACKED_STATEMENTS);
    }

    @Test
    void fastPathDeclinesNearMisses() {
        List<String> failures = new ArrayList<>();
        for (String statement : NEAR_MISSES) {
            if (compare(statement, failures) > 0) {
                failures.add("the fast path answered a near miss: " + statement);
            }
        }
        assertThat(failures).isEmpty();
    }

    @Test
    void fastPathAgreesWithTheFullPathOnTheAccuracyCorpus() throws IOException {
        List<String> failures = new ArrayList<>();
        List<String> corpus = corpusEntries();
        assertThat(corpus).hasSizeGreaterThanOrEqualTo(300);
        int answered = 0;
        for (String statement : corpus) {
            answered += compare(statement, failures) > 0 ? 1 : 0;
        }
        LOG.info("fast path answered {} of {} corpus statements", answered, corpus.size());
        assertThat(failures).isEmpty();
        // The corpus opens with plain single-table reads; a fast path that never fires fails here.
        assertThat(answered).isGreaterThanOrEqualTo(10);
    }

    @Test
    void fastPathAgreesWithTheFullPathOnGeneratedStatements() {
        List<String> failures = new ArrayList<>();
        int answered = 0;
        List<RandomQueries.Generated> generated = new RandomQueries(20261121L).generate(1000);
        for (RandomQueries.Generated statement : generated) {
            answered += compare(statement.sql(), failures) > 0 ? 1 : 0;
        }
        LOG.info("fast path answered {} of {} generated statements", answered, generated.size());
        assertThat(failures).isEmpty();
    }

    /**
     * Compares both paths on one message. Each statement the fast path answers must have the
     * full path's tables, columns, functions, kind, normalized text and fingerprint, and no
     * finding the full path lacks (the analyser adds the token heuristics to both afterwards);
     * the whole analysis, with those heuristics, must be equal record for record.
     *
     * @return how many statements of the message the fast path answered
     */
    private static int compare(String sql, List<String> failures) {
        int answered = 0;
        QueryAnalysis fullAnalysis = full.analyze(sql);
        List<LexedStatement> statements = StatementSplitter.split(sql);
        for (int i = 0; i < statements.size(); i++) {
            LexedStatement statement = statements.get(i);
            StatementKind kind = StatementClassifier.classify(statement);
            String normalized = Normalizer.normalize(statement);
            Optional<StatementFacts> simple = SimpleStatementAnalyzer.analyze(statement, kind,
                    Normalizer.fingerprint(normalized), normalized, full.settings().maxParseLength());
            if (simple.isEmpty()) {
                continue;
            }
            answered++;
            StatementFacts expected = fullAnalysis.statements().get(i);
            StatementFacts actual = simple.get();
            StatementFacts comparable = new StatementFacts(actual.kind(), actual.fingerprint(), actual.normalized(),
                    actual.parsed(), actual.tables(), actual.columns(), actual.functions(), expected.findings());
            if (!comparable.equals(expected) || !expected.findings().containsAll(actual.findings())) {
                failures.add(sql + "\n    fast: " + actual + "\n    full: " + expected);
            }
        }
        QueryAnalysis fastAnalysis = fast.analyze(sql);
        if (!fastAnalysis.equals(fullAnalysis)) {
            failures.add(sql + "\n    fast analyser: " + fastAnalysis + "\n    full analyser: " + fullAnalysis);
        }
        return answered;
    }

    private static List<String> concat(List<String> first, List<String> second) {
        List<String> all = new ArrayList<>(first);
        all.addAll(second);
        return all;
    }

    private static List<String> corpusEntries() throws IOException {
        String corpus;
        try (InputStream in = SimpleStatementEquivalenceTest.class.getResourceAsStream("/sql-corpus/corpus.sql")) {
            if (in == null) {
                throw new IOException("missing test resource sql-corpus/corpus.sql");
            }
            corpus = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        List<String> entries = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : corpus.split("\n", -1)) {
            if (line.equals("----")) {
                addEntry(entries, current);
                current.setLength(0);
            } else if (!(current.length() == 0 && line.startsWith("-- "))) {
                current.append(line).append('\n');
            }
        }
        addEntry(entries, current);
        return entries;
    }

    private static void addEntry(List<String> entries, StringBuilder entry) {
        String text = entry.toString().strip();
        if (!text.isEmpty()) {
            entries.add(text);
        }
    }
}
