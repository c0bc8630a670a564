package dev.pgpolicy.proxy.enforce;

import dev.pgpolicy.proxy.catalog.CatalogCache;
import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.server.ProxyConfig;
import dev.pgpolicy.proxy.server.ProxyServer;
import dev.pgpolicy.proxy.testing.PgClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;

/**
 * The enforcement tests' world: a database {@value #DB} with the schema {@code payments}
 * (customers with personal data, orders), the login roles the test policy names, and a proxy
 * enforcing {@code src/test/resources/enforce-policies} in front of the shared cluster.
 */
final class EnforcementFixture implements AutoCloseable {

    static final String DB = "enforce_test";
    static final String APP = "enf_app";
    static final String ANALYST = "enf_analyst";
    static final String PASSWORD = "enf-secret-pw";

    private static boolean schemaCreated;

    /** Every decision the hooks announced, for assertions on detect mode and audit. */
    record Announced(String user, String message, String sql, DecisionListener.Outcome outcome,
            List<String> ruleIds, List<String> detectRuleIds) {
    }

    final EmbeddedPostgres postgres;
    final ProxyServer proxy;
    final List<Announced> decisions;
    private final PolicyHooks ownHooks;

    private EnforcementFixture(EmbeddedPostgres postgres, ProxyServer proxy, List<Announced> decisions, PolicyHooks ownHooks) {
        this.postgres = postgres;
        this.proxy = proxy;
        this.decisions = decisions;
        this.ownHooks = ownHooks;
    }

    static Path policyDirectory() {
        return policyDirectory("enforce-policies");
    }

    /** The test resource directory {@code name}, which holds a {@code policy.pgpolicy}. */
    static Path policyDirectory(String name) {
        try {
            return Path.of(EnforcementFixture.class.getResource("/" + name + "/policy.pgpolicy").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A proxy with hooks built here, so the test sees every decision. */
    static EnforcementFixture start(EmbeddedPostgres postgres) {
        return start(postgres, policyDirectory());
    }

    /** The same, with the policies of {@code policies} instead of the shared enforcement policy. */
    static EnforcementFixture start(EmbeddedPostgres postgres, Path policies) {
        createSchema(postgres);
        List<Announced> decisions = new CopyOnWriteArrayList<>();
        DecisionListener listener = decided -> {
            if (decided.decision() != null) { // throttled statements are refused before any decision
                decisions.add(new Announced(decided.session().user().orElse(""), decided.message(), decided.sql(),
                        decided.outcome(), decided.decision().ruleIds(), decided.decision().detectRuleIds()));
            }
            return DecisionListener.GO_AHEAD;
        };
        // The metadata connection uses the superuser here; in production a role that can read the catalog.
        CatalogCache catalog = new CatalogCache(database -> DriverManager.getConnection(postgres.jdbcUrl(database),
                postgres.superuser(), postgres.superuserPassword()));
        PolicyHooks hooks = PolicyHooks.forDirectory(policies, listener, catalog);
        ProxyServer proxy = ProxyServer.start(config(postgres, b -> b), hooks);
        return new EnforcementFixture(postgres, proxy, decisions, hooks);
    }

    /** A proxy started from configuration alone, as {@code serve --policies DIR} starts it. */
    static EnforcementFixture startFromConfig(EmbeddedPostgres postgres) {
        createSchema(postgres);
        ProxyServer proxy = ProxyServer.start(config(postgres, b -> b.policiesDir(policyDirectory())
                .catalog(postgres.superuser(), superuserPasswordFile(postgres))));
        return new EnforcementFixture(postgres, proxy, List.of(), null);
    }

    private static Path superuserPasswordFile(EmbeddedPostgres postgres) {
        try {
            Path file = Files.createTempFile("pgpolicy-catalog", ".pw");
            file.toFile().deleteOnExit();
            return Files.writeString(file, postgres.superuserPassword() + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ProxyConfig config(EmbeddedPostgres postgres, UnaryOperator<ProxyConfig.Builder> customize) {
        return customize.apply(ProxyConfig.builder()
                .listen("127.0.0.1", 0)
                .upstream(postgres.host(), postgres.port())
                .shutdownGracePeriod(Duration.ZERO)).build();
    }

    static synchronized void createSchema(EmbeddedPostgres postgres) {
        if (schemaCreated) {
            return;
        }
        postgres.createRole(APP, PASSWORD);
        postgres.createRole(ANALYST, PASSWORD);
        postgres.createDatabase(DB);
        postgres.execute(DB, """
                CREATE SCHEMA payments;
                CREATE TABLE payments.customers (id int PRIMARY KEY, name text, email text, card_number varchar(19),
                    ssn char(11), birth_date date);
                CREATE TABLE payments.orders (id int PRIMARY KEY, customer_id int, amount numeric(10,2));
                INSERT INTO payments.customers VALUES
                    (1, 'Ada Lovelace', 'ada@example.com', '4111-1111-1111-1111', '123-45-6789', '1815-12-10'),
                    (2, 'Alan Turing', 'alan@example.org', '5500-0000-0000-0004', '987-65-4321', '1912-06-23');
                INSERT INTO payments.orders VALUES (1, 1, 10.50), (2, 2, 20.00), (3, 1, 7.25);
                GRANT USAGE ON SCHEMA payments TO enf_app, enf_analyst;
                GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA payments TO enf_app;
                GRANT SELECT ON ALL TABLES IN SCHEMA payments TO enf_analyst;
                """);
        schemaCreated = true;
    }

    int port() {
        return proxy.address().getPort();
    }

    PgClient client(String user) {
        return PgClient.to("127.0.0.1", port()).user(user)
                .password(user.equals(postgres.superuser()) ? postgres.superuserPassword() : PASSWORD)
                .database(DB).sslMode("disable");
    }

    /** The same client straight to the server, for comparing what PostgreSQL itself answers. */
    PgClient direct(String user) {
        return PgClient.to(postgres.host(), postgres.port()).user(user)
                .password(user.equals(postgres.superuser()) ? postgres.superuserPassword() : PASSWORD)
                .database(DB).sslMode("disable");
    }

    Connection jdbc(String user, String extra) throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("user", user);
        properties.setProperty("password", user.equals(postgres.superuser()) ? postgres.superuserPassword() : PASSWORD);
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port() + "/" + DB + "?sslmode=disable"
                + (extra.isEmpty() ? "" : "&" + extra), properties);
    }

    long orders() {
        return Long.parseLong(postgres.query(DB, "SELECT count(*) FROM payments.orders").get(0).get(0));
    }

    @Override
    public void close() {
        proxy.close();
        if (ownHooks != null) {
            ownHooks.close();
        }
    }
}
