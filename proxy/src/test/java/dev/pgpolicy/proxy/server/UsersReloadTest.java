package dev.pgpolicy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.identity.UserDirectory;
import dev.pgpolicy.proxy.scram.ScramVerifier;
import dev.pgpolicy.proxy.testing.PostgresExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
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
import org.junit.jupiter.api.io.TempDir;

/** Reloading the users file without restart: removed and changed users lose their sessions. */
@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UsersReloadTest {

    private static final String DB = "proxy_reload";
    private static final String ROLE = "proxy_reload_account";
    private static final SecureRandom RANDOM = new SecureRandom();

    private Path users;
    private ProxyFixture fixture;

    @BeforeAll
    void start(EmbeddedPostgres postgres, @TempDir Path dir) throws IOException {
        postgres.createDatabase(DB);
        postgres.createRole(ROLE, "reload account secret");
        Files.writeString(dir.resolve("account"), "reload account secret");
        users = dir.resolve("users.yaml");
        write("ana", "bob", "cy", "bob-old");
        fixture = ProxyFixture.start(postgres, b -> b.authMode(ProxyConfig.AuthMode.PROXY).usersFile(users));
    }

    @AfterAll
    void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    /** The named users (null: left out); each one's password is its name, except bob's. */
    private void write(String first, String second, String third, String bobPassword) throws IOException {
        StringBuilder yaml = new StringBuilder("users:\n");
        for (String name : new String[] {first, second, third}) {
            if (name == null) {
                continue;
            }
            String password = name.equals("bob") ? bobPassword : name;
            yaml.append("  ").append(name).append(": { scram: \"")
                    .append(ScramVerifier.generate(password.toCharArray(), 4096, RANDOM).encode())
                    .append("\", upstream: app }\n");
        }
        yaml.append("accounts:\n  app: { user: ").append(ROLE).append(", password_file: account }\n");
        Files.writeString(users, yaml.toString());
    }

    @Test
    void removedAndChangedUsersLoseTheirSessionsOthersKeepThem() throws Exception {
        try (Connection ana = connect("ana", "ana"); Connection bob = connect("bob", "bob-old");
                Connection cy = connect("cy", "cy")) {
            assertThat(currentUser(ana)).isEqualTo(ROLE);
            // write() would give cy a new salt, a change; cy's line is kept byte for byte instead.
            String cyLine = Files.readAllLines(users).stream().filter(l -> l.startsWith("  cy:")).findFirst().orElseThrow();
            write(null, "bob", null, "bob-new");
            Files.writeString(users, Files.readString(users).replace("users:\n", "users:\n" + cyLine + "\n"));

            UserDirectory.ReloadResult result = fixture.proxy.reloadUsers().orElseThrow();
            assertThat(result).isInstanceOfSatisfying(UserDirectory.Applied.class, applied -> {
                assertThat(applied.removed()).containsExactly("ana");
                assertThat(applied.changed()).containsExactly("bob");
            });

            assertThat(failure(ana).getSQLState()).isEqualTo("57P01");
            assertThat(failure(bob).getSQLState()).isEqualTo("57P01");
            assertThat(currentUser(cy)).isEqualTo(ROLE);
        }
        assertThatThrownBy(() -> connect("ana", "ana")).isInstanceOfSatisfying(SQLException.class,
                e -> assertThat(e.getSQLState()).isEqualTo("28P01"));
        try (Connection bob = connect("bob", "bob-new")) {
            assertThat(currentUser(bob)).isEqualTo(ROLE);
        }
    }

    @Test
    void anInvalidFileKeepsThePreviousVersion() throws Exception {
        Path copy = users.resolveSibling("users.yaml.good");
        Files.copy(users, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        try {
            Files.writeString(users, "users:\n  zed: { scram: \"not a verifier\", upstream: nowhere }\n");
            assertThat(fixture.proxy.reloadUsers().orElseThrow()).isInstanceOf(UserDirectory.Rejected.class);
        } finally {
            Files.copy(copy, users, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        try (Connection cy = connect("cy", "cy")) {
            assertThat(currentUser(cy)).isEqualTo(ROLE);
        }
    }

    private Connection connect(String user, String password) throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("user", user);
        properties.setProperty("password", password);
        return DriverManager.getConnection(fixture.jdbcUrl(DB, ""), properties);
    }

    private static String currentUser(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement(); ResultSet rs = statement.executeQuery("SELECT current_user")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static SQLException failure(Connection connection) {
        SQLException[] caught = new SQLException[1];
        // The FATAL arrives on its own; the client reads it with its next statement.
        for (int attempt = 0; attempt < 50 && caught[0] == null; attempt++) {
            try {
                currentUser(connection);
                Thread.sleep(50);
            } catch (SQLException e) {
                caught[0] = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        if (caught[0] == null) {
            throw new AssertionError("the session was not ended");
        }
        return caught[0];
    }
}
