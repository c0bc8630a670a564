package dev.pgpolicy.proxy.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.testing.BackendMessage;
import dev.pgpolicy.proxy.testing.Frames;
import dev.pgpolicy.proxy.testing.RawSocket;
import dev.pgpolicy.proxy.testing.Resources;
import dev.pgpolicy.proxy.wire.Bind;
import dev.pgpolicy.proxy.wire.Execute;
import dev.pgpolicy.proxy.wire.Parse;
import dev.pgpolicy.proxy.wire.WireMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rows N per query} message by message on a raw socket, where pipelining and portal
 * suspension are in the test's hands: exactly N DataRows, the limit's error in place of the
 * server's, the rest of the sync group discarded, and the ReadyForQuery status PostgreSQL gives
 * after a failed statement. A cluster of its own lets a role log in with {@code trust}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RowLimitProtocolTest {

    private static final String USER = "rows_raw";
    /** Slow enough (a pause per row) that the cancel reaches the statement while it runs. */
    private static final String SLOW = "SELECT g, pg_sleep(0.0002) FROM generate_series(1, 100000) g";
    /** Small enough to sit in socket buffers: the server has finished before the cancel arrives. */
    private static final String QUICK = "SELECT g FROM generate_series(1, 3000) g";

    private EmbeddedPostgres postgres;
    private PolicyProxy proxy;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        postgres = EmbeddedPostgres.builder().hbaRule("host all " + USER + " 127.0.0.1/32 trust").start();
        postgres.createRole(USER, null);
        postgres.execute("postgres", "CREATE TABLE rows_sink (v int); GRANT ALL ON rows_sink TO " + USER + ";");
        Path policies = Files.createDirectories(dir.resolve("policies"));
        Files.writeString(policies.resolve("limits.pgpolicy"), """
                allow any all;
                limit any { rows 1000 per query; }
                """);
        proxy = PolicyProxy.start(postgres, policies, DecisionListener.NONE);
    }

    @AfterAll
    void stop() {
        Resources.closeAll(proxy, postgres);
    }

    private RawSocket session() {
        return proxy.session(USER);
    }

    private static WireMessage[] run(String sql, int maxRows) {
        return new WireMessage[] {new Parse("", sql, List.of()), new Bind("", "", List.of(), List.of(), List.of()),
                new Execute("", maxRows)};
    }

    /** What came back up to the next ReadyForQuery: DataRows counted, other types listed, then the status. */
    private record Reply(int dataRows, String types, String sqlState, char status) {
    }

    private static Reply readReply(RawSocket socket) {
        int rows = 0;
        StringBuilder types = new StringBuilder();
        String sqlState = null;
        while (true) {
            BackendMessage message = socket.readMessage();
            switch (message.type()) {
                case 'D':
                    rows++;
                    break;
                case 'E':
                    sqlState = message.sqlState();
                    types.append('E');
                    break;
                case 'Z':
                    return new Reply(rows, types.toString(), sqlState, (char) message.body()[0]);
                default:
                    types.append(message.type());
            }
        }
    }

    private long sinkRows() {
        return Long.parseLong(postgres.query("postgres", "SELECT count(*) FROM rows_sink").get(0).get(0));
    }

    @Test
    void aPipelinedRequestAfterTheCutStatementIsDiscardedUntilSync() {
        try (RawSocket socket = session()) {
            byte[] pipeline = Frames.concat(Frames.encode(run(SLOW, 0)), Frames.encode(run("INSERT INTO rows_sink VALUES (1)", 0)),
                    Frames.sync());
            socket.write(pipeline);
            Reply reply = readReply(socket);
            assertThat(reply.dataRows()).isEqualTo(1000);
            // ParseComplete, BindComplete, the limit's error; nothing of the INSERT.
            assertThat(reply.types()).isEqualTo("12E");
            assertThat(reply.sqlState()).isEqualTo("54000");
            assertThat(reply.status()).isEqualTo('I');
            assertThat(sinkRows()).isZero();

            socket.write(Frames.query("SELECT 1"));
            assertThat(readReply(socket)).isEqualTo(new Reply(1, "TC", null, 'I'));
        }
    }

    @Test
    void insideABlockTheTransactionIsFailedEvenWhenTheServerFinishedFirst() {
        try (RawSocket socket = session()) {
            socket.write(Frames.query("BEGIN"));
            assertThat(readReply(socket).status()).isEqualTo('T');
            socket.write(Frames.concat(Frames.encode(run(QUICK, 0)), Frames.sync()));
            Reply reply = readReply(socket);
            assertThat(reply.dataRows()).isEqualTo(1000);
            assertThat(reply.types()).isEqualTo("12E");
            assertThat(reply.sqlState()).isEqualTo("54000");
            assertThat(reply.status()).isEqualTo('E');

            socket.write(Frames.query("INSERT INTO rows_sink VALUES (2)"));
            Reply refused = readReply(socket);
            assertThat(refused.sqlState()).isEqualTo("25P02");
            assertThat(refused.status()).isEqualTo('E');
            socket.write(Frames.query("COMMIT"));
            assertThat(readReply(socket)).isEqualTo(new Reply(0, "C", null, 'I'));
            assertThat(sinkRows()).isZero();
        }
    }

    @Test
    void aPortalFetchedInBatchesCountsAcrossTheBatches() {
        try (RawSocket socket = session()) {
            socket.write(Frames.query("BEGIN"));
            readReply(socket);
            socket.write(Frames.concat(Frames.encode(run(QUICK, 600)), Frames.sync()));
            Reply first = readReply(socket);
            assertThat(first).isEqualTo(new Reply(600, "12s", null, 'T'));

            socket.write(Frames.concat(Frames.encode(new Execute("", 600)), Frames.sync()));
            Reply second = readReply(socket);
            assertThat(second.dataRows()).isEqualTo(400);
            assertThat(second.types()).isEqualTo("E");
            assertThat(second.sqlState()).isEqualTo("54000");
            assertThat(second.status()).isEqualTo('E');

            socket.write(Frames.query("ROLLBACK"));
            assertThat(readReply(socket)).isEqualTo(new Reply(0, "C", null, 'I'));
            socket.write(Frames.query(QUICK.replace("3000", "1000")));
            assertThat(readReply(socket)).isEqualTo(new Reply(1000, "TC", null, 'I'));
        }
    }
}
