package dev.pgpolicy.sql;

import java.util.ArrayList;
import java.util.List;
import net.sf.jsqlparser.schema.Table;

/** Turns JSqlParser's raw name parts into names as PostgreSQL resolves them. */
final class Names {
    private Names() {
    }

    /**
     * A name part as PostgreSQL sees it: quoted parts lose their quotes and keep their case,
     * unquoted parts fold to lower case; both are truncated to 63 bytes like the server does.
     * ParserInput re-quotes every quoted identifier from its decoded value, so {@code ""} is
     * the only escape that can occur here.
     */
    static String fold(String part) {
        if (part == null) {
            return null;
        }
        if (part.length() >= 2 && part.startsWith("\"") && part.endsWith("\"")) {
            return SqlLexer.truncateIdentifier(part.substring(1, part.length() - 1).replace("\"\"", "\""));
        }
        return SqlLexer.truncateIdentifier(SqlLexer.foldCase(part));
    }

    /** {@code [catalog.]schema.table}; the catalog, if any, must be the current database and is dropped. */
    static ObjectName table(Table table) {
        List<String> parts = parts(table);
        if (parts.isEmpty()) {
            throw new QueryFactsCollector.UnsupportedConstruct(table);
        }
        String name = fold(parts.get(parts.size() - 1));
        String schema = parts.size() >= 2 ? fold(parts.get(parts.size() - 2)) : null;
        return new ObjectName(schema, name);
    }

    static ObjectName function(List<String> multipartName) {
        List<String> parts = new ArrayList<>();
        for (String part : multipartName) {
            if (part != null && !part.isEmpty()) {
                parts.add(part);
            }
        }
        if (parts.isEmpty()) {
            throw new QueryFactsCollector.UnsupportedConstruct(multipartName);
        }
        String name = fold(parts.get(parts.size() - 1));
        String schema = parts.size() >= 2 ? fold(parts.get(parts.size() - 2)) : null;
        return new ObjectName(schema, name);
    }

    /** Outermost part first. */
    static List<String> parts(Table table) {
        List<String> parts = new ArrayList<>();
        if (table.getSchemaName() != null) {
            if (table.getDatabaseName() != null) {
                parts.add(table.getDatabaseName());
            }
            parts.add(table.getSchemaName());
        }
        if (table.getName() != null) {
            parts.add(table.getName());
        }
        return parts;
    }
}
