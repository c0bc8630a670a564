package dev.pgpolicy.sql;

import java.util.Objects;

/**
 * A possibly schema-qualified object name exactly as PostgreSQL would see it after identifier
 * folding and decoding: unquoted names are lower-cased, quoted and {@code U&"..."} names are
 * decoded. {@code schema} is null when the SQL left the name unqualified; resolving it against
 * the session's search_path is the caller's job, because only the session knows the path.
 */
public record ObjectName(String schema, String name) {
    public ObjectName {
        Objects.requireNonNull(name, "name");
    }

    public static ObjectName unqualified(String name) {
        return new ObjectName(null, name);
    }

    public boolean qualified() {
        return schema != null;
    }

    @Override
    public String toString() {
        return schema == null ? name : schema + "." + name;
    }
}
