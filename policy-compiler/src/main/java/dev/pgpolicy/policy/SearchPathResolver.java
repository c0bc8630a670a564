package dev.pgpolicy.policy;

import dev.pgpolicy.sql.ObjectName;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Resolution by search_path alone, without a catalog: what {@code test}, {@code explain} and
 * {@code dry-run} use. The {@code "$user"} entry is assumed not to exist (LANGUAGE.md). As in
 * PostgreSQL, {@code pg_catalog} is searched first unless the path names it, which matters for
 * names that are catalog objects: unqualified {@code pg_*} names and the built-in functions
 * listed here resolve there. Any other unqualified name resolves to the single remaining schema
 * of the path, or is uncertain among several.
 *
 * <p>Temporary tables ({@code pg_temp}) are not considered: a session can only shadow a name
 * with its own temporary table, which gains it nothing it could not already read.
 */
public final class SearchPathResolver implements NameResolver {

    public static final List<String> DEFAULT_SEARCH_PATH = List.of("$user", "public");

    /**
     * Built-in functions commonly called unqualified. A name missing here is still resolved, to
     * the path's schema, so a deny written for the built-in in {@code pg_catalog} would not see
     * it: deny patterns for functions are therefore best written without a schema.
     */
    private static final Set<String> CATALOG_FUNCTIONS = Set.of(
            "version", "now", "current_timestamp", "current_date", "current_time", "localtime",
            "localtimestamp", "clock_timestamp", "statement_timestamp", "transaction_timestamp",
            "timeofday", "current_user", "current_role", "session_user", "user", "current_schema",
            "current_schemas", "current_database", "current_catalog", "current_setting", "set_config",
            "inet_client_addr", "inet_server_addr", "lo_import", "lo_export", "lo_open", "lo_unlink",
            "lo_get", "lo_put", "lo_create", "lo_from_bytea", "count", "sum", "avg", "min", "max",
            "coalesce", "nullif", "greatest", "least", "lower", "upper", "length", "substr",
            "substring", "trim", "btrim", "ltrim", "rtrim", "concat", "concat_ws", "replace",
            "split_part", "position", "strpos", "left", "right", "lpad", "rpad", "md5", "sha256",
            "encode", "decode", "to_char", "to_date", "to_timestamp", "to_number", "date_trunc",
            "date_part", "extract", "age", "make_date", "make_timestamp", "abs", "round", "ceil",
            "floor", "random", "gen_random_uuid", "array_agg", "string_agg", "json_agg",
            "jsonb_agg", "json_build_object", "jsonb_build_object", "row_number", "rank",
            "dense_rank", "lag", "lead", "first_value", "last_value", "generate_series",
            "unnest", "array_length", "cardinality", "exists", "format", "quote_ident",
            "quote_literal", "regexp_replace", "regexp_matches", "nextval", "currval", "setval",
            "has_table_privilege", "has_schema_privilege", "has_database_privilege",
            "dblink", "dblink_exec", "dblink_connect");

    private final List<String> schemas;
    private final boolean catalogListed;

    private SearchPathResolver(List<String> schemas, boolean catalogListed) {
        this.schemas = List.copyOf(schemas);
        this.catalogListed = catalogListed;
    }

    /** The offline resolver for a search_path given as a list of schema names ({@code "$user"} allowed). */
    public static SearchPathResolver offline(List<String> searchPath) {
        List<String> schemas = new ArrayList<>();
        boolean catalogListed = false;
        for (String entry : searchPath) {
            String schema = entry.trim();
            if (schema.equals("$user") || schema.equals("\"$user\"") || schema.isEmpty()) {
                continue;
            }
            if (schema.startsWith("\"") && schema.endsWith("\"") && schema.length() >= 2) {
                schema = schema.substring(1, schema.length() - 1).replace("\"\"", "\"");
            } else {
                schema = foldAscii(schema);
            }
            if (schema.equals("pg_catalog")) {
                catalogListed = true;
            }
            if (!schema.equals("pg_temp") && !schemas.contains(schema)) {
                schemas.add(schema);
            }
        }
        return new SearchPathResolver(schemas, catalogListed);
    }

    /**
     * The offline resolver for a search_path setting as PostgreSQL reports it
     * ({@code "$user", public, "My Schema"}): comma-separated, double quotes around names that
     * need them, {@code ""} for a quote inside.
     */
    public static SearchPathResolver fromSetting(String setting) {
        return offline(splitSetting(setting));
    }

    /** Splits a search_path setting at the commas outside double quotes, keeping the quotes. */
    static List<String> splitSetting(String setting) {
        List<String> entries = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < setting.length(); i++) {
            char c = setting.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            }
            if (c == ',' && !quoted) {
                entries.add(current.toString());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        entries.add(current.toString());
        return entries;
    }

    /** The offline resolver for {@code "$user", public}. */
    public static SearchPathResolver defaultPath() {
        return offline(DEFAULT_SEARCH_PATH);
    }

    /** PostgreSQL folds unquoted identifiers by lower-casing ASCII letters only. */
    private static String foldAscii(String text) {
        StringBuilder folded = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            folded.append(c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c);
        }
        return folded.toString();
    }

    public List<String> schemas() {
        return schemas;
    }

    @Override
    public ResolvedName relation(ObjectName name) {
        if (name.qualified()) {
            return ResolvedName.certain(name.schema(), name.name());
        }
        if (name.name().startsWith("pg_")) {
            return ResolvedName.certain("pg_catalog", name.name());
        }
        return bySearchPath(name.name());
    }

    @Override
    public ResolvedName function(ObjectName name) {
        if (name.qualified()) {
            return ResolvedName.certain(name.schema(), name.name());
        }
        if (name.name().startsWith("pg_") || CATALOG_FUNCTIONS.contains(name.name())) {
            return ResolvedName.certain("pg_catalog", name.name());
        }
        return bySearchPath(name.name());
    }

    private ResolvedName bySearchPath(String name) {
        List<String> candidates = catalogListed
                ? schemas.stream().filter(s -> !s.equals("pg_catalog")).toList()
                : schemas;
        return ResolvedName.oneOf(candidates, name);
    }

    @Override
    public String toString() {
        return "search_path " + schemas;
    }
}
