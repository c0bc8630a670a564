package dev.pgpolicy.fuzz.sql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.sql.LexedStatement;
import dev.pgpolicy.sql.Normalizer;
import dev.pgpolicy.sql.QueryAnalysis;
import dev.pgpolicy.sql.SimpleStatementAnalyzer;
import dev.pgpolicy.sql.SqlAnalyzer;
import dev.pgpolicy.sql.StatementClassifier;
import dev.pgpolicy.sql.StatementFacts;
import dev.pgpolicy.sql.StatementKind;
import dev.pgpolicy.sql.StatementSplitter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;

/**
 * The fast path of SQL analysis ({@link SimpleStatementAnalyzer}) either declines or produces
 * exactly the full JSqlParser path's facts: for generated statements of the simple OLTP shapes,
 * and for the same statements after random token mutations that push them just outside those
 * shapes (a function call, a subquery, a comment after a literal, a dollar quote, a join, a key
 * word where a name was, a tautology). The unmutated statements must mostly be answered, so a
 * fast path that silently stopped firing fails the coverage check.
 */
class SimpleStatementProperties {
    private static final List<String> COLUMNS = List.of("id", "name", "status", "total", "customer_id", "aid",
            "abalance", "type", "data", "key", "created_at", "x1", "_t");
    /** Names that are key words somewhere: the fast path must decline or agree. */
    private static final List<String> ODD_COLUMNS = List.of("value", "date", "user", "position", "current_date",
            "\"Id\"", "\"id\"", "\"a b\"", "partition", "public", "time", "default");
    private static final List<String> TABLES = List.of("customers", "orders", "public.orders", "s.t",
            "pgbench_accounts", "pg_user", "pg_catalog.pg_class", "\"orders\"", "\"Orders\"");
    private static final List<String> VALUES = List.of("1", "-2", "'text'", "'it''s'", "$1", "$2", "NULL", "TRUE",
            "CURRENT_TIMESTAMP", "1.5e3", "0");
    private static final List<String> COMPARISONS = List.of("=", "<", ">", "<>", "!=", "<=", ">=");
    /** What a mutation inserts or substitutes: each one a step outside the simple shapes, or a harmless one. */
    private static final List<String> MUTATION_TOKENS = List.of("(", ")", ",", ".", "*", ";", "OR", "AND", "NOT",
            "1=1", "OR 1=1", "OR id = id", "'x' --", "'x' /* c */", "/* c */", "-- c\n", "$$d$$", "$q$d$q$", "E'x\\''",
            "::int", "\"Q\"", "lower(", "count(*)", "(SELECT 1)", "SELECT", "JOIN", "UNION SELECT NULL", "FROM",
            "WHERE", "pg_user", "pg_sleep(1)", "AS", "IN", "BETWEEN", "IS", "NULL", "LIMIT", "ORDER BY", "FOR UPDATE",
            "RETURNING *", "USING", "x", "t", "t.id", "$3", "'s'", "42", "+", "||", "DEFAULT", "ON CONFLICT DO NOTHING");

    private static SqlAnalyzer full;

    @BeforeContainer
    static void fullPath() {
        full = new SqlAnalyzer(SqlAnalyzer.Settings.defaults().withBudget(Duration.ofSeconds(60)).withSimpleFastPath(false));
    }

    @AfterContainer
    static void close() {
        full.close();
    }

    enum MutationKind { REPLACE, INSERT, DELETE, SWAP }

    record Mutation(MutationKind kind, int position, String token) {
        List<String> apply(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens);
            if (out.isEmpty()) {
                return out;
            }
            int at = position % out.size();
            switch (kind) {
                case REPLACE -> out.set(at, token);
                case INSERT -> out.add(at, token);
                case DELETE -> out.remove(at);
                case SWAP -> {
                    int other = (at + 1) % out.size();
                    String saved = out.get(at);
                    out.set(at, out.get(other));
                    out.set(other, saved);
                }
                default -> throw new AssertionError(kind);
            }
            return out;
        }
    }

    @Provide
    Arbitrary<String> simpleStatements() {
        return Arbitraries.oneOf(select(), insert(), update(), delete());
    }

    @Provide
    Arbitrary<String> mutatedStatements() {
        Arbitrary<Mutation> mutation = Combinators.combine(Arbitraries.of(MutationKind.class),
                Arbitraries.integers().between(0, 1000), Arbitraries.of(MUTATION_TOKENS)).as(Mutation::new);
        return Combinators.combine(simpleStatements(), mutation.list().ofMinSize(1).ofMaxSize(2)).as((sql, mutations) -> {
            List<String> tokens = new ArrayList<>(Arrays.asList(sql.split(" ")));
            for (Mutation each : mutations) {
                tokens = each.apply(tokens);
            }
            return String.join(" ", tokens);
        });
    }

    @Property(tries = 400, edgeCases = EdgeCasesMode.NONE)
    void simpleStatementsAreAnsweredWithTheFullPathsFacts(@ForAll("simpleStatements") String sql) {
        boolean answered = checkAgainstFullPath(sql);
        Statistics.label("fast path").collect(answered ? "answered" : "declined");
        // Odd names and catalog tables make some decline; most of these shapes must be answered.
        Statistics.label("fast path").coverage(coverage -> coverage.check("answered").percentage(p -> p >= 50.0));
    }

    @Property(tries = 600, edgeCases = EdgeCasesMode.NONE)
    void mutatedStatementsAreDeclinedOrAnsweredWithTheFullPathsFacts(@ForAll("mutatedStatements") String sql) {
        boolean answered = checkAgainstFullPath(sql);
        Statistics.label("fast path").collect(answered ? "answered" : "declined");
        // Some mutations keep the statement simple (a constant for a constant, a name for a name):
        // the property must have compared answered statements, not only declined ones.
        Statistics.label("fast path").coverage(coverage -> coverage.check("answered").count(count -> count >= 2));
    }

    /** @return whether the fast path answered any statement of the message */
    private static boolean checkAgainstFullPath(String sql) {
        QueryAnalysis expected = full.analyze(sql);
        List<LexedStatement> statements = StatementSplitter.split(sql);
        boolean answered = false;
        for (int i = 0; i < statements.size(); i++) {
            LexedStatement statement = statements.get(i);
            StatementKind kind = StatementClassifier.classify(statement);
            String normalized = Normalizer.normalize(statement);
            Optional<StatementFacts> simple = SimpleStatementAnalyzer.analyze(statement, kind,
                    Normalizer.fingerprint(normalized), normalized, full.settings().maxParseLength());
            if (simple.isEmpty()) {
                continue;
            }
            answered = true;
            StatementFacts fullFacts = expected.statements().get(i);
            StatementFacts fast = simple.get();
            // The analyser adds the token heuristics (comments, sleep calls, ...) to either path's facts.
            StatementFacts comparable = new StatementFacts(fast.kind(), fast.fingerprint(), fast.normalized(),
                    fast.parsed(), fast.tables(), fast.columns(), fast.functions(), fullFacts.findings());
            assertThat(comparable).as("fast path facts of %s", sql).isEqualTo(fullFacts);
            assertThat(fullFacts.findings()).as("findings of %s", sql).containsAll(fast.findings());
        }
        return answered;
    }

    // ---------------------------------------------------------------- generators

    private static Arbitrary<String> column() {
        return Arbitraries.frequencyOf(
                Tuple.of(12, Arbitraries.of(COLUMNS)),
                Tuple.of(1, Arbitraries.of(ODD_COLUMNS)),
                Tuple.of(2, Arbitraries.of(COLUMNS).map(c -> "t." + c)));
    }

    private static Arbitrary<String> table() {
        return Arbitraries.frequencyOf(
                Tuple.of(8, Arbitraries.of("customers", "orders", "pgbench_accounts")),
                Tuple.of(2, Arbitraries.of(TABLES)));
    }

    private static Arbitrary<String> alias() {
        // Qualified columns use "t.", so most statements bind t; the others test the mismatch.
        return Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.just(" t")),
                Tuple.of(2, Arbitraries.just(" AS t")),
                Tuple.of(1, Arbitraries.of("", " AS x", " u")));
    }

    private static Arbitrary<String> operand() {
        return Arbitraries.frequencyOf(
                Tuple.of(3, column()),
                Tuple.of(3, Arbitraries.of(VALUES)),
                Tuple.of(1, Combinators.combine(column(), Arbitraries.of("+", "-", "*", "||"),
                        Arbitraries.of(VALUES)).as((c, op, v) -> c + " " + op + " " + v)));
    }

    private static Arbitrary<String> predicate() {
        Arbitrary<String> comparison = Combinators.combine(column(), Arbitraries.of(COMPARISONS), operand())
                .as((l, op, r) -> l + " " + op + " " + r);
        Arbitrary<String> in = Combinators.combine(column(), Arbitraries.of("IN", "NOT IN"),
                Arbitraries.of(VALUES).list().ofMinSize(1).ofMaxSize(3))
                .as((c, op, list) -> c + " " + op + " ( " + String.join(" , ", list) + " )");
        Arbitrary<String> between = Combinators.combine(column(), Arbitraries.of(VALUES), Arbitraries.of(VALUES))
                .as((c, low, high) -> c + " BETWEEN " + low + " AND " + high);
        Arbitrary<String> isNull = Combinators.combine(column(), Arbitraries.of("IS NULL", "IS NOT NULL"))
                .as((c, test) -> c + " " + test);
        Arbitrary<String> like = Combinators.combine(column(), Arbitraries.of("LIKE", "ILIKE", "NOT LIKE"))
                .as((c, op) -> c + " " + op + " 'a%'");
        return Arbitraries.frequencyOf(
                Tuple.of(6, comparison),
                Tuple.of(1, in),
                Tuple.of(1, between),
                Tuple.of(1, isNull),
                Tuple.of(1, like));
    }

    private static Arbitrary<String> condition(int depth) {
        if (depth == 0) {
            return predicate();
        }
        Arbitrary<String> smaller = condition(depth - 1);
        return Arbitraries.frequencyOf(
                Tuple.of(4, predicate()),
                Tuple.of(2, Combinators.combine(smaller, Arbitraries.of("AND", "OR"), smaller)
                        .as((a, op, b) -> a + " " + op + " " + b)),
                Tuple.of(1, smaller.map(c -> "( " + c + " )")),
                Tuple.of(1, smaller.map(c -> "NOT " + c)));
    }

    private static Arbitrary<String> where() {
        return Arbitraries.frequencyOf(
                Tuple.of(1, Arbitraries.just("")),
                Tuple.of(5, condition(2).map(c -> " WHERE " + c)));
    }

    private static Arbitrary<String> selectItem() {
        return Arbitraries.frequencyOf(
                Tuple.of(4, column()),
                Tuple.of(1, Arbitraries.of("*", "t.*", "1", "$1", "'k'")),
                Tuple.of(1, column().map(c -> c + " AS b7")));
    }

    private static Arbitrary<String> select() {
        Arbitrary<String> items = selectItem().list().ofMinSize(1).ofMaxSize(3).map(list -> String.join(" , ", list));
        Arbitrary<String> tail = Arbitraries.of("", " ORDER BY id", " ORDER BY t.name DESC , 1", " LIMIT 10",
                " ORDER BY id LIMIT $2 OFFSET 5", " FOR UPDATE", " LIMIT 1 FOR SHARE NOWAIT", " ORDER BY id NULLS LAST");
        return Combinators.combine(items, table(), alias(), where(), tail)
                .as((list, table, alias, where, rest) -> "SELECT " + list + " FROM " + table + alias + where + rest);
    }

    private static Arbitrary<String> insert() {
        Arbitrary<List<String>> columns = Arbitraries.of(COLUMNS).list().ofMinSize(1).ofMaxSize(3).uniqueElements();
        Arbitrary<String> returning = Arbitraries.of("", " RETURNING id", " RETURNING *", " RETURNING id , t.name");
        return Combinators.combine(table(), Arbitraries.of("", " AS t"), columns, Arbitraries.integers().between(1, 2), returning)
                .as((table, alias, list, rows, ret) -> {
                    List<String> row = new ArrayList<>();
                    for (int i = 0; i < list.size(); i++) {
                        row.add(VALUES.get((i * 7 + list.size()) % VALUES.size()));
                    }
                    String values = "( " + String.join(" , ", row) + " )";
                    return "INSERT INTO " + table + alias + " ( " + String.join(" , ", list) + " ) VALUES " + values
                            + (rows == 2 ? " , " + values : "") + ret;
                });
    }

    private static Arbitrary<String> update() {
        Arbitrary<String> assignment = Combinators.combine(Arbitraries.of(COLUMNS), operand())
                .as((c, v) -> c + " = " + v);
        Arbitrary<String> sets = assignment.list().ofMinSize(1).ofMaxSize(3).map(list -> String.join(" , ", list));
        return Combinators.combine(table(), alias(), sets, where(), Arbitraries.of("", " RETURNING id", " RETURNING t.id"))
                .as((table, alias, set, where, ret) -> "UPDATE " + table + alias + " SET " + set + where + ret);
    }

    private static Arbitrary<String> delete() {
        return Combinators.combine(table(), alias(), where(), Arbitraries.of("", " RETURNING *", " RETURNING status"))
                .as((table, alias, where, ret) -> "DELETE FROM " + table + alias + where + ret);
    }
}
