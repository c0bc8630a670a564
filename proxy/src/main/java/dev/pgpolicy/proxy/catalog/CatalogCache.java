package dev.pgpolicy.proxy.catalog;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.pgpolicy.proxy.server.ProxyConfig;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.DriverManager;
import java.util.Properties;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the (table OID, attribute number) of a RowDescription field into
 * {@code schema.table.column} (DESIGN.md, "Masking"), so that aliases, {@code SELECT *}, joins
 * and CTEs cannot hide a masked column: the server names the column's origin, not the query.
 *
 * <p>OIDs are per database, so each database has its own metadata connection, opened by the
 * proxy with its own account ({@code catalog.user}); the client's connection is never used for
 * it, so the client's transaction state and result stream stay untouched. Tables are cached
 * whole (all their columns) in Caffeine; everything is dropped after DDL and on a policy reload.
 * A connection serves one lookup at a time.
 */
public final class CatalogCache implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CatalogCache.class);
    private static final long CACHED_TABLES = 100_000;

    private static final String COLUMNS_OF_TABLE = """
            SELECT a.attrelid, a.attnum, n.nspname, c.relname, a.attname
              FROM pg_catalog.pg_attribute a
              JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
              JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped""";

    private static final String COLUMNS_OF_NAMED_TABLES = """
            SELECT a.attrelid, a.attnum, n.nspname, c.relname, a.attname
              FROM pg_catalog.pg_attribute a
              JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
              JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relname = ANY (?) AND a.attnum > 0 AND NOT a.attisdropped""";

    /** Where a result column comes from. */
    public record Column(String schema, String table, String column) {
        public Column {
            Objects.requireNonNull(schema);
            Objects.requireNonNull(table);
            Objects.requireNonNull(column);
        }
    }

    /** Opens a metadata connection to one database. */
    public interface Connector {
        Connection connect(String database) throws SQLException;
    }

    private record TableKey(String database, int tableOid) {
    }

    private final Connector connector;
    private final Cache<TableKey, Map<Integer, Column>> tables =
            Caffeine.newBuilder().maximumSize(CACHED_TABLES).build();
    private final Map<String, Connection> connections = new ConcurrentHashMap<>();

    /**
     * A cache whose metadata connections go to the configured upstream server as
     * {@code catalog.user}, with the same TLS mode and CA as the proxied connections; empty when
     * no catalog account is configured.
     */
    public static Optional<CatalogCache> forUpstream(ProxyConfig config) {
        if (config.catalogUser().isEmpty()) {
            return Optional.empty();
        }
        String user = config.catalogUser().get();
        Optional<Path> passwordFile = config.catalogPasswordFile();
        return Optional.of(new CatalogCache(database -> {
            Properties properties = new Properties();
            properties.setProperty("user", user);
            if (passwordFile.isPresent()) {
                try {
                    properties.setProperty("password", Files.readString(passwordFile.get()).strip());
                } catch (IOException e) {
                    throw new SQLException("cannot read catalog.password_file " + passwordFile.get() + ": " + e.getMessage(), e);
                }
            }
            properties.setProperty("sslmode", config.upstreamTls().configName());
            config.upstreamCa().ifPresent(ca -> properties.setProperty("sslrootcert", ca.toString()));
            properties.setProperty("ApplicationName", "pgpolicy catalog");
            properties.setProperty("connectTimeout", "10");
            properties.setProperty("socketTimeout", "10");
            properties.setProperty("readOnly", "true");
            String url = "jdbc:postgresql://" + hostForUrl(config.upstream().host()) + ":" + config.upstream().port()
                    + "/" + URLEncoder.encode(database, StandardCharsets.UTF_8);
            return DriverManager.getConnection(url, properties);
        }));
    }

    private static String hostForUrl(String host) {
        return host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    public CatalogCache(Connector connector) {
        this.connector = Objects.requireNonNull(connector);
    }

    /** The column, from the cache; empty when it is not cached. Never blocks. */
    public Optional<Column> cached(String database, int tableOid, int attributeNumber) {
        Map<Integer, Column> columns = tables.getIfPresent(new TableKey(database, tableOid));
        return columns == null ? Optional.empty() : Optional.ofNullable(columns.get(attributeNumber));
    }

    /**
     * The column, asking the server when the table is not cached. Blocks for the round trip;
     * throws {@link SQLException} when the server cannot be asked.
     */
    public Optional<Column> column(String database, int tableOid, int attributeNumber) throws SQLException {
        Optional<Column> cached = cached(database, tableOid, attributeNumber);
        if (cached.isPresent()) {
            return cached;
        }
        load(database, COLUMNS_OF_TABLE, statement -> statement.setInt(1, tableOid));
        Map<Integer, Column> columns = tables.getIfPresent(new TableKey(database, tableOid));
        if (columns == null) {
            tables.put(new TableKey(database, tableOid), Map.of()); // no such relation (a dropped table)
            return Optional.empty();
        }
        return Optional.ofNullable(columns.get(attributeNumber));
    }

    /** Caches every table called one of {@code names} (any schema), so later lookups need no round trip. */
    public void prefetch(String database, Collection<String> names) throws SQLException {
        if (names.isEmpty()) {
            return;
        }
        load(database, COLUMNS_OF_NAMED_TABLES, statement -> {
            Array array = statement.getConnection().createArrayOf("name", names.toArray());
            statement.setArray(1, array);
        });
    }

    /** Forgets one database's tables (after DDL there). */
    public void invalidate(String database) {
        tables.asMap().keySet().removeIf(key -> key.database().equals(database));
    }

    /** Forgets everything (policy reload). */
    public void invalidateAll() {
        tables.invalidateAll();
    }

    /** Work on a metadata connection; see {@link #withConnection}. */
    public interface ConnectionWork<T> {
        T run(Connection connection) throws SQLException;
    }

    /**
     * Runs {@code work} on the metadata connection to {@code database}, alone (a connection serves
     * one lookup at a time). Work that leaves the connection unusable must throw, so that a broken
     * connection is replaced by the next lookup.
     */
    public <T> T withConnection(String database, ConnectionWork<T> work) throws SQLException {
        Connection connection = connection(database);
        synchronized (connection) {
            try {
                return work.run(connection);
            } catch (SQLException e) {
                if (connection.isClosed() || !connection.isValid(5)) {
                    connections.remove(database, connection);
                    closeQuietly(connection);
                }
                throw e;
            }
        }
    }

    private interface Binder {
        void bind(PreparedStatement statement) throws SQLException;
    }

    private void load(String database, String sql, Binder binder) throws SQLException {
        Connection connection = connection(database);
        synchronized (connection) {
            Map<Integer, Map<Integer, Column>> found = new HashMap<>();
            try (PreparedStatement statement = connection.prepareStatement(sql)) {
                binder.bind(statement);
                try (ResultSet rows = statement.executeQuery()) {
                    while (rows.next()) {
                        found.computeIfAbsent((int) rows.getLong(1), oid -> new HashMap<>())
                                .put(rows.getInt(2), new Column(rows.getString(3), rows.getString(4), rows.getString(5)));
                    }
                }
            } catch (SQLException e) {
                connections.remove(database, connection);
                closeQuietly(connection);
                throw e;
            }
            found.forEach((oid, columns) -> tables.put(new TableKey(database, oid), Map.copyOf(columns)));
        }
    }

    private Connection connection(String database) throws SQLException {
        Connection existing = connections.get(database);
        if (existing != null && !existing.isClosed()) {
            return existing;
        }
        synchronized (connections) {
            existing = connections.get(database);
            if (existing != null && !existing.isClosed()) {
                return existing;
            }
            Connection opened = connector.connect(database);
            opened.setAutoCommit(true);
            opened.setReadOnly(true);
            connections.put(database, opened);
            LOG.info("catalog: metadata connection to database {} opened", database);
            return opened;
        }
    }

    private static void closeQuietly(Connection connection) {
        try {
            connection.close();
        } catch (SQLException e) {
            LOG.debug("catalog: closing a failed metadata connection: {}", e.getMessage());
        }
    }

    @Override
    public void close() {
        connections.values().forEach(CatalogCache::closeQuietly);
        connections.clear();
    }
}
