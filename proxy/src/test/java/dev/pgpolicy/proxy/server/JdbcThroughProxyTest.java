package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/** pgjdbc through the proxy: server-side prepared statements, binary transfer, batches, cancel. */
@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JdbcThroughProxyTest {

    private static final String DB = "jdbc_relay";

    private ProxyFixture fixture;

    @BeforeAll
    void start(EmbeddedPostgres postgres) {
        postgres.createDatabase(DB);
        fixture = ProxyFixture.start(postgres);
    }

    @AfterAll
    void stop() {
        fixture.close();
    }

    @Test
    void preparedStatementPastTheServerPrepareThreshold() throws SQLException {
        try (Connection connection = fixture.jdbc(DB, "prepareThreshold=3");
                PreparedStatement statement = connection.prepareStatement("SELECT ?::int * 2, ?::text || '!'")) {
            for (int i = 0; i < 10; i++) {
                statement.setInt(1, i);
                statement.setString(2, "run " + i);
                try (ResultSet rs = statement.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt(1)).isEqualTo(i * 2);
                    assertThat(rs.getString(2)).isEqualTo("run " + i + "!");
                }
            }
            // From the third execution on, pgjdbc uses a named server-side statement.
            try (Statement check = connection.createStatement();
                    ResultSet rs = check.executeQuery("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'SELECT $1::int * 2%'")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(1);
            }
        }
    }

    @Test
    void binaryTransferOfCommonTypes() throws SQLException {
        UUID id = UUID.randomUUID();
        Timestamp at = Timestamp.valueOf("2024-02-29 13:14:15.123456");
        byte[] bytes = {0, 1, 2, (byte) 0xFF, (byte) 0x80, 0x7F};
        try (Connection connection = fixture.jdbc(DB, "binaryTransfer=true&prepareThreshold=-1");
                PreparedStatement statement = connection.prepareStatement(
                        "SELECT ?::int8, ?::float8, ?::numeric, ?::uuid, ?::timestamp, ?::bytea, ?::text, ?::int4[]")) {
            statement.setLong(1, Long.MIN_VALUE);
            statement.setDouble(2, Math.PI);
            statement.setBigDecimal(3, new BigDecimal("12345678901234567890.0123456789"));
            statement.setObject(4, id);
            statement.setTimestamp(5, at);
            statement.setBytes(6, bytes);
            statement.setString(7, "ünïcødé ✓");
            statement.setArray(8, connection.createArrayOf("int4", new Integer[] {1, null, 3}));
            try (ResultSet rs = statement.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getLong(1)).isEqualTo(Long.MIN_VALUE);
                assertThat(rs.getDouble(2)).isEqualTo(Math.PI);
                assertThat(rs.getBigDecimal(3)).isEqualByComparingTo("12345678901234567890.0123456789");
                assertThat(rs.getObject(4)).isEqualTo(id);
                assertThat(rs.getTimestamp(5)).isEqualTo(at);
                assertThat(rs.getBytes(6)).containsExactly(bytes);
                assertThat(rs.getString(7)).isEqualTo("ünïcødé ✓");
                assertThat((Integer[]) rs.getArray(8).getArray()).containsExactly(1, null, 3);
            }
        }
    }

    @Test
    void batchInserts() throws SQLException {
        try (Connection connection = fixture.jdbc(DB, "")) {
            try (Statement ddl = connection.createStatement()) {
                ddl.execute("DROP TABLE IF EXISTS batch_rows");
                ddl.execute("CREATE TABLE batch_rows (id int PRIMARY KEY, name text)");
            }
            connection.setAutoCommit(false);
            try (PreparedStatement insert = connection.prepareStatement("INSERT INTO batch_rows VALUES (?, ?)")) {
                for (int i = 0; i < 5_000; i++) {
                    insert.setInt(1, i);
                    insert.setString(2, "name-" + i);
                    insert.addBatch();
                }
                int[] counts = insert.executeBatch();
                assertThat(counts).hasSize(5_000).containsOnly(1);
            }
            connection.commit();
            try (Statement check = connection.createStatement();
                    ResultSet rs = check.executeQuery("SELECT count(*), sum(id) FROM batch_rows")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(5_000);
                assertThat(rs.getLong(2)).isEqualTo(4_999L * 5_000 / 2);
            }
        }
    }

    @Test
    void errorInBatchRollsBackTheWholeTransaction() throws SQLException {
        try (Connection connection = fixture.jdbc(DB, "")) {
            try (Statement ddl = connection.createStatement()) {
                ddl.execute("DROP TABLE IF EXISTS batch_fail");
                ddl.execute("CREATE TABLE batch_fail (id int PRIMARY KEY)");
            }
            connection.setAutoCommit(false);
            try (PreparedStatement insert = connection.prepareStatement("INSERT INTO batch_fail VALUES (?)")) {
                for (int id : new int[] {1, 2, 2, 3}) {
                    insert.setInt(1, id);
                    insert.addBatch();
                }
                assertThatThrownBy(insert::executeBatch).isInstanceOf(SQLException.class)
                        .hasMessageContaining("duplicate key");
            }
            connection.rollback();
            try (Statement check = connection.createStatement();
                    ResultSet rs = check.executeQuery("SELECT count(*) FROM batch_fail")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isZero();
            }
        }
    }

    @Test
    void cursorFetchesInPortionsWithPortalSuspended() throws SQLException {
        try (Connection connection = fixture.jdbc(DB, "")) {
            connection.setAutoCommit(false); // pgjdbc only fetches in portions inside a transaction
            try (PreparedStatement statement = connection.prepareStatement("SELECT g FROM generate_series(1, 10000) g")) {
                statement.setFetchSize(250);
                long sum = 0;
                int rows = 0;
                try (ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        sum += rs.getInt(1);
                        rows++;
                    }
                }
                assertThat(rows).isEqualTo(10_000);
                assertThat(sum).isEqualTo(10_000L * 10_001 / 2);
            }
            connection.commit();
        }
    }

    @Test
    void copyManagerInAndOut() throws Exception {
        try (Connection connection = fixture.jdbc(DB, "")) {
            try (Statement ddl = connection.createStatement()) {
                ddl.execute("DROP TABLE IF EXISTS copy_jdbc");
                ddl.execute("CREATE TABLE copy_jdbc (id int, note text)");
            }
            org.postgresql.copy.CopyManager copy = connection.unwrap(PGConnection.class).getCopyAPI();
            StringBuilder data = new StringBuilder();
            for (int i = 0; i < 20_000; i++) {
                data.append(i).append(",note ").append(i).append('\n');
            }
            long loaded = copy.copyIn("COPY copy_jdbc FROM STDIN (FORMAT csv)", new java.io.StringReader(data.toString()));
            assertThat(loaded).isEqualTo(20_000);
            java.io.StringWriter out = new java.io.StringWriter();
            long written = copy.copyOut("COPY (SELECT * FROM copy_jdbc ORDER BY id) TO STDOUT (FORMAT csv)", out);
            assertThat(written).isEqualTo(20_000);
            assertThat(out.toString()).isEqualTo(data.toString());
            // A failed COPY leaves the session usable.
            assertThatThrownBy(() -> copy.copyIn("COPY copy_jdbc FROM STDIN (FORMAT csv)",
                    new java.io.StringReader("not-a-number,x\n"))).isInstanceOf(SQLException.class);
            try (Statement check = connection.createStatement(); ResultSet rs = check.executeQuery("SELECT count(*) FROM copy_jdbc")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(20_000);
            }
        }
    }

    @Test
    void cancelEndsALongQueryQuickly() throws Exception {
        try (Connection connection = fixture.jdbc(DB, ""); Statement statement = connection.createStatement()) {
            AtomicLong cancelledAt = new AtomicLong();
            CompletableFuture<Void> canceller = CompletableFuture.runAsync(() -> {
                try {
                    Thread.sleep(500);
                    cancelledAt.set(System.nanoTime());
                    statement.cancel();
                } catch (SQLException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            long start = System.nanoTime();
            assertThatThrownBy(() -> statement.execute("SELECT pg_sleep(30)"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("57014"));
            long elapsed = System.nanoTime() - start;
            canceller.get(5, TimeUnit.SECONDS);
            assertThat(Duration.ofNanos(elapsed)).isLessThan(Duration.ofSeconds(2));
            // The session goes on after the cancel.
            try (ResultSet rs = statement.executeQuery("SELECT 'still usable'")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("still usable");
            }
        }
    }

    @Test
    void serverTerminatingTheBackendReachesTheClientVerbatim() throws Exception {
        try (Connection victim = fixture.jdbc(DB, "ApplicationName=terminated-by-admin");
                Statement statement = victim.createStatement()) {
            try (ResultSet rs = statement.executeQuery("SELECT 1")) {
                assertThat(rs.next()).isTrue();
            }
            fixture.postgres.execute(DB, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    + " WHERE application_name = 'terminated-by-admin';\n");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (fixture.proxy.activeSessions() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThatThrownBy(() -> statement.executeQuery("SELECT 1")).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isIn("57P01", "08006"));
        }
    }

    @Test
    void cancelKeyIssuedByTheProxyIsNotTheServers() throws SQLException {
        try (Connection connection = fixture.jdbc(DB, "");
                Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("SELECT pg_backend_pid()")) {
            assertThat(rs.next()).isTrue();
            int serverPid = rs.getInt(1);
            int clientVisiblePid = connection.unwrap(PGConnection.class).getBackendPID();
            assertThat(clientVisiblePid).isNotEqualTo(serverPid);
        }
    }

    @Test
    void listenNotifyBetweenTwoSessions() throws Exception {
        try (Connection listener = fixture.jdbc(DB, ""); Connection notifier = fixture.jdbc(DB, "")) {
            try (Statement s = listener.createStatement()) {
                s.execute("LISTEN jdbc_channel");
            }
            try (Statement s = notifier.createStatement()) {
                s.execute("NOTIFY jdbc_channel, 'hello from the other session'");
            }
            PGNotification[] notifications = listener.unwrap(PGConnection.class).getNotifications(10_000);
            assertThat(notifications).hasSize(1);
            assertThat(notifications[0].getName()).isEqualTo("jdbc_channel");
            assertThat(notifications[0].getParameter()).isEqualTo("hello from the other session");
        }
    }
}
