package dev.pgpolicy.proxy.server;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.session.SessionHooks;
import dev.pgpolicy.proxy.testing.PgClient;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import java.util.function.UnaryOperator;

/** A proxy in front of the shared test cluster, started in-process as {@code serve} and the demo do. */
final class ProxyFixture implements AutoCloseable {

    final EmbeddedPostgres postgres;
    final ProxyServer proxy;

    private ProxyFixture(EmbeddedPostgres postgres, ProxyServer proxy) {
        this.postgres = postgres;
        this.proxy = proxy;
    }

    static ProxyFixture start(EmbeddedPostgres postgres) {
        return start(postgres, UnaryOperator.identity(), SessionHooks.RELAY);
    }

    static ProxyFixture start(EmbeddedPostgres postgres, UnaryOperator<ProxyConfig.Builder> customize) {
        return start(postgres, customize, SessionHooks.RELAY);
    }

    static ProxyFixture start(EmbeddedPostgres postgres, UnaryOperator<ProxyConfig.Builder> customize, SessionHooks hooks) {
        ProxyConfig.Builder builder = ProxyConfig.builder()
                .listen("127.0.0.1", 0)
                .upstream(postgres.host(), postgres.port())
                .shutdownGracePeriod(java.time.Duration.ZERO);
        return new ProxyFixture(postgres, ProxyServer.start(customize.apply(builder).build(), hooks));
    }

    int port() {
        return proxy.address().getPort();
    }

    /** psql/pgbench through the proxy as the superuser, plain TCP to the proxy. */
    PgClient client(String database) {
        return PgClient.to("127.0.0.1", port())
                .user(postgres.superuser()).password(postgres.superuserPassword())
                .database(database).sslMode("disable");
    }

    String jdbcUrl(String database, String extra) {
        return "jdbc:postgresql://127.0.0.1:" + port() + "/" + database + "?sslmode=disable"
                + (extra.isEmpty() ? "" : "&" + extra);
    }

    Connection jdbc(String database, String extra) throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("user", postgres.superuser());
        properties.setProperty("password", postgres.superuserPassword());
        return DriverManager.getConnection(jdbcUrl(database, extra), properties);
    }

    @Override
    public void close() {
        proxy.close();
    }
}
