package dev.pgpolicy.proxy.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ExternalCommand;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.embedded.ProcessTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The test fixtures against the shared cluster: raw protocol bytes, psql and pgbench. */
@ExtendWith(PostgresExtension.class)
class FixturesTest {
    private final EmbeddedPostgres postgres;

    FixturesTest(EmbeddedPostgres postgres) {
        this.postgres = postgres;
    }

    @Test
    void sharedClusterIsOnePerJvm() {
        assertThat(SharedPostgres.get()).isSameAs(postgres);
        assertThat(postgres.isRunning()).isTrue();
    }

    @Test
    void rawSocketNegotiatesTlsAndReceivesTheScramOffer() {
        try (RawSocket socket = RawSocket.connect(postgres.host(), postgres.port())) {
            socket.write(Frames.sslRequest());
            assertThat(socket.readByte()).isEqualTo('S');
            socket.startTls(postgres.caCertificate(), "localhost");
            assertThat(socket.isTls()).isTrue();

            Map<String, String> startup = new LinkedHashMap<>();
            startup.put("user", postgres.superuser());
            startup.put("database", "postgres");
            socket.writeBytewise(Frames.startup(startup));

            BackendMessage authentication = socket.readMessage();
            assertThat(authentication.type()).isEqualTo('R');
            // AuthenticationSASL (code 10) followed by mechanism names (docs 55.7).
            assertThat(authentication.int32(0)).isEqualTo(10);
            String mechanisms = new String(authentication.body(), 4, authentication.body().length - 4,
                    StandardCharsets.US_ASCII);
            assertThat(mechanisms).contains("SCRAM-SHA-256");
        }
    }

    @Test
    void rawSocketSeesTheServerRefuseAnUnknownProtocolVersion() {
        try (RawSocket socket = RawSocket.connect(postgres.host(), postgres.port())) {
            byte[] bogusVersion = java.nio.ByteBuffer.allocate(8).putInt(8).putInt(0x00090009).array();
            socket.write(bogusVersion);
            BackendMessage error = socket.readMessage();
            assertThat(error.type()).isEqualTo('E');
            assertThat(error.sqlState()).isEqualTo("0A000");
            assertThat(socket.awaitClosed(Duration.ofSeconds(10))).isTrue();
        }
    }

    @Test
    void psqlRunsWithVerifyFullAndReportsErrors() {
        PgClient client = PgClient.superuserOf(postgres);

        ProcessResult ok = client.psql("SELECT 40 + 2");
        assertThat(ok.exitCode()).as(ok.describe()).isZero();
        assertThat(ok.stdout().strip()).isEqualTo("42");

        ProcessResult failed = client.psqlScript("SELECT 1;\nSELECT * FROM missing_table;\nSELECT 2;\n");
        assertThat(failed.exitCode()).isEqualTo(3);
        assertThat(failed.stdout().strip()).isEqualTo("1");
        assertThat(failed.stderr()).contains("relation \"missing_table\" does not exist");
    }

    @Test
    void pgbenchInitialisesAndRunsOverTls() {
        String database = "bench_" + UUID.randomUUID().toString().replace("-", "");
        postgres.createDatabase(database);
        PgClient client = PgClient.superuserOf(postgres).database(database);

        ProcessResult init = client.pgbench("--initialize", "--scale=1", "--quiet");
        assertThat(init.exitCode()).as(init.describe()).isZero();

        ProcessResult run = client.pgbench("--client=4", "--transactions=25", "--no-vacuum");
        assertThat(run.exitCode()).as(run.describe()).isZero();
        assertThat(run.stdout()).contains("number of transactions actually processed: 100/100");
        assertThat(postgres.query(database, "SELECT count(*) FROM pgbench_history")).containsExactly(java.util.List.of("100"));
    }

    @Test
    void externalCommandKillsAProcessThatOutlivesItsTimeout() {
        ExternalCommand sleeper = ExternalCommand.of("sh", "-c", "echo started; exec sleep 600")
                .timeout(Duration.ofSeconds(1));

        assertThatThrownBy(sleeper::run)
                .isInstanceOf(ProcessTimeoutException.class)
                .hasMessageContaining("did not finish within")
                .satisfies(e -> assertThat(((ProcessTimeoutException) e).partial().stdout()).isEqualTo("started\n"));
    }

    @Test
    void externalCommandPassesStdinAndOnlyTheGivenPgVariables() {
        ProcessResult result = ExternalCommand.of("sh", "-c", "cat; env | grep '^PG' | sort")
                .environment("PGAPPNAME", "fixture")
                .stdin("input line\n")
                .run();
        assertThat(result.stdout()).isEqualTo("input line\nPGAPPNAME=fixture\n");
    }
}
