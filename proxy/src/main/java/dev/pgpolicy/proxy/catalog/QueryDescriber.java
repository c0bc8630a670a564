package dev.pgpolicy.proxy.catalog;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.postgresql.core.BaseConnection;
import org.postgresql.core.CachedQuery;
import org.postgresql.core.Field;
import org.postgresql.core.QueryExecutor;
import org.postgresql.core.ResultCursor;
import org.postgresql.core.ResultHandlerBase;
import org.postgresql.core.Tuple;

/**
 * Asks the server what a query would return without running it: Parse and Describe on a
 * metadata connection (PostgreSQL docs, "Extended Query"), whose RowDescription names each
 * output column's table OID, attribute number and type, exactly as the client's own result would.
 * The query is parsed under the client session's search_path, set for the describe only, so its
 * unqualified names resolve to the tables the session's statement reads.
 *
 * <p>pgjdbc's own {@code PreparedStatement.getMetaData()} sends the same messages but keeps the
 * OIDs to itself and reads the statement as JDBC SQL, where {@code ?} is a parameter marker; the
 * query executor underneath it is asked directly instead, with JDBC parsing off, so the text
 * reaches the server exactly as the client wrote it.
 */
public final class QueryDescriber {

    /** One output column: its name, its origin (table OID 0 and attribute 0 when computed) and its type. */
    public record DescribedColumn(String name, int tableOid, int attributeNumber, int typeOid) {
    }

    private QueryDescriber() {
    }

    /**
     * The output columns of {@code query} under {@code searchPath} (schema names, first to last,
     * {@code $user} already replaced by the client's role). Throws when the server cannot describe it (a syntax error, an
     * unknown table, no USAGE on a schema) or when the query is not one statement returning rows.
     */
    public static List<DescribedColumn> describe(Connection connection, List<String> searchPath, String query)
            throws SQLException {
        setSearchPath(connection, searchPath);
        try {
            return describeNow(connection, query);
        } finally {
            try (Statement reset = connection.createStatement()) {
                reset.execute("RESET search_path");
            }
        }
    }

    /**
     * The names of the columns {@code COPY table TO} writes when it names none: the table's
     * columns in attribute order, without dropped and generated ones (copy.c, CopyGetAttnums).
     * {@code qualifiedName} is the table as the statement named it, quoted.
     */
    public static List<String> copiedColumns(Connection connection, List<String> searchPath, String qualifiedName)
            throws SQLException {
        setSearchPath(connection, searchPath);
        try (PreparedStatement columns = connection.prepareStatement("""
                SELECT a.attname FROM pg_catalog.pg_attribute a
                 WHERE a.attrelid = ?::pg_catalog.regclass AND a.attnum > 0 AND NOT a.attisdropped
                   AND a.attgenerated = '' ORDER BY a.attnum""")) {
            columns.setString(1, qualifiedName);
            List<String> names = new ArrayList<>();
            try (ResultSet rows = columns.executeQuery()) {
                while (rows.next()) {
                    names.add(rows.getString(1));
                }
            }
            if (names.isEmpty()) {
                throw new SQLException("relation " + qualifiedName + " does not exist for the catalog account");
            }
            return names;
        } finally {
            try (Statement reset = connection.createStatement()) {
                reset.execute("RESET search_path");
            }
        }
    }

    /**
     * Sets the search_path for one lookup. PostgreSQL silently skips a schema of the path the
     * role lacks USAGE on, so a catalog account without it would resolve a name to another
     * schema's table than the client's session does: that is refused instead.
     */
    private static void setSearchPath(Connection connection, List<String> searchPath) throws SQLException {
        String setting = String.join(", ", searchPath.stream().map(QueryDescriber::quoteIdentifier).toList());
        try (PreparedStatement set = connection.prepareStatement("SELECT pg_catalog.set_config('search_path', ?, false)")) {
            set.setString(1, setting);
            set.executeQuery().close();
        }
        try (PreparedStatement unusable = connection.prepareStatement("""
                SELECT n.nspname FROM pg_catalog.pg_namespace n
                 WHERE n.nspname = ANY (?) AND NOT n.nspname = ANY (pg_catalog.current_schemas(false))
                 ORDER BY n.nspname""")) {
            unusable.setArray(1, connection.createArrayOf("text", searchPath.toArray()));
            try (ResultSet rows = unusable.executeQuery()) {
                if (rows.next()) {
                    throw new SQLException("the catalog account has no USAGE on schema " + quoteIdentifier(rows.getString(1))
                            + " of the session's search_path, so it cannot resolve names as the session does");
                }
            }
        }
    }

    public static String quoteIdentifier(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    private static List<DescribedColumn> describeNow(Connection connection, String query) throws SQLException {
        BaseConnection base = connection.unwrap(BaseConnection.class);
        QueryExecutor executor = base.getQueryExecutor();
        // No JDBC escape processing, no parameter markers: the text goes to the server as written.
        CachedQuery cached = executor.createQuery(query, false, false);
        try {
            if (cached.query.getSubqueries() != null) {
                throw new SQLException("the query holds more than one statement");
            }
            FieldsHandler handler = new FieldsHandler();
            executor.execute(cached.query, cached.query.createParameterList(), handler, 0, 0,
                    QueryExecutor.QUERY_ONESHOT | QueryExecutor.QUERY_DESCRIBE_ONLY | QueryExecutor.QUERY_SUPPRESS_BEGIN);
            handler.handleCompletion();
            if (handler.fields == null) {
                throw new SQLException("the query returns no rows");
            }
            List<DescribedColumn> columns = new ArrayList<>(handler.fields.length);
            for (Field field : handler.fields) {
                columns.add(new DescribedColumn(field.getColumnLabel(), field.getTableOid(), field.getPositionInTable(),
                        field.getOID()));
            }
            return columns;
        } finally {
            executor.releaseQuery(cached);
        }
    }

    private static final class FieldsHandler extends ResultHandlerBase {
        Field[] fields;

        @Override
        public void handleResultRows(org.postgresql.core.Query fromQuery, Field[] described, List<Tuple> tuples,
                ResultCursor cursor) {
            fields = described;
        }

        @Override
        public void handleWarning(java.sql.SQLWarning warning) {
            // Notices while describing concern the catalog connection, not the client.
        }
    }
}
