package dev.pgpolicy.proxy.enforce;

import static dev.pgpolicy.proxy.enforce.EnforcementFixture.ANALYST;
import static dev.pgpolicy.proxy.enforce.EnforcementFixture.APP;
import static dev.pgpolicy.proxy.enforce.EnforcementFixture.PASSWORD;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpolicy.proxy.catalog.CatalogCache;
import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.server.ProxyConfig;
import dev.pgpolicy.proxy.server.ProxyServer;
import dev.pgpolicy.proxy.testing.HexDump;
import dev.pgpolicy.proxy.testing.PgClient;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.io.Writer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.copy.CopyManager;
import org.postgresql.core.BaseConnection;
import org.postgresql.util.PSQLException;

/**
 * {@code COPY ... TO STDOUT} through the live proxy, with psql ({@code COPY} and {@code \copy})
 * and pgjdbc's CopyManager: the analyst gets masked email, card and ssn (and NULL for the masked
 * date) in text and CSV, whatever the COPY's form and options; every unmasked value, tabs,
 * newlines, backslashes, quotes and commas included, comes out as PostgreSQL wrote it; binary
 * COPY of a masked table is refused; the DBA's COPY is byte for byte what the server sends.
 */
@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CopyMaskingTest {

    /** The enforcement schema with values that need escaping and quoting in both formats. */
    private static final String DB = "copy_mask_test";
    /** The same schema with 100 000 customers. */
    private static final String BULK_DB = "copy_mask_bulk";
    private static final int BULK_ROWS = 100_000;

    private static final String SCHEMA = """
            CREATE SCHEMA payments;
            CREATE TABLE payments.customers (id int PRIMARY KEY, name text, email text, card_number varchar(19),
                ssn char(11), birth_date date);
            CREATE TABLE payments.orders (id int PRIMARY KEY, customer_id int, amount numeric(10,2));
            GRANT USAGE ON SCHEMA payments TO enf_app, enf_analyst;
            GRANT SELECT ON ALL TABLES IN SCHEMA payments TO enf_app, enf_analyst;
            """;

    private static final String TEXT = """
            1\tAda Lovelace\ta***@example.com\tXXXX-XXXX-XXXX-1111\t***-**-****\t\\N
            2\tTab\\there, new\\nline, back\\\\slash, "quote", comma\ta***@example.org\tXXXX-XXXX-XXXX-0004\t***-**-****\t\\N
            3\t\\N\t\\N\t\\N\t\\N\t\\N
            4\t\\\\N\tx***@example.net\tXXXX-XXXX-XXXX-9999\t***-**-****\t\\N
            5\tZoë Ørsted\té***@exemple.fr\tXXXX-XXXX-XXXX-3456\t***-**-****\t\\N
            """;

    private static final String CSV = """
            1,Ada Lovelace,a***@example.com,XXXX-XXXX-XXXX-1111,***-**-****,
            2,"Tab\there, new
            line, back\\slash, ""quote"", comma",a***@example.org,XXXX-XXXX-XXXX-0004,***-**-****,
            3,,,,,
            4,\\N,x***@example.net,XXXX-XXXX-XXXX-9999,***-**-****,
            5,Zoë Ørsted,é***@exemple.fr,XXXX-XXXX-XXXX-3456,***-**-****,
            """;

    private EnforcementFixture fixture;

    @BeforeAll
    void start(EmbeddedPostgres postgres) {
        fixture = EnforcementFixture.start(postgres);
        createDatabase(postgres, DB, SCHEMA + """
                INSERT INTO payments.customers VALUES
                    (1, 'Ada Lovelace', 'ada@example.com', '4111-1111-1111-1111', '123-45-6789', '1815-12-10'),
                    (2, E'Tab\\there, new\\nline, back\\\\slash, "quote", comma', 'alan@example.org',
                        '5500-0000-0000-0004', '987-65-4321', '1912-06-23'),
                    (3, NULL, NULL, NULL, NULL, NULL),
                    (4, E'\\\\N', 'x,y@example.net', '9999-9999-9999-9999', '000-00-0000', '2000-01-01'),
                    (5, 'Zoë Ørsted', 'émile@exemple.fr', '1234-5678-9012-3456', '111-22-3333', '1990-01-01');
                INSERT INTO payments.orders VALUES (1, 1, 10.50), (2, 2, 20.00), (3, 1, 7.25);
                """);
        createDatabase(postgres, BULK_DB, SCHEMA + """
                INSERT INTO payments.customers
                SELECT g, 'name ' || g, 'user' || g || '@example.com', '4111-1111-1111-' || lpad((g % 10000)::text, 4, '0'),
                       '123-45-6789', DATE '2000-01-01' + g % 1000
                  FROM generate_series(1, ROWS) g;
                """.replace("ROWS", Integer.toString(BULK_ROWS)));
    }

    private static synchronized void createDatabase(EmbeddedPostgres postgres, String name, String script) {
        if (!postgres.query("postgres", "SELECT 1 FROM pg_database WHERE datname = '" + name + "'").isEmpty()) {
            return;
        }
        postgres.createDatabase(name);
        postgres.execute(name, script);
    }

    @AfterAll
    void stop() {
        fixture.close();
    }

    private PgClient client(String user) {
        return fixture.client(user).database(DB);
    }

    private static String copied(PgClient client, String command) {
        ProcessResult result = client.psqlWith("--quiet", "--command=" + command);
        assertThat(result.succeeded()).as(result.describe()).isTrue();
        return result.stdout();
    }

    private Connection jdbc(int port, String user, String database) throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("user", user);
        properties.setProperty("password", user.equals(fixture.postgres.superuser()) ? fixture.postgres.superuserPassword()
                : PASSWORD);
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database + "?sslmode=disable",
                properties);
    }

    @ParameterizedTest
    @ValueSource(strings = {"COPY payments.customers TO STDOUT", "copy Payments.Customers to stdout with (format text)",
            "\\copy payments.customers to stdout"})
    void theAnalystCopiesTheTableAsTextWithMaskedColumns(String command) {
        assertThat(copied(client(ANALYST), command)).isEqualTo(TEXT);
    }

    @ParameterizedTest
    @ValueSource(strings = {"COPY payments.customers TO STDOUT (FORMAT csv, HEADER)",
            "COPY payments.customers TO STDOUT WITH CSV HEADER",
            "\\copy payments.customers to stdout with (format csv, header true)"})
    void theAnalystCopiesTheTableAsCsvWithHeaderAndMaskedColumns(String command) {
        assertThat(copied(client(ANALYST), command))
                .isEqualTo("id,name,email,card_number,ssn,birth_date\n" + CSV);
    }

    @Test
    void aColumnListIsMaskedInItsOwnOrder() {
        assertThat(copied(client(ANALYST), "COPY payments.customers (ssn, id, email) TO STDOUT")).isEqualTo("""
                ***-**-****\t1\ta***@example.com
                ***-**-****\t2\ta***@example.org
                \\N\t3\t\\N
                ***-**-****\t4\tx***@example.net
                ***-**-****\t5\té***@exemple.fr
                """);
    }

    @Test
    void aQueryWithAJoinIsMaskedByEachColumnsOrigin() {
        assertThat(copied(client(ANALYST), "COPY (SELECT c.email AS contact, o.amount, c.name, c.card_number AS pan"
                + " FROM payments.orders o JOIN payments.customers c ON c.id = o.customer_id ORDER BY o.id) TO STDOUT"))
                .isEqualTo("""
                        a***@example.com\t10.50\tAda Lovelace\tXXXX-XXXX-XXXX-1111
                        a***@example.org\t20.00\tTab\\there, new\\nline, back\\\\slash, "quote", comma\tXXXX-XXXX-XXXX-0004
                        a***@example.com\t7.25\tAda Lovelace\tXXXX-XXXX-XXXX-1111
                        """);
    }

    @Test
    void aMaskedColumnOfAnotherTypeIsNullAndAComputedColumnBesideAMaskedOneToo() {
        assertThat(copied(client(ANALYST), "COPY (SELECT birth_date, id, email, 'x' || name FROM payments.customers"
                + " WHERE id = 1) TO STDOUT")).isEqualTo("\\N\t1\ta***@example.com\t\\N\n");
        assertThat(copied(client(ANALYST), "COPY (SELECT id, 'x' || name FROM payments.customers WHERE id = 1) TO STDOUT"))
                .as("no masked column named: computed values pass").isEqualTo("1\txAda Lovelace\n");
    }

    @Test
    void customDelimiterAndNullStringAreKept() {
        assertThat(copied(client(ANALYST), "COPY payments.customers TO STDOUT (DELIMITER '|', NULL 'NULL')"))
                .isEqualTo("""
                        1|Ada Lovelace|a***@example.com|XXXX-XXXX-XXXX-1111|***-**-****|NULL
                        2|Tab\\there, new\\nline, back\\\\slash, "quote", comma|a***@example.org|XXXX-XXXX-XXXX-0004|***-**-****|NULL
                        3|NULL|NULL|NULL|NULL|NULL
                        4|\\\\N|x***@example.net|XXXX-XXXX-XXXX-9999|***-**-****|NULL
                        5|Zoë Ørsted|é***@exemple.fr|XXXX-XXXX-XXXX-3456|***-**-****|NULL
                        """);
        assertThat(copied(client(ANALYST), "COPY payments.customers (id, email, name) TO STDOUT"
                + " (FORMAT csv, DELIMITER ';', NULL 'none', QUOTE '''', FORCE_QUOTE (email))")).isEqualTo("""
                1;'a***@example.com';Ada Lovelace
                2;'a***@example.org';'Tab\there, new
                line, back\\slash, "quote", comma'
                3;none;none
                4;'x***@example.net';\\N
                5;'é***@exemple.fr';Zoë Ørsted
                """);
    }

    @Test
    void theAppSeesOnlyItsOwnMask() {
        assertThat(copied(fixture.client(APP).database(DB), "COPY payments.customers (id, email, ssn) TO STDOUT (FORMAT csv)"))
                .isEqualTo("1,ada@example.com,***-**-****\n2,alan@example.org,***-**-****\n3,,\n4,\"x,y@example.net\",***-**-****\n"
                        + "5,émile@exemple.fr,***-**-****\n");
    }

    @Test
    void copyManagerGetsTheSameMaskedRows() throws Exception {
        try (Connection connection = jdbc(fixture.port(), ANALYST, DB)) {
            CopyManager copy = new CopyManager(connection.unwrap(BaseConnection.class));
            StringWriter csv = new StringWriter();
            assertThat(copy.copyOut("COPY payments.customers TO STDOUT (FORMAT csv)", csv)).isEqualTo(5);
            assertThat(csv.toString()).isEqualTo(CSV);
            StringWriter text = new StringWriter();
            copy.copyOut("COPY (SELECT * FROM payments.customers ORDER BY id) TO STDOUT", text);
            assertThat(text.toString()).isEqualTo(TEXT);
        }
    }

    @Test
    void valuesAreMaskedInTheCopysOwnEncoding() throws Exception {
        try (Connection connection = jdbc(fixture.port(), ANALYST, DB)) {
            byte[] latin1 = copyOut(connection, "COPY (SELECT id, name, email FROM payments.customers WHERE id = 5) TO STDOUT"
                    + " (ENCODING 'LATIN1')");
            assertThat(HexDump.of(latin1)).isEqualTo(HexDump.of("5\tZoë Ørsted\té***@exemple.fr\n"
                    .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)));
        }
    }

    @Test
    void binaryCopyOfAMaskedTableIsRefusedNamingTheMaskRuleAndTheSessionGoesOn() throws Exception {
        ProcessResult result = client(ANALYST).psqlWith("--quiet", "--set=ON_ERROR_STOP=0",
                "--command=COPY payments.customers TO STDOUT (FORMAT binary)",
                "--command=COPY payments.orders (id) TO STDOUT");
        assertThat(result.stderr()).contains("ERROR:  pgpolicy: permission denied by rule \"")
                .contains("binary COPY cannot be masked");
        assertThat(result.stdout()).isEqualTo("1\n2\n3\n");
        try (Connection connection = jdbc(fixture.port(), ANALYST, DB)) {
            CopyManager copy = new CopyManager(connection.unwrap(BaseConnection.class));
            assertThatThrownBy(() -> copy.copyOut("COPY (SELECT email FROM payments.customers) TO STDOUT WITH BINARY",
                    new ByteArrayOutputStream()))
                    .isInstanceOfSatisfying(PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            StringWriter orders = new StringWriter();
            copy.copyOut("COPY payments.orders TO STDOUT", orders);
            assertThat(orders.toString()).isEqualTo("1\t1\t10.50\n2\t2\t20.00\n3\t1\t7.25\n");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"COPY payments.customers TO STDOUT", "COPY payments.customers TO STDOUT (FORMAT csv, HEADER)",
            "COPY payments.customers TO STDOUT (FORMAT binary)",
            "COPY (SELECT c.*, o.amount FROM payments.customers c JOIN payments.orders o ON o.customer_id = c.id) TO STDOUT"})
    void theDbaGetsExactlyWhatTheServerSends(String command) throws Exception {
        String dba = fixture.postgres.superuser();
        byte[] throughProxy;
        byte[] direct;
        try (Connection proxied = jdbc(fixture.port(), dba, DB);
             Connection straight = jdbc(fixture.postgres.port(), dba, DB)) {
            throughProxy = copyOut(proxied, command);
            direct = copyOut(straight, command);
        }
        assertThat(new String(throughProxy, java.nio.charset.StandardCharsets.UTF_8)).contains("ada@example.com");
        assertThat(HexDump.of(throughProxy)).isEqualTo(HexDump.of(direct));
    }

    private static byte[] copyOut(Connection connection, String command) throws SQLException, IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new CopyManager(connection.unwrap(BaseConnection.class)).copyOut(command, out);
        return out.toByteArray();
    }

    @Test
    void aHundredThousandRowMaskedCopyCompletes() throws Exception {
        try (Connection connection = jdbc(fixture.port(), ANALYST, BULK_DB)) {
            RowCounter rows = new RowCounter();
            long copied = new CopyManager(connection.unwrap(BaseConnection.class))
                    .copyOut("COPY payments.customers TO STDOUT (FORMAT csv)", rows);
            assertThat(copied).isEqualTo(BULK_ROWS);
            assertThat(rows.lines).isEqualTo(BULK_ROWS);
            assertThat(rows.maskedEmails).isEqualTo(BULK_ROWS);
            assertThat(rows.clearValues).isZero();
        }
    }

    /** Counts CSV lines as they stream, checking each row's email, card and ssn are masked. */
    private static final class RowCounter extends Writer {
        private final StringBuilder line = new StringBuilder();
        long lines;
        long maskedEmails;
        long clearValues;

        @Override
        public void write(char[] buffer, int offset, int length) {
            for (int i = offset; i < offset + length; i++) {
                if (buffer[i] == '\n') {
                    String[] columns = line.toString().split(",", -1);
                    lines++;
                    if (columns[2].equals("u***@example.com")) {
                        maskedEmails++;
                    }
                    if (!columns[3].startsWith("XXXX-XXXX-XXXX-") || !columns[4].equals("***-**-****")
                            || !columns[5].isEmpty()) {
                        clearValues++;
                    }
                    line.setLength(0);
                } else {
                    line.append(buffer[i]);
                }
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }

    @Test
    void unqualifiedNamesResolveThroughTheSessionsSearchPath() {
        PgClient analyst = client(ANALYST).env("PGOPTIONS", "-c search_path=payments");
        assertThat(copied(analyst, "COPY customers (id, email) TO STDOUT WITH CSV"))
                .startsWith("1,a***@example.com\n2,a***@example.org\n");
        assertThat(copied(analyst, "COPY (SELECT email FROM customers WHERE id = 1) TO STDOUT"))
                .isEqualTo("a***@example.com\n");
    }

    @Test
    void aCatalogAccountWithoutUsageOnTheSessionsSchemasIsRefused() {
        String role = "enf_copy_catalog";
        if (fixture.postgres.query("postgres", "SELECT 1 FROM pg_roles WHERE rolname = '" + role + "'").isEmpty()) {
            fixture.postgres.createRole(role, PASSWORD);
        }
        CatalogCache limited = new CatalogCache(database -> DriverManager.getConnection(
                fixture.postgres.jdbcUrl(database), role, PASSWORD));
        try (ProxyWithCatalog proxy = new ProxyWithCatalog(limited)) {
            // PostgreSQL would skip the schema the account cannot use and resolve "customers" elsewhere.
            ProcessResult refused = proxy.analyst().env("PGOPTIONS", "-c search_path=payments")
                    .psqlWith("--quiet", "--command=COPY customers TO STDOUT");
            assertThat(refused.succeeded()).isFalse();
            assertThat(refused.stderr()).contains("ERROR:  pgpolicy: permission denied by rule \"")
                    .contains("no USAGE on schema \"payments\"").doesNotContain("example");
            assertThat(refused.stdout()).isEmpty();
            ProcessResult qualified = proxy.analyst().psqlWith("--quiet", "--command=COPY payments.customers TO STDOUT");
            assertThat(qualified.stderr()).contains("permission denied for schema payments");
            assertThat(qualified.stdout()).isEmpty();
        }
    }

    /** A second proxy enforcing the same policies, with its own catalog cache. */
    private final class ProxyWithCatalog implements AutoCloseable {
        private final PolicyHooks hooks;
        private final ProxyServer proxy;

        ProxyWithCatalog(CatalogCache catalog) {
            hooks = PolicyHooks.forDirectory(EnforcementFixture.policyDirectory(), DecisionListener.NONE, catalog);
            proxy = ProxyServer.start(ProxyConfig.builder().listen("127.0.0.1", 0)
                    .upstream(fixture.postgres.host(), fixture.postgres.port()).shutdownGracePeriod(Duration.ZERO)
                    .build(), hooks);
        }

        PgClient analyst() {
            return PgClient.to("127.0.0.1", proxy.address().getPort()).user(ANALYST).password(PASSWORD).database(DB)
                    .sslMode("disable");
        }

        @Override
        public void close() {
            proxy.close();
            hooks.close();
        }
    }

    @Test
    void withoutAWorkingCatalogAMaskedCopyIsRefusedAndSaysWhy() {
        CatalogCache broken = new CatalogCache(database -> {
            throw new SQLException("the catalog server is down");
        });
        try (ProxyWithCatalog proxy = new ProxyWithCatalog(broken)) {
            PgClient analyst = proxy.analyst();
            ProcessResult refused = analyst.psqlWith("--quiet", "--set=ON_ERROR_STOP=0",
                    "--command=COPY payments.customers TO STDOUT",
                    "--command=COPY payments.orders (id) TO STDOUT");
            assertThat(refused.stderr()).contains("ERROR:  pgpolicy: permission denied by rule \"")
                    .contains("could not describe the output of COPY payments.customers")
                    .contains("the catalog server is down");
            assertThat(refused.stdout()).as("a table without masks still copies").isEqualTo("1\n2\n3\n")
                    .doesNotContain("example");
        }
    }
}
