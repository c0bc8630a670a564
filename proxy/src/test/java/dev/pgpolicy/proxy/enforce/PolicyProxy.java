package dev.pgpolicy.proxy.enforce;

import dev.pgpolicy.proxy.catalog.CatalogCache;
import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import dev.pgpolicy.proxy.server.ProxyConfig;
import dev.pgpolicy.proxy.server.ProxyServer;
import dev.pgpolicy.proxy.testing.Frames;
import dev.pgpolicy.proxy.testing.RawSocket;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.Map;

/**
 * A proxy enforcing one policy directory in front of a test's own cluster, for tests that write
 * their own policy and speak the wire protocol through it. Closing it stops the proxy, then the
 * hooks (and their catalog connections); the cluster is the test's to close.
 */
final class PolicyProxy implements AutoCloseable {

    final PolicyHooks hooks;
    private final ProxyServer proxy;

    private PolicyProxy(PolicyHooks hooks, ProxyServer proxy) {
        this.hooks = hooks;
        this.proxy = proxy;
    }

    /** Without a catalog account: enough for denies and limits, not for masks. */
    static PolicyProxy start(EmbeddedPostgres postgres, Path policies, DecisionListener listener) {
        return start(postgres, PolicyHooks.forDirectory(policies, listener));
    }

    /** With the cluster's superuser as the catalog account, so that masks resolve. */
    static PolicyProxy startWithCatalog(EmbeddedPostgres postgres, Path policies, DecisionListener listener) {
        CatalogCache catalog = new CatalogCache(database -> DriverManager.getConnection(postgres.jdbcUrl(database),
                postgres.superuser(), postgres.superuserPassword()));
        return start(postgres, PolicyHooks.forDirectory(policies, listener, catalog));
    }

    private static PolicyProxy start(EmbeddedPostgres postgres, PolicyHooks hooks) {
        try {
            return new PolicyProxy(hooks, ProxyServer.start(ProxyConfig.builder().listen("127.0.0.1", 0)
                    .upstream(postgres.host(), postgres.port()).shutdownGracePeriod(Duration.ZERO).build(), hooks));
        } catch (RuntimeException e) {
            hooks.close();
            throw e;
        }
    }

    /** A session of {@code user} (trust authentication in the cluster's pg_hba.conf), ready for a query. */
    RawSocket session(String user) {
        RawSocket socket = RawSocket.connect("127.0.0.1", proxy.address().getPort()).readTimeout(Duration.ofSeconds(60));
        try {
            socket.write(Frames.startup(Map.of("user", user, "database", "postgres")));
            while (socket.readMessage().type() != 'Z') {
                // AuthenticationOk, ParameterStatus, BackendKeyData
            }
            return socket;
        } catch (RuntimeException | Error e) {
            socket.close();
            throw e;
        }
    }

    @Override
    public void close() {
        try {
            proxy.close();
        } finally {
            hooks.close();
        }
    }
}
