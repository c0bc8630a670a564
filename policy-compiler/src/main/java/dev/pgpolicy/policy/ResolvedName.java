package dev.pgpolicy.policy;

import java.util.List;
import java.util.Objects;

/**
 * A table or function name after search_path resolution. It is certain when exactly one schema
 * is possible. Otherwise {@code schemas} lists the schemas it may live in, or
 * {@code anySchema} says nothing is known: such a name matches every {@code deny} it could
 * match and no {@code allow} whose pattern depends on the schema (LANGUAGE.md, "RESOURCES").
 */
public record ResolvedName(List<String> schemas, boolean anySchema, String name) {

    public ResolvedName {
        schemas = List.copyOf(schemas);
        Objects.requireNonNull(name, "name");
    }

    public static ResolvedName certain(String schema, String name) {
        return new ResolvedName(List.of(schema), false, name);
    }

    public static ResolvedName oneOf(List<String> schemas, String name) {
        return schemas.isEmpty() ? unknown(name) : new ResolvedName(schemas, false, name);
    }

    public static ResolvedName unknown(String name) {
        return new ResolvedName(List.of(), true, name);
    }

    public boolean isCertain() {
        return !anySchema && schemas.size() == 1;
    }

    /** {@code schema.name} when certain, otherwise {@code ?.name}. */
    @Override
    public String toString() {
        return (isCertain() ? schemas.get(0) : "?") + "." + name;
    }
}
