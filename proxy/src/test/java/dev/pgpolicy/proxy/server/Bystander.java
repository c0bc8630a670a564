package dev.pgpolicy.proxy.server;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An innocent pgjdbc session that runs simple queries through the proxy in a loop while a test
 * attacks the same proxy, and remembers the first thing that went wrong: whatever another
 * connection does must not reach it.
 */
final class Bystander implements AutoCloseable {

    private static final String QUERY = "SELECT count(*) FROM generate_series(1, 1000)";

    private final Connection connection;
    private final Thread loop;
    private final AtomicInteger queries = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile boolean running = true;

    private Bystander(Connection connection) {
        this.connection = connection;
        this.loop = new Thread(this::run, "bystander");
        loop.setDaemon(true);
    }

    /** Connects as {@code user} without a password (a role the server trusts) and starts the loop. */
    static Bystander start(int proxyPort, String user) throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("user", user);
        properties.setProperty("preferQueryMode", "simple");
        properties.setProperty("socketTimeout", "30");
        properties.setProperty("ApplicationName", "bystander");
        Connection connection = DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + proxyPort + "/postgres?sslmode=disable", properties);
        Bystander bystander = new Bystander(connection);
        bystander.loop.start();
        return bystander;
    }

    private void run() {
        try (Statement statement = connection.createStatement()) {
            while (running) {
                try (ResultSet rows = statement.executeQuery(QUERY)) {
                    if (!rows.next() || rows.getLong(1) != 1000) {
                        throw new IllegalStateException("wrong answer to " + QUERY);
                    }
                }
                queries.incrementAndGet();
                Thread.sleep(5);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (SQLException | RuntimeException e) {
            failure.compareAndSet(null, e);
        }
    }

    /** Stops the loop; returns how many queries succeeded; throws the first failure. */
    int stop() throws InterruptedException {
        running = false;
        loop.join(35_000);
        if (loop.isAlive()) {
            throw new AssertionError("the bystander's query did not return within 35 s");
        }
        Throwable first = failure.get();
        if (first != null) {
            throw new AssertionError("the bystander session saw an error after " + queries.get() + " queries", first);
        }
        return queries.get();
    }

    @Override
    public void close() throws SQLException {
        running = false;
        connection.close();
    }
}
