package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.session.InFlightRequest;
import dev.pgpolicy.proxy.session.RowFilter;
import dev.pgpolicy.proxy.session.SessionHooks;
import dev.pgpolicy.proxy.session.SessionInfo;
import dev.pgpolicy.proxy.session.Verdict;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import dev.pgpolicy.proxy.wire.Bytes;
import dev.pgpolicy.proxy.wire.DataRow;
import dev.pgpolicy.proxy.wire.ErrorResponse;
import dev.pgpolicy.proxy.wire.Parse;
import dev.pgpolicy.proxy.wire.Query;
import dev.pgpolicy.proxy.wire.RowDescription;
import dev.pgpolicy.proxy.wire.SqlState;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The hook points policy enforcement and masking will use: a denied statement never runs and
 * fails the transaction exactly as a server error would, a rewrite is what the server runs, and
 * row filters see every row attributed to its request.
 */
@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SessionHooksTest {

    private static final String DB = "hooks_relay";

    /** Denies anything naming forbidden_table, rewrites one query, masks the text 'secret'. */
    static final class TestHooks implements SessionHooks {
        final List<String> seenSql = new CopyOnWriteArrayList<>();

        private static Verdict decide(String sql) {
            if (sql.contains("forbidden_table")) {
                return Verdict.deny(ErrorResponse.of(ErrorResponse.SEVERITY_ERROR, SqlState.INSUFFICIENT_PRIVILEGE,
                        "permission denied by rule test-deny", "forbidden_table is off limits"));
            }
            return Verdict.FORWARD;
        }

        @Override
        public Verdict onQuery(SessionInfo session, Query query) {
            seenSql.add(query.sql());
            if (query.sql().equals("SELECT 'rewrite me'")) {
                return Verdict.rewrite(new Query("SELECT 'rewritten'"));
            }
            return decide(query.sql());
        }

        @Override
        public Verdict onParse(SessionInfo session, Parse parse) {
            seenSql.add(parse.sql());
            return decide(parse.sql());
        }

        @Override
        public boolean inspectsResults() {
            return true;
        }

        @Override
        public RowFilter onRowDescription(SessionInfo session, InFlightRequest request, RowDescription description) {
            return TestHooks::mask;
        }

        @Override
        public RowFilter onExecute(SessionInfo session, InFlightRequest request) {
            return TestHooks::mask;
        }

        private static DataRow mask(DataRow row, io.netty.buffer.ByteBufAllocator alloc) {
            List<Optional<Bytes>> columns = new ArrayList<>();
            boolean changed = false;
            for (int i = 0; i < row.columnCount(); i++) {
                Optional<Bytes> value = row.columnValue(i);
                if (value.isPresent() && value.get().toUtf8String().equals("secret")) {
                    value = Optional.of(Bytes.utf8("xxxxxx"));
                    changed = true;
                }
                columns.add(value);
            }
            if (!changed) {
                return row;
            }
            DataRow masked = DataRow.of(alloc, columns);
            row.release();
            return masked;
        }
    }

    private final TestHooks hooks = new TestHooks();
    private ProxyFixture fixture;

    @BeforeAll
    void start(EmbeddedPostgres postgres) {
        postgres.createDatabase(DB);
        postgres.execute(DB, "CREATE TABLE forbidden_table (id int); CREATE TABLE ledger (id int);\n");
        fixture = ProxyFixture.start(postgres, b -> b, hooks);
    }

    @AfterAll
    void stop() {
        fixture.close();
    }

    private int ledgerRows() {
        return Integer.parseInt(fixture.postgres.query(DB, "SELECT count(*) FROM ledger").get(0).get(0));
    }

    @Test
    void deniedSimpleQueryOutsideATransactionLeavesTheSessionUsable() {
        ProcessResult result = fixture.client(DB).psqlWith("--set=ON_ERROR_STOP=0", "--no-align", "--tuples-only",
                "--command=SELECT * FROM forbidden_table", "--command=SELECT 'still here'");
        assertThat(result.stderr()).contains("ERROR:  permission denied by rule test-deny")
                .contains("DETAIL:  forbidden_table is off limits").doesNotContain("PL/pgSQL");
        assertThat(result.stdout().strip()).isEqualTo("still here");
    }

    @Test
    void deniedStatementInsideATransactionBlockFailsTheBlock() {
        fixture.postgres.execute(DB, "TRUNCATE ledger;\n");
        ProcessResult result = fixture.client(DB).psqlWith("--set=ON_ERROR_STOP=0", "--no-align", "--tuples-only",
                "--command=BEGIN", "--command=INSERT INTO ledger VALUES (1)",
                "--command=SELECT * FROM forbidden_table", "--command=INSERT INTO ledger VALUES (2)",
                "--command=COMMIT");
        assertThat(result.stderr()).contains("permission denied by rule test-deny")
                .contains("current transaction is aborted");
        assertThat(result.stdout()).contains("ROLLBACK");
        assertThat(ledgerRows()).isZero();
    }

    @Test
    void deniedPreparedStatementInAJdbcTransactionRollsBack() throws SQLException {
        fixture.postgres.execute(DB, "TRUNCATE ledger;\n");
        try (Connection connection = fixture.jdbc(DB, "")) {
            connection.setAutoCommit(false);
            try (PreparedStatement insert = connection.prepareStatement("INSERT INTO ledger VALUES (?)")) {
                insert.setInt(1, 1);
                insert.executeUpdate();
            }
            try (PreparedStatement denied = connection.prepareStatement("SELECT id FROM forbidden_table WHERE id = ?")) {
                denied.setInt(1, 1);
                assertThatThrownBy(denied::executeQuery).isInstanceOfSatisfying(SQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("42501");
                    assertThat(e.getMessage()).contains("permission denied by rule test-deny");
                });
            }
            assertThatThrownBy(() -> {
                try (Statement after = connection.createStatement()) {
                    after.execute("SELECT 1");
                }
            }).isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("25P02"));
            connection.rollback();
            try (Statement usable = connection.createStatement(); ResultSet rs = usable.executeQuery("SELECT 'usable'")) {
                assertThat(rs.next()).isTrue();
            }
        }
        assertThat(ledgerRows()).isZero();
    }

    @Test
    void deniedStatementInABatchStopsTheBatch() throws SQLException {
        fixture.postgres.execute(DB, "TRUNCATE ledger;\n");
        try (Connection connection = fixture.jdbc(DB, "")) {
            connection.setAutoCommit(false);
            try (Statement batch = connection.createStatement()) {
                batch.addBatch("INSERT INTO ledger VALUES (1)");
                batch.addBatch("INSERT INTO forbidden_table VALUES (1)");
                batch.addBatch("INSERT INTO ledger VALUES (2)");
                assertThatThrownBy(batch::executeBatch).isInstanceOf(SQLException.class)
                        .hasMessageContaining("permission denied by rule test-deny");
            }
            connection.commit();
        }
        assertThat(ledgerRows()).isZero();
        assertThat(fixture.postgres.query(DB, "SELECT count(*) FROM forbidden_table").get(0).get(0)).isEqualTo("0");
    }

    @Test
    void rewriteIsWhatTheServerRuns() {
        ProcessResult result = fixture.client(DB).psql("SELECT 'rewrite me'");
        assertThat(result.succeeded()).as(result.describe()).isTrue();
        assertThat(result.stdout().strip()).isEqualTo("rewritten");
    }

    @Test
    void rowFiltersSeeSimpleAndExtendedResults() throws SQLException {
        ProcessResult result = fixture.client(DB).psql("SELECT 'secret', 'public' UNION ALL SELECT 'ok', 'secret'");
        assertThat(result.succeeded()).as(result.describe()).isTrue();
        assertThat(result.stdout().strip().split("\n")).containsExactly("xxxxxx|public", "ok|xxxxxx");

        try (Connection connection = fixture.jdbc(DB, "prepareThreshold=1");
                PreparedStatement statement = connection.prepareStatement("SELECT ?::text, 'plain'")) {
            for (int i = 0; i < 3; i++) {
                statement.setString(1, "secret");
                try (ResultSet rs = statement.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).isEqualTo("xxxxxx");
                    assertThat(rs.getString(2)).isEqualTo("plain");
                }
            }
        }
    }
}
