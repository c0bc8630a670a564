package dev.pgpolicy.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class StatementClassifierTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "SELECT 1 | SELECT",
        "select * from t | SELECT",
        "TABLE t | SELECT",
        "(SELECT 1) UNION (SELECT 2) | SELECT",
        "VALUES (1) | VALUES",
        "WITH x AS (SELECT 1) SELECT * FROM x | SELECT",
        "WITH x AS (SELECT 1) VALUES (1) | SELECT",
        "WITH RECURSIVE x(n) AS (SELECT 1) INSERT INTO t SELECT * FROM x | INSERT",
        "WITH d AS (DELETE FROM t RETURNING *) UPDATE u SET a = 1 | UPDATE",
        "WITH d AS (SELECT 1) DELETE FROM t | DELETE",
        "WITH d AS (SELECT 1) MERGE INTO t USING d ON true WHEN MATCHED THEN DELETE | MERGE",
        "INSERT INTO t VALUES (1) | INSERT",
        "UPDATE t SET a = 1 | UPDATE",
        "DELETE FROM t | DELETE",
        "MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE | MERGE",
        "TRUNCATE t | TRUNCATE",
        "COPY t TO STDOUT | COPY",
        "EXPLAIN SELECT 1 | EXPLAIN",
        "CREATE TABLE t (a int) | DDL",
        "ALTER TABLE t ADD b int | DDL",
        "DROP TABLE t | DDL",
        "COMMENT ON TABLE t IS 'x' | DDL",
        "CREATE USER MAPPING FOR bob SERVER s | DDL",
        "CREATE ROLE bob | DCL",
        "ALTER USER bob PASSWORD 'x' | DCL",
        "DROP GROUP g | DCL",
        "GRANT SELECT ON t TO bob | DCL",
        "REVOKE ALL ON t FROM bob | DCL",
        "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO bob | DCL",
        "REASSIGN OWNED BY a TO b | DCL",
        "DROP OWNED BY a | DCL",
        "SET ROLE admin | DCL",
        "SET SESSION AUTHORIZATION admin | DCL",
        "SET LOCAL ROLE admin | DCL",
        "RESET ROLE | DCL",
        "ALTER SYSTEM SET work_mem = '1GB' | ALTER_SYSTEM",
        "VACUUM t | MAINTENANCE",
        "ANALYZE t | MAINTENANCE",
        "CLUSTER t | MAINTENANCE",
        "REINDEX TABLE t | MAINTENANCE",
        "REFRESH MATERIALIZED VIEW v | MAINTENANCE",
        "SET search_path = a | SET",
        "SET LOCAL statement_timeout = 5 | SET",
        "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE | TRANSACTION",
        "SET CONSTRAINTS ALL DEFERRED | TRANSACTION",
        "RESET ALL | RESET",
        "SHOW search_path | SHOW",
        "BEGIN | TRANSACTION",
        "START TRANSACTION | TRANSACTION",
        "COMMIT | TRANSACTION",
        "END | TRANSACTION",
        "ROLLBACK TO SAVEPOINT a | TRANSACTION",
        "ABORT | TRANSACTION",
        "SAVEPOINT a | TRANSACTION",
        "RELEASE SAVEPOINT a | TRANSACTION",
        "PREPARE TRANSACTION 'x' | TRANSACTION",
        "COMMIT PREPARED 'x' | TRANSACTION",
        "LISTEN c | LISTEN",
        "NOTIFY c, 'x' | NOTIFY",
        "UNLISTEN * | UNLISTEN",
        "LOCK TABLE t | LOCK",
        "PREPARE p AS SELECT 1 | PREPARE",
        "EXECUTE p(1) | EXECUTE",
        "DEALLOCATE ALL | DEALLOCATE",
        "DO $$ BEGIN END $$ | DO",
        "CALL p() | CALL",
        "LOAD 'auto_explain' | LOAD",
        "DISCARD ALL | DISCARD",
        "FETCH 10 FROM c | FETCH",
        "MOVE NEXT IN c | FETCH",
        "DECLARE c CURSOR FOR SELECT 1 | DECLARE_CURSOR",
        "CLOSE c | CLOSE_CURSOR",
        "CHECKPOINT | CHECKPOINT",
        "FROBNICATE t | UNKNOWN",
        "'string' | UNKNOWN",
    })
    void classifiesFromLeadingKeyWords(String sql, StatementKind kind) {
        List<LexedStatement> statements = StatementSplitter.split(sql);
        assertThat(statements).hasSize(1);
        assertThat(StatementClassifier.classify(statements.get(0))).isEqualTo(kind);
    }

    @ParameterizedTest
    @CsvSource({"''", "'   '", "'-- comment only'"})
    void noTokensIsEmpty(String sql) {
        assertThat(StatementClassifier.classify(new LexedStatement(sql, SqlLexer.tokenize(sql)))).isEqualTo(StatementKind.EMPTY);
    }
}
