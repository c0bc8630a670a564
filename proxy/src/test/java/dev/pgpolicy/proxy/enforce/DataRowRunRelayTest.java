package dev.pgpolicy.proxy.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.testing.BackendMessage;
import dev.pgpolicy.proxy.testing.Frames;
import dev.pgpolicy.proxy.testing.LeakReports;
import dev.pgpolicy.proxy.testing.RawSocket;
import dev.pgpolicy.proxy.testing.Resources;
import dev.pgpolicy.proxy.wire.Bind;
import dev.pgpolicy.proxy.wire.Describe;
import dev.pgpolicy.proxy.wire.Execute;
import dev.pgpolicy.proxy.wire.Parse;
import dev.pgpolicy.proxy.wire.Sync;
import dev.pgpolicy.proxy.wire.TargetKind;
import dev.pgpolicy.proxy.wire.WireMessage;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Large results relayed as runs of DataRows, on a raw socket where the pipeline is in the test's
 * hands: unmasked results (written a receive buffer at a time), masked ones (row by row, in place
 * or rebuilt) and row-limited ones (counted inside the runs) in one pipeline come back byte for
 * byte as the server produced them, masked where they must be, in order, with exact row counts,
 * and with no buffer leaked.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DataRowRunRelayTest {

    private static final String USER = "runs_free";
    private static final String LIMITED = "runs_limited";
    private static final String WIDE = "SELECT g, repeat('x', g % 50) FROM generate_series(1, 12000) g";

    private EmbeddedPostgres postgres;
    private PolicyProxy proxy;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        postgres = EmbeddedPostgres.builder()
                .hbaRule("host all " + USER + " 127.0.0.1/32 trust")
                .hbaRule("host all " + LIMITED + " 127.0.0.1/32 trust").start();
        postgres.createRole(USER, null);
        postgres.createRole(LIMITED, null);
        postgres.execute("postgres", """
                CREATE TABLE people (id int PRIMARY KEY, code text NOT NULL, secret text);
                INSERT INTO people SELECT g, 'C' || lpad(g::text, 4, '0'), CASE WHEN g % 7 = 0 THEN NULL ELSE 'secret-' || g END
                  FROM generate_series(1, 3000) g;
                """ + "GRANT SELECT ON people TO " + USER + ", " + LIMITED + ";");
        Path policies = Files.createDirectories(dir.resolve("policies"));
        Files.writeString(policies.resolve("runs.pgpolicy"), """
                role limited = user == "runs_limited";
                allow any all;
                mask any public.people.code with redact("XXXXX");
                mask any public.people.secret with redact("***");
                limit limited { rows 15000 per query; }
                """);
        proxy = PolicyProxy.startWithCatalog(postgres, policies, DecisionListener.NONE);
    }

    @AfterAll
    void stop() {
        Resources.closeAll(proxy, postgres);
    }

    private RawSocket session(String user) {
        return proxy.session(user);
    }

    private static List<WireMessage> described(String sql) {
        return List.of(new Parse("", sql, List.of()), new Bind("", "", List.of(), List.of(), List.of()),
                new Describe(TargetKind.PORTAL, ""), new Execute("", 0));
    }

    /** One result: its rows' values as text (null for NULL), and how it ended. */
    private record Result(List<List<String>> rows, String end) {
    }

    private static List<String> columns(BackendMessage row) {
        ByteBuffer body = ByteBuffer.wrap(row.body());
        int count = body.getShort();
        List<String> values = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int length = body.getInt();
            if (length < 0) {
                values.add(null);
            } else {
                byte[] value = new byte[length];
                body.get(value);
                values.add(new String(value, StandardCharsets.UTF_8));
            }
        }
        return values;
    }

    /** The results up to ReadyForQuery; each ends with its CommandComplete tag or its error's SQLSTATE. */
    private static List<Result> readResults(RawSocket socket) {
        List<Result> results = new ArrayList<>();
        List<List<String>> rows = new ArrayList<>();
        while (true) {
            BackendMessage message = socket.readMessage();
            switch (message.type()) {
                case 'D' -> rows.add(columns(message));
                case 'C' -> {
                    results.add(new Result(rows, new String(message.body(), 0, message.body().length - 1,
                            StandardCharsets.US_ASCII)));
                    rows = new ArrayList<>();
                }
                case 'E' -> {
                    results.add(new Result(rows, "ERROR " + message.sqlState()));
                    rows = new ArrayList<>();
                }
                case 'Z' -> {
                    assertThat(rows).as("rows after the last result").isEmpty();
                    return results;
                }
                default -> {
                    // ParseComplete, BindComplete, RowDescription
                }
            }
        }
    }

    private static void assertWide(Result result, int rows) {
        assertThat(result.rows()).hasSize(rows);
        for (int g = 1; g <= rows; g++) {
            assertThat(result.rows().get(g - 1)).containsExactly(Integer.toString(g), "x".repeat(g % 50));
        }
    }

    @Test
    void unmaskedAndMaskedResultsInOnePipelineArriveWholeInOrderAndMasked() {
        try (LeakReports leaks = LeakReports.start(); RawSocket socket = session(USER)) {
            List<WireMessage> pipeline = new ArrayList<>();
            pipeline.addAll(described(WIDE));
            pipeline.addAll(described("SELECT id, code FROM people ORDER BY id")); // masked in place: 5 bytes each
            pipeline.addAll(described("SELECT id, code, secret FROM people ORDER BY id")); // rebuilt: 3 bytes
            pipeline.addAll(described(WIDE));
            pipeline.add(new Sync());
            socket.write(Frames.encode(pipeline.toArray(new WireMessage[0])));

            List<Result> results = readResults(socket);
            assertThat(results).extracting(Result::end)
                    .containsExactly("SELECT 12000", "SELECT 3000", "SELECT 3000", "SELECT 12000");
            assertWide(results.get(0), 12000);
            assertWide(results.get(3), 12000);
            for (int id = 1; id <= 3000; id++) {
                assertThat(results.get(1).rows().get(id - 1)).containsExactly(Integer.toString(id), "XXXXX");
                assertThat(results.get(2).rows().get(id - 1))
                        .containsExactly(Integer.toString(id), "XXXXX", id % 7 == 0 ? null : "***");
            }
            leaks.assertNone();
        }
    }

    @Test
    void theSimpleProtocolRelaysSeveralResultsOfOneQueryExactly() {
        try (LeakReports leaks = LeakReports.start(); RawSocket socket = session(USER)) {
            // No masked column named in the query: a text that names one makes its computed columns NULL.
            socket.write(Frames.query(WIDE + "; SELECT id FROM people ORDER BY id; " + WIDE));
            List<Result> results = readResults(socket);
            assertThat(results).extracting(Result::end).containsExactly("SELECT 12000", "SELECT 3000", "SELECT 12000");
            assertWide(results.get(0), 12000);
            assertWide(results.get(2), 12000);
            assertThat(results.get(1).rows()).extracting(row -> row.get(0)).endsWith("2999", "3000");

            socket.write(Frames.query("SELECT id, secret FROM people ORDER BY id"));
            List<Result> masked = readResults(socket);
            assertThat(masked).extracting(Result::end).containsExactly("SELECT 3000");
            assertThat(masked.get(0).rows()).extracting(row -> row.get(1)).containsOnly("***", null);
            leaks.assertNone();
        }
    }

    @Test
    void aRowLimitCountsRowsInsideRunsAndCutsAtExactlyTheLimit() {
        try (LeakReports leaks = LeakReports.start(); RawSocket socket = session(LIMITED)) {
            // Under the limit: every row, counted without being split out of its run.
            socket.write(Frames.encode(described(WIDE).toArray(new WireMessage[0])));
            socket.write(Frames.encode(new Sync()));
            List<Result> under = readResults(socket);
            assertThat(under).extracting(Result::end).containsExactly("SELECT 12000");
            assertWide(under.get(0), 12000);

            // Over it: exactly 15,000 rows, then the limit's error in place of the rest.
            socket.write(Frames.query("SELECT g, repeat('x', g % 50) FROM generate_series(1, 40000) g"));
            List<Result> over = readResults(socket);
            assertThat(over).hasSize(1);
            assertThat(over.get(0).end()).isEqualTo("ERROR 54000");
            assertWide(over.get(0), 15000);

            // The session goes on.
            socket.write(Frames.query("SELECT id, code FROM people WHERE id <= 3 ORDER BY id"));
            List<Result> after = readResults(socket);
            assertThat(after.get(0).rows()).containsExactly(List.of("1", "XXXXX"), List.of("2", "XXXXX"),
                    List.of("3", "XXXXX"));
            leaks.assertNone();
        }
    }
}
