package dev.pgpolicy.proxy.catalog;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.pgpolicy.policy.CatalogPlacements;
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
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
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

    /**
     * PostgreSQL's rule for {@code "$user"} (namespace.c, recomputeNamespacePath): the schema named
     * like the role, when it exists and the role has USAGE on it.
     */
    private static final String USER_SCHEMA = """
            SELECT EXISTS (SELECT 1
              FROM pg_catalog.pg_namespace n
              JOIN pg_catalog.pg_roles r ON r.rolname = n.nspname
             WHERE n.nspname = ? AND pg_catalog.has_schema_privilege(r.oid, n.oid, 'USAGE'))""";

    /**
     * The schemas holding relations or functions of the given names that the role may search:
     * PostgreSQL leaves schemas without USAGE out of the effective search_path, so a name there
     * never resolves to them. Every relkind counts, since any of them shadows a later schema's name.
     */
    private static final String NAME_PLACEMENTS = """
            SELECT 'r', c.relname, n.nspname
              FROM pg_catalog.pg_class c
              JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relname = ANY (?) AND pg_catalog.has_schema_privilege(?::name, n.oid, 'USAGE')
            UNION ALL
            SELECT 'f', p.proname, n.nspname
              FROM pg_catalog.pg_proc p
              JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
             WHERE p.proname = ANY (?) AND pg_catalog.has_schema_privilege(?::name, n.oid, 'USAGE')""";

    /**
     * Name lookups see DDL run through the proxy at once (it invalidates); changes made over other
     * connections are picked up after this long at most.
     */
    private static final java.time.Duration NAME_LOOKUP_LIFETIME = java.time.Duration.ofSeconds(30);

    /** How long a database whose metadata connection failed is answered "unavailable" at once. */
    private static final java.time.Duration CONNECT_RETRY_PAUSE = java.time.Duration.ofSeconds(5);

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
        // Written out: a record's generated equals and hashCode run through method-handle chains
        // (ObjectMethods) that showed in the statement path's profile; these keys are looked up
        // for every statement.
        @Override
        public boolean equals(Object other) {
            return other == this || other instanceof TableKey that
                    && Objects.equals(database, that.database) && tableOid == that.tableOid;
        }

        @Override
        public int hashCode() {
            return Objects.hashCode(database) * 31 + Integer.hashCode(tableOid);
        }
    }

    private record RoleKey(String database, String role) {
        // Written out: a record's generated equals and hashCode run through method-handle chains
        // (ObjectMethods) that showed in the statement path's profile; these keys are looked up
        // for every statement.
        @Override
        public boolean equals(Object other) {
            return other == this || other instanceof RoleKey that
                    && Objects.equals(database, that.database) && Objects.equals(role, that.role);
        }

        @Override
        public int hashCode() {
            return Objects.hashCode(database) * 31 + Objects.hashCode(role);
        }
    }

    /** {@code kind} is 'r' for relations, 'f' for functions. */
    private record NameKey(String database, String role, char kind, String name) {
        // Written out: a record's generated equals and hashCode run through method-handle chains
        // (ObjectMethods) that showed in the statement path's profile; these keys are looked up
        // for every statement.
        @Override
        public boolean equals(Object other) {
            return other == this || other instanceof NameKey that
                    && Objects.equals(database, that.database) && Objects.equals(role, that.role) && kind == that.kind
                    && Objects.equals(name, that.name);
        }

        @Override
        public int hashCode() {
            return ((Objects.hashCode(database) * 31 + Objects.hashCode(role)) * 31 + Character.hashCode(kind)) * 31
                    + Objects.hashCode(name);
        }
    }

    private final Connector connector;
    /**
     * Moves after every change of {@link #tables} (a load, an invalidation, an eviction): what was
     * derived from the cached columns under one value is still what they say while it stays.
     * Changes bump it after they happen, so a reader that saw a value read columns no older than it.
     */
    private final AtomicLong generation = new AtomicLong();
    // Maintenance (eviction) on the calling thread: Caffeine's default hands it to the common
    // ForkJoinPool, a thread wake-up every few lookups on the statement path.
    private final Cache<TableKey, Map<Integer, Column>> tables =
            Caffeine.newBuilder().maximumSize(CACHED_TABLES).executor(Runnable::run)
                    .<TableKey, Map<Integer, Column>>evictionListener((key, columns, cause) -> generation.incrementAndGet())
                    .build();
    private final Map<String, Connection> connections = new ConcurrentHashMap<>();
    /** Per database, when a failed metadata connection may be tried again, and why it failed. */
    private final Map<String, FailedConnect> retryConnectAt = new ConcurrentHashMap<>();

    private record FailedConnect(long retryAtNanos, String cause) {
    }
    /** Name lookups, read for every statement: see {@link ExpiringLookups} for why not Caffeine. */
    private final ExpiringLookups<RoleKey, Boolean> userSchemas =
            new ExpiringLookups<>(NAME_LOOKUP_LIFETIME, CACHED_TABLES);
    private final ExpiringLookups<NameKey, List<String>> placements =
            new ExpiringLookups<>(NAME_LOOKUP_LIFETIME, CACHED_TABLES);
    /**
     * Table names {@link #prefetch} already asked the server about, per database: asking again
     * for every statement would cost a catalog round trip each. A table created under such a
     * name over another connection is still found by {@link #column} (by OID, on a miss).
     */
    private final ExpiringLookups<TableName, Boolean> prefetched =
            new ExpiringLookups<>(NAME_LOOKUP_LIFETIME, CACHED_TABLES);

    private record TableName(String database, String name) {
        // Written out: a record's generated equals and hashCode run through method-handle chains
        // (ObjectMethods) that showed in the statement path's profile; these keys are looked up
        // for every statement.
        @Override
        public boolean equals(Object other) {
            return other == this || other instanceof TableName that
                    && Objects.equals(database, that.database) && Objects.equals(name, that.name);
        }

        @Override
        public int hashCode() {
            return Objects.hashCode(database) * 31 + Objects.hashCode(name);
        }
    }

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
            generation.incrementAndGet();
            return Optional.empty();
        }
        return Optional.ofNullable(columns.get(attributeNumber));
    }

    /**
     * Caches every table called one of {@code names} (any schema), so later lookups need no round
     * trip. Names prefetched in the last {@link #NAME_LOOKUP_LIFETIME} are not asked again.
     */
    public void prefetch(String database, Collection<String> names) throws SQLException {
        List<String> missing = new ArrayList<>(names.size());
        for (String name : names) {
            if (prefetched.get(new TableName(database, name)) == null) {
                missing.add(name);
            }
        }
        if (missing.isEmpty()) {
            return;
        }
        load(database, COLUMNS_OF_NAMED_TABLES, statement -> {
            Array array = statement.getConnection().createArrayOf("name", missing.toArray());
            statement.setArray(1, array);
        });
        for (String name : missing) {
            prefetched.put(new TableName(database, name), Boolean.TRUE);
        }
    }

    /** Whether {@link #prefetch} of {@code names} would not ask the server. Never blocks. */
    public boolean prefetched(String database, Collection<String> names) {
        for (String name : names) {
            if (prefetched.get(new TableName(database, name)) == null) {
                return false;
            }
        }
        return true;
    }

    /** {@link #hasUserSchema}'s answer when it is cached; empty otherwise. Never blocks. */
    public Optional<Boolean> cachedUserSchema(String database, String role) {
        return Optional.ofNullable(userSchemas.get(new RoleKey(database, role)));
    }

    /** {@link #placements}' answer when every name is cached; empty otherwise. Never blocks. */
    public Optional<CatalogPlacements> cachedPlacements(String database, String role, Collection<String> relations,
            Collection<String> functions) {
        Map<String, List<String>> relationSchemas = new HashMap<>();
        Map<String, List<String>> functionSchemas = new HashMap<>();
        if (!cachedInto(database, role, 'r', relations, relationSchemas)
                || !cachedInto(database, role, 'f', functions, functionSchemas)) {
            return Optional.empty();
        }
        return Optional.of(new CatalogPlacements(relationSchemas, functionSchemas));
    }

    private boolean cachedInto(String database, String role, char kind, Collection<String> names,
            Map<String, List<String>> into) {
        for (String name : names) {
            List<String> cached = placements.get(new NameKey(database, role, kind, name));
            if (cached == null) {
                return false;
            }
            into.put(name, cached);
        }
        return true;
    }

    /**
     * Whether {@code role} has a schema of its own name it may use in {@code database}, which
     * {@code "$user"} in its search_path then stands for. Cached per (database, role); blocks for
     * the round trip on a miss and throws {@link SQLException} when the server cannot be asked.
     */
    public boolean hasUserSchema(String database, String role) throws SQLException {
        RoleKey key = new RoleKey(database, role);
        Boolean cached = userSchemas.get(key);
        if (cached != null) {
            return cached;
        }
        boolean exists;
        Connection connection = connection(database);
        synchronized (connection) {
            try (PreparedStatement statement = connection.prepareStatement(USER_SCHEMA)) {
                statement.setString(1, role);
                try (ResultSet rows = statement.executeQuery()) {
                    exists = rows.next() && rows.getBoolean(1);
                }
            } catch (SQLException e) {
                discard(database, connection);
                throw e;
            }
        }
        userSchemas.put(key, exists);
        return exists;
    }

    /**
     * For each of {@code relations} and {@code functions}, the schemas {@code role} may use that
     * hold one of that name (an empty list when none does). Cached per (database, role, name);
     * throws {@link SQLException} when the server cannot be asked.
     */
    public CatalogPlacements placements(String database, String role, Collection<String> relations,
            Collection<String> functions) throws SQLException {
        Map<String, List<String>> relationSchemas = new HashMap<>();
        Map<String, List<String>> functionSchemas = new HashMap<>();
        Set<String> missingRelations = new HashSet<>();
        Set<String> missingFunctions = new HashSet<>();
        for (String name : relations) {
            List<String> cached = placements.get(new NameKey(database, role, 'r', name));
            if (cached == null) {
                missingRelations.add(name);
            } else {
                relationSchemas.put(name, cached);
            }
        }
        for (String name : functions) {
            List<String> cached = placements.get(new NameKey(database, role, 'f', name));
            if (cached == null) {
                missingFunctions.add(name);
            } else {
                functionSchemas.put(name, cached);
            }
        }
        if (!missingRelations.isEmpty() || !missingFunctions.isEmpty()) {
            Map<String, List<String>> foundRelations = new HashMap<>();
            Map<String, List<String>> foundFunctions = new HashMap<>();
            missingRelations.forEach(name -> foundRelations.put(name, new ArrayList<>()));
            missingFunctions.forEach(name -> foundFunctions.put(name, new ArrayList<>()));
            Connection connection = connection(database);
            synchronized (connection) {
                try (PreparedStatement statement = connection.prepareStatement(NAME_PLACEMENTS)) {
                    statement.setArray(1, connection.createArrayOf("name", missingRelations.toArray()));
                    statement.setString(2, role);
                    statement.setArray(3, connection.createArrayOf("name", missingFunctions.toArray()));
                    statement.setString(4, role);
                    try (ResultSet rows = statement.executeQuery()) {
                        while (rows.next()) {
                            Map<String, List<String>> found = rows.getString(1).equals("r") ? foundRelations : foundFunctions;
                            List<String> schemas = found.get(rows.getString(2));
                            if (schemas != null && !schemas.contains(rows.getString(3))) {
                                schemas.add(rows.getString(3));
                            }
                        }
                    }
                } catch (SQLException e) {
                    discard(database, connection);
                    throw e;
                }
            }
            foundRelations.forEach((name, schemas) -> {
                placements.put(new NameKey(database, role, 'r', name), List.copyOf(schemas));
                relationSchemas.put(name, List.copyOf(schemas));
            });
            foundFunctions.forEach((name, schemas) -> {
                placements.put(new NameKey(database, role, 'f', name), List.copyOf(schemas));
                functionSchemas.put(name, List.copyOf(schemas));
            });
        }
        return new CatalogPlacements(relationSchemas, functionSchemas);
    }

    /** Forgets one database's tables and name lookups (after DDL or DCL there). */
    public void invalidate(String database) {
        tables.asMap().keySet().removeIf(key -> key.database().equals(database));
        userSchemas.removeIf(key -> key.database().equals(database));
        placements.removeIf(key -> key.database().equals(database));
        prefetched.removeIf(key -> key.database().equals(database));
        generation.incrementAndGet();
    }

    /** Forgets everything (policy reload). */
    public void invalidateAll() {
        tables.invalidateAll();
        userSchemas.clear();
        placements.clear();
        prefetched.clear();
        generation.incrementAndGet();
    }

    /**
     * The table columns' generation: equal values mean {@link #cached} and {@link #column} answer
     * as they did (the same cached columns), so results derived from them may be reused.
     */
    public long generation() {
        return generation.get();
    }

    private void discard(String database, Connection connection) {
        connections.remove(database, connection);
        closeQuietly(connection);
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
            generation.incrementAndGet();
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
            FailedConnect failed = retryConnectAt.get(database);
            if (failed != null && System.nanoTime() - failed.retryAtNanos() < 0) {
                // Every statement asks the catalog for its names: without this pause, an unreachable
                // server would cost each of them a full connect timeout.
                throw new SQLException("the metadata connection to database " + database + " failed less than "
                        + CONNECT_RETRY_PAUSE.toSeconds() + " s ago (" + failed.cause() + "); not retried yet");
            }
            Connection opened;
            try {
                opened = connector.connect(database);
            } catch (SQLException e) {
                retryConnectAt.put(database, new FailedConnect(System.nanoTime() + CONNECT_RETRY_PAUSE.toNanos(),
                        String.valueOf(e.getMessage())));
                throw e;
            }
            retryConnectAt.remove(database);
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
