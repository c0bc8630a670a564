package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** pgbench through the proxy in every query mode and in pipeline mode: no transaction may fail. */
@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PgbenchThroughProxyTest {

    private static final String DB = "pgbench_relay";
    private static final Pattern PROCESSED = Pattern.compile("number of transactions actually processed: (\\d+)/(\\d+)");
    private static final Pattern FAILED = Pattern.compile("number of failed transactions: (\\d+)");

    private ProxyFixture fixture;

    @BeforeAll
    void start(EmbeddedPostgres postgres) {
        postgres.createDatabase(DB);
        fixture = ProxyFixture.start(postgres);
        // Initialisation itself goes through the proxy: DDL, COPY of 100k accounts, VACUUM.
        ProcessResult init = fixture.client(DB).pgbench("-i", "-s", "1", "-q", DB);
        assertThat(init.succeeded()).as(init.describe()).isTrue();
    }

    @AfterAll
    void stop() {
        fixture.close();
    }

    @Test
    void simpleProtocol() {
        assertNoFailures(fixture.client(DB).pgbench("-M", "simple", "-c", "4", "-j", "2", "-t", "150", DB), 600);
    }

    @Test
    void extendedProtocol() {
        assertNoFailures(fixture.client(DB).pgbench("-M", "extended", "-c", "4", "-j", "2", "-t", "150", DB), 600);
    }

    @Test
    void preparedStatements() {
        assertNoFailures(fixture.client(DB).pgbench("-M", "prepared", "-c", "4", "-j", "2", "-t", "150", DB), 600);
    }

    @Test
    void pipelineMode(@TempDir Path dir) throws IOException {
        Path script = dir.resolve("pipeline.sql");
        Files.writeString(script, """
                \\set aid random(1, 100000 * :scale)
                \\set bid random(1, 1 * :scale)
                \\set delta random(-5000, 5000)
                \\startpipeline
                SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
                UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
                SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
                UPDATE pgbench_branches SET bbalance = bbalance + :delta WHERE bid = :bid;
                INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, :bid, :aid, :delta, CURRENT_TIMESTAMP);
                \\endpipeline
                """);
        assertNoFailures(fixture.client(DB).pgbench("-M", "prepared", "-n", "-c", "2", "-j", "2", "-t", "150",
                "-f", script.toString(), DB), 300);
        assertNoFailures(fixture.client(DB).pgbench("-M", "extended", "-n", "-c", "2", "-j", "2", "-t", "150",
                "-f", script.toString(), DB), 300);
    }

    private static void assertNoFailures(ProcessResult result, int expectedTransactions) {
        assertThat(result.succeeded()).as(result.describe()).isTrue();
        Matcher processed = PROCESSED.matcher(result.stdout());
        assertThat(processed.find()).as(result.describe()).isTrue();
        assertThat(Integer.parseInt(processed.group(1))).as(result.describe()).isEqualTo(expectedTransactions);
        assertThat(processed.group(2)).isEqualTo(processed.group(1));
        Matcher failed = FAILED.matcher(result.stdout());
        assertThat(failed.find()).as(result.describe()).isTrue();
        assertThat(failed.group(1)).as(result.describe()).isEqualTo("0");
    }
}
