package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgpolicy.proxy.cli.PgPolicyCommand;
import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.testing.PgClient;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import picocli.CommandLine;

/**
 * A proxy started from configuration as {@code serve --policies DIR --audit DIR} starts it, with
 * a policy set that audits three users at three levels, in front of the database {@value #DB}.
 */
final class AuditedProxy implements AutoCloseable {

    static final String DB = "audit_statements";
    /** Audited at {@code full}. */
    static final String APP = "aud_app";
    /** Audited at {@code statements}, with a mask on customers.email. */
    static final String ANALYST = "aud_analyst";
    /** Audited at {@code metadata}; one query per second. */
    static final String REPORTER = "aud_reporter";
    static final String PASSWORD = "aud-secret-pw";
    static final String POLICY = """
            role app      = user == "aud_app";
            role analyst  = user == "aud_analyst";
            role reporter = user == "aud_reporter";

            allow any      session;
            allow app      read, write on public.customers, public.notes;
            allow analyst  select on public.customers;
            allow reporter select on public.customers;
            @id("no-ddl") @reason("schema changes go through migrations")
            deny any       ddl;
            mask analyst   public.customers.email with email();

            audit app      full;
            audit analyst  statements;
            audit reporter metadata;
            limit reporter { queries 1 per second per user; }
            """;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static boolean schemaCreated;

    final EmbeddedPostgres postgres;
    final ProxyServer proxy;

    private AuditedProxy(EmbeddedPostgres postgres, ProxyServer proxy) {
        this.postgres = postgres;
        this.proxy = proxy;
    }

    static AuditedProxy start(EmbeddedPostgres postgres, Path work, UnaryOperator<ProxyConfig.Builder> customize)
            throws IOException {
        return start(postgres, work, POLICY, customize);
    }

    static AuditedProxy start(EmbeddedPostgres postgres, Path work, String policy,
            UnaryOperator<ProxyConfig.Builder> customize) throws IOException {
        createSchema(postgres);
        Path policies = Files.createDirectories(work.resolve("policies"));
        Files.writeString(policies.resolve("audit.pgpolicy"), policy);
        Path catalogPassword = Files.writeString(work.resolve("catalog.pw"), postgres.superuserPassword() + "\n");
        ProxyConfig config = customize.apply(ProxyConfig.builder()
                .listen("127.0.0.1", 0)
                .upstream(postgres.host(), postgres.port())
                .shutdownGracePeriod(Duration.ZERO)
                .policiesDir(policies)
                .catalog(postgres.superuser(), catalogPassword)).build();
        return new AuditedProxy(postgres, ProxyServer.start(config));
    }

    static synchronized void createSchema(EmbeddedPostgres postgres) {
        if (schemaCreated) {
            return;
        }
        postgres.createRole(APP, PASSWORD);
        postgres.createRole(ANALYST, PASSWORD);
        postgres.createRole(REPORTER, PASSWORD);
        postgres.createDatabase(DB);
        postgres.execute(DB, """
                CREATE TABLE customers (id int PRIMARY KEY, name text, email text);
                CREATE TABLE notes (id int);
                INSERT INTO customers VALUES (1, 'Ada Lovelace', 'ada@example.com'), (2, 'Alan Turing', 'alan@example.org');
                GRANT SELECT, INSERT, UPDATE, DELETE ON customers, notes TO aud_app;
                GRANT SELECT ON customers TO aud_analyst, aud_reporter;
                """);
        schemaCreated = true;
    }

    PgClient client(String user) {
        return PgClient.to("127.0.0.1", proxy.address().getPort()).user(user).password(PASSWORD).database(DB)
                .sslMode("disable");
    }

    Connection jdbc(String user) throws SQLException {
        return jdbc(user, "");
    }

    /** {@code extra}: more URL parameters, e.g. {@code preferQueryMode=simple}. */
    Connection jdbc(String user, String extra) throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("user", user);
        properties.setProperty("password", PASSWORD);
        properties.setProperty("ApplicationName", "audit-jdbc");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + proxy.address().getPort() + "/" + DB
                + "?sslmode=disable" + (extra.isEmpty() ? "" : "&" + extra), properties);
    }

    @Override
    public void close() {
        proxy.close();
    }

    /** Every record of every file of {@code directory}, in chain order. */
    static List<JsonNode> records(Path directory) throws IOException {
        List<JsonNode> records = new ArrayList<>();
        List<Path> files;
        try (Stream<Path> listing = Files.list(directory)) {
            files = listing.filter(p -> p.getFileName().toString().endsWith(".jsonl")).sorted().toList();
        }
        for (Path file : files) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                records.add(JSON.readTree(line));
            }
        }
        return records;
    }

    /** {@code pgpolicy audit verify DIR} exits 0. */
    static void assertVerifies(Path directory) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = PgPolicyCommand.newCommandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute("audit", "verify", directory.toString());
        assertThat(exit).as(out + "\n" + err).isZero();
        assertThat(out.toString()).contains("OK:");
    }
}
