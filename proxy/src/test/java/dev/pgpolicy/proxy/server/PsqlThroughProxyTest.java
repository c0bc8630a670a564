package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import io.netty.util.ResourceLeakDetector;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/** psql, the reference client, through the proxy: everything must look exactly like the server. */
@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PsqlThroughProxyTest {

    private static final String DB = "psql_relay";

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

    private ProcessResult psql(String sql) {
        ProcessResult result = fixture.client(DB).psql(sql);
        assertThat(result.succeeded()).as(result.describe()).isTrue();
        return result;
    }

    @Test
    void simpleQuery() {
        assertThat(psql("SELECT 40 + 2").stdout().strip()).isEqualTo("42");
    }

    @Test
    void multiStatementQueryReturnsEveryResult() {
        // psql -c sends one Query message with three statements; each result comes back.
        assertThat(psql("SELECT 'first'; SELECT 'second'; SELECT 'third'").stdout().strip().split("\n"))
                .containsExactly("first", "second", "third");
    }

    @Test
    void errorInsideTransactionThenRollback() {
        ProcessResult result = fixture.client(DB).psqlWith("--set=ON_ERROR_STOP=0", "--no-align", "--tuples-only",
                "--command=CREATE TABLE IF NOT EXISTS rollback_target (id int)",
                "--command=TRUNCATE rollback_target",
                "--command=BEGIN",
                "--command=INSERT INTO rollback_target VALUES (1)",
                "--command=SELECT 1 / 0",
                "--command=SELECT 'after error'",
                "--command=ROLLBACK",
                "--command=SELECT count(*) FROM rollback_target");
        assertThat(result.stderr()).contains("division by zero")
                .contains("current transaction is aborted, commands ignored until end of transaction block");
        String[] lines = result.stdout().strip().split("\n");
        assertThat(lines[lines.length - 2]).isEqualTo("ROLLBACK");
        assertThat(lines[lines.length - 1]).isEqualTo("0");
    }

    @Test
    void noticeReachesTheClient() {
        ProcessResult result = psql("DO $$BEGIN RAISE NOTICE 'notice through pgpolicy'; END$$");
        assertThat(result.stderr()).contains("NOTICE:  notice through pgpolicy");
    }

    @Test
    void listenNotifyBetweenTwoSessions() throws Exception {
        // A session outside the proxy holds an advisory lock that the listener's third command
        // waits for: while that command waits, its LISTEN has completed (and, in autocommit,
        // committed, which is when PostgreSQL registers the listener). The notification is sent
        // only then, so it cannot be lost; releasing the lock lets the listener read it.
        long gate = 0x5047_4c49_5354L;
        try (Connection holder = DriverManager.getConnection(fixture.postgres.jdbcUrl(DB),
                fixture.postgres.superuser(), fixture.postgres.superuserPassword());
                Statement statement = holder.createStatement()) {
            statement.execute("SELECT pg_advisory_lock(" + gate + ")");
            CompletableFuture<ProcessResult> listener = CompletableFuture.supplyAsync(() -> fixture.client(DB)
                    .applicationName("listener-session")
                    .psqlWith("--no-align", "--tuples-only", "--command=LISTEN pgpolicy_channel",
                            "--command=SELECT 'listening on ' || string_agg(c, ',') FROM pg_listening_channels() c",
                            "--command=SELECT pg_advisory_lock(" + gate + ") IS NOT NULL AS notified",
                            "--command=SELECT 'done'"));
            awaitListenerWaitingForTheGate(statement, gate, listener);
            psql("NOTIFY pgpolicy_channel, 'payload via proxy'");
            statement.execute("SELECT pg_advisory_unlock(" + gate + ")");
            ProcessResult result = listener.get(60, TimeUnit.SECONDS);
            assertThat(result.succeeded()).as(result.describe()).isTrue();
            assertThat(result.stdout()).contains("listening on pgpolicy_channel").contains(
                    "Asynchronous notification \"pgpolicy_channel\" with payload \"payload via proxy\" received");
        }
    }

    /**
     * Polls, from the session holding the lock, until the listener's backend waits for the
     * advisory lock {@code gate}.
     */
    private static void awaitListenerWaitingForTheGate(Statement holder, long gate,
            CompletableFuture<ProcessResult> listener) throws SQLException, InterruptedException {
        String probe = "SELECT count(*) FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted"
                + " AND l.locktype = 'advisory' AND l.objid = " + (gate & 0xffff_ffffL)
                + " WHERE a.application_name = 'listener-session'";
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try (ResultSet waiting = holder.executeQuery(probe)) {
                waiting.next();
                if (waiting.getLong(1) == 1) {
                    return;
                }
            }
            assertThat(listener.isDone()).as("the listener ended before it waited: %s",
                    listener.isDone() ? listener.join().describe() : "").isFalse();
            assertThat(System.nanoTime() - deadline).as("the listener never waited for the gate").isNegative();
            Thread.sleep(20);
        }
    }

    @Test
    void copyInAndOutOfHundredThousandRowsKeepsEveryByte() throws Exception {
        psql("DROP TABLE IF EXISTS copy_rows; CREATE TABLE copy_rows (id int PRIMARY KEY, label text, amount numeric)");
        StringBuilder rows = new StringBuilder();
        Random random = new Random(7);
        for (int i = 1; i <= 100_000; i++) {
            rows.append(i).append('\t').append("row-").append(Long.toHexString(random.nextLong()))
                    .append(i % 10 == 0 ? "\\tescaped ü" : "").append('\t').append(random.nextInt(1_000_000) / 100.0)
                    .append('\n');
        }
        String data = rows.toString();
        ProcessResult in = fixture.client(DB).psqlScript("COPY copy_rows FROM STDIN;\n" + data + "\\.\n");
        assertThat(in.succeeded()).as(in.describe()).isTrue();
        assertThat(psql("SELECT count(*) FROM copy_rows").stdout().strip()).isEqualTo("100000");

        ProcessResult out = fixture.client(DB).psqlWith("--command=COPY (SELECT * FROM copy_rows ORDER BY id) TO STDOUT");
        assertThat(out.succeeded()).as(out.describe()).isTrue();
        assertThat(md5(out.stdout())).isEqualTo(md5(data));
        // The server agrees on what it stored.
        String serverDigest = fixture.postgres.execute(DB, "\\pset tuples_only on\n\\pset format unaligned\n"
                + "SELECT md5(string_agg(id || E'\\t' || replace(label, E'\\t', '\\t') || E'\\t' || amount, E'\\n' ORDER BY id) || E'\\n') FROM copy_rows;\n");
        assertThat(serverDigest.strip()).isEqualTo(md5(data));
    }

    @Test
    void millionRowResult() {
        // Paranoid leak detection captures a stack trace for every derived buffer, that is for every
        // one of the million frames, and would make this test take minutes. The relay path is the
        // same one every other test runs under paranoid detection; here it runs at the production
        // level so the test measures the relay, not the detector.
        ResourceLeakDetector.Level configured = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.SIMPLE);
        ProcessResult result;
        try {
            result = psql("SELECT g, 'row ' || g FROM generate_series(1, 1000000) g");
        } finally {
            ResourceLeakDetector.setLevel(configured);
        }
        String[] lines = result.stdout().split("\n");
        assertThat(lines).hasSize(1_000_000);
        assertThat(lines[0]).isEqualTo("1|row 1");
        assertThat(lines[999_999]).isEqualTo("1000000|row 1000000");
    }

    @Test
    void sixtyFourMegabyteValueRoundTrip() throws Exception {
        StringBuilder value = new StringBuilder(64 * 1024 * 1024);
        Random random = new Random(64);
        String alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        while (value.length() < 64 * 1024 * 1024) {
            value.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        String literal = value.toString();
        ProcessResult result = fixture.client(DB).timeout(java.time.Duration.ofMinutes(3))
                .psqlScript("SELECT length(v), md5(v), v FROM (SELECT '" + literal + "'::text AS v) s;\n");
        assertThat(result.succeeded()).as(result.describe().substring(0, Math.min(2000, result.describe().length()))).isTrue();
        String[] fields = result.stdout().strip().split("\\|", 3);
        assertThat(fields[0]).isEqualTo(Integer.toString(64 * 1024 * 1024));
        assertThat(fields[1]).isEqualTo(md5(literal));
        assertThat(fields[2].length()).isEqualTo(literal.length());
        assertThat(fields[2].equals(literal)).as("value returned intact").isTrue();
    }

    @Test
    void unicodeAndByteaSurviveTheRelay() {
        String text = "héllo wörld ✓ 日本語 🎉 ÆØÅ";
        ProcessResult unicode = psql("SELECT '" + text + "', char_length('" + text + "'), octet_length('" + text + "')");
        assertThat(unicode.stdout().strip())
                .isEqualTo(text + "|" + text.codePointCount(0, text.length()) + "|" + text.getBytes(StandardCharsets.UTF_8).length);

        ProcessResult bytea = psql("SELECT decode('00ff7f80deadbeef0a0d', 'hex'), md5(decode('00ff7f80deadbeef0a0d', 'hex'))");
        assertThat(bytea.stdout().strip()).isEqualTo("\\x00ff7f80deadbeef0a0d|" + md5Bytes(HexFormat.of().parseHex("00ff7f80deadbeef0a0d")));
    }

    @Test
    void startupParametersReachTheServerAsSent() {
        ProcessResult result = fixture.client(DB).applicationName("pgpolicy-test-app")
                .env("PGOPTIONS", "-c search_path=pg_catalog,public -c work_mem=7MB")
                .env("PGDATESTYLE", "SQL, DMY")
                .env("PGCLIENTENCODING", "LATIN1")
                .psql("SELECT current_setting('application_name'), current_setting('search_path'), "
                        + "current_setting('work_mem'), current_setting('DateStyle'), current_setting('client_encoding')");
        assertThat(result.succeeded()).as(result.describe()).isTrue();
        assertThat(result.stdout().strip()).isEqualTo("pgpolicy-test-app|pg_catalog,public|7MB|SQL, DMY|LATIN1");
    }

    @Test
    void everyConnectionGetsAFreshServerSession() {
        String first = psql("SELECT pg_backend_pid()").stdout().strip();
        String second = psql("SELECT pg_backend_pid()").stdout().strip();
        assertThat(first).isNotEqualTo(second);
    }

    private static String md5(String text) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(text.getBytes(StandardCharsets.UTF_8)));
    }

    private static String md5Bytes(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
