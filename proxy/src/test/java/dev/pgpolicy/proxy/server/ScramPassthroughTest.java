package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.embedded.ProcessResult;
import dev.pgpolicy.proxy.testing.PgClient;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/** The client's SCRAM exchange is relayed to the server, which stays the judge of passwords. */
@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ScramPassthroughTest {

    private static final String DB = "scram_relay";
    private static final String USER = "scram_app";
    private static final String PASSWORD = "correct horse battery staple";

    private ProxyFixture fixture;

    @BeforeAll
    void start(EmbeddedPostgres postgres) {
        postgres.createDatabase(DB);
        postgres.createRole(USER, PASSWORD);
        fixture = ProxyFixture.start(postgres);
    }

    @AfterAll
    void stop() {
        fixture.close();
    }

    private PgClient as(String password) {
        return PgClient.to("127.0.0.1", fixture.port()).user(USER).password(password).database(DB).sslMode("prefer");
    }

    @Test
    void rightPasswordConnectsAsThatUser() {
        ProcessResult result = as(PASSWORD).psql("SELECT current_user, session_user");
        assertThat(result.succeeded()).as(result.describe()).isTrue();
        assertThat(result.stdout().strip()).isEqualTo(USER + "|" + USER);
    }

    @Test
    void wrongPasswordGetsTheServers28P01() {
        ProcessResult result = as("wrong password").psql("SELECT 1");
        assertThat(result.succeeded()).isFalse();
        assertThat(result.stderr()).contains("password authentication failed for user \"" + USER + "\"");

        Properties properties = new Properties();
        properties.setProperty("user", USER);
        properties.setProperty("password", "also wrong");
        assertThatThrownBy(() -> DriverManager.getConnection(fixture.jdbcUrl(DB, ""), properties))
                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28P01"));
    }

    @Test
    void pgjdbcAuthenticatesWithScram() throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("user", USER);
        properties.setProperty("password", PASSWORD);
        try (Connection connection = DriverManager.getConnection(fixture.jdbcUrl(DB, ""), properties);
                Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("SELECT current_user")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo(USER);
        }
    }

    @Test
    void unknownDatabaseIsTheServersError() {
        ProcessResult result = PgClient.to("127.0.0.1", fixture.port()).user(USER).password(PASSWORD)
                .database("no_such_database").sslMode("disable").psql("SELECT 1");
        assertThat(result.succeeded()).isFalse();
        assertThat(result.stderr()).contains("database \"no_such_database\" does not exist");
    }
}
