package dev.pgpolicy.policy;

import dev.pgpolicy.sql.ObjectName;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Resolution by search_path. Offline ({@code test}, {@code explain}, {@code dry-run}) it works
 * by the path alone and the {@code "$user"} entry is assumed not to exist (LANGUAGE.md). The live
 * proxy adds what its catalog connection knows ({@link #live}): what {@code "$user"} stands for
 * ({@link UserSchema}) and which schemas of the path hold a name ({@link CatalogPlacements}),
 * so that a name the path could place in several schemas resolves to the first that holds it,
 * as in PostgreSQL. As in
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
    /** {@code "$user"} may or may not be a schema: unqualified names stay uncertain across the path. */
    private final boolean userSchemaUncertain;
    /** {@code "$user"} is unknown and so is the role: nothing unqualified can be placed. */
    private final boolean unplaceable;
    private final CatalogPlacements placements;

    private SearchPathResolver(List<String> schemas, boolean catalogListed, boolean userSchemaUncertain,
            boolean unplaceable, CatalogPlacements placements) {
        this.schemas = List.copyOf(schemas);
        this.catalogListed = catalogListed;
        this.userSchemaUncertain = userSchemaUncertain;
        this.unplaceable = unplaceable;
        this.placements = placements;
    }

    /** The offline resolver for a search_path given as a list of schema names ({@code "$user"} allowed). */
    public static SearchPathResolver offline(List<String> searchPath) {
        return live(searchPath, UserSchema.absent(), CatalogPlacements.none());
    }

    /**
     * The proxy's resolver for a search_path setting as PostgreSQL reports it, with what the
     * catalog said about {@code "$user"} and about where the statement's names live.
     */
    public static SearchPathResolver live(String setting, UserSchema userSchema, CatalogPlacements placements) {
        return live(splitSetting(setting), userSchema, placements);
    }

    /** Whether a search_path setting has a {@code "$user"} entry, whose meaning depends on the role. */
    public static boolean mentionsUserSchema(String setting) {
        // Read in place, entry by entry as splitSetting cuts them: the proxy asks this for every
        // statement, and splitting allocated a list and a string per entry each time.
        boolean quoted = false;
        int entryStart = 0;
        for (int i = 0; i < setting.length(); i++) {
            char c = setting.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (c == ',' && !quoted) {
                if (isUserEntry(setting, entryStart, i)) {
                    return true;
                }
                entryStart = i + 1;
            }
        }
        return isUserEntry(setting, entryStart, setting.length());
    }

    /** {@link #isUserEntry(String)} of {@code setting}'s characters from {@code start} to {@code end}, trimmed as String.trim does. */
    private static boolean isUserEntry(String setting, int start, int end) {
        while (start < end && setting.charAt(start) <= ' ') {
            start++;
        }
        while (end > start && setting.charAt(end - 1) <= ' ') {
            end--;
        }
        int length = end - start;
        return length == 5 && setting.startsWith("$user", start)
                || length == 7 && setting.startsWith("\"$user\"", start);
    }

    private static boolean isUserEntry(String entry) {
        return entry.equals("$user") || entry.equals("\"$user\"");
    }

    private static SearchPathResolver live(List<String> searchPath, UserSchema userSchema, CatalogPlacements placements) {
        List<String> schemas = new ArrayList<>();
        boolean catalogListed = false;
        boolean userSchemaUncertain = false;
        boolean unplaceable = false;
        for (String entry : searchPath) {
            String schema = entry.trim();
            if (schema.isEmpty()) {
                continue;
            }
            if (isUserEntry(schema)) {
                switch (userSchema.state()) {
                    case ABSENT:
                        continue;
                    case PRESENT:
                        break;
                    case UNKNOWN:
                        userSchemaUncertain = true;
                        unplaceable |= userSchema.role().isEmpty();
                        break;
                }
                // Role names are stored as created: the schema named like the role is that exact text.
                if (!userSchema.role().isEmpty() && !schemas.contains(userSchema.role())) {
                    schemas.add(userSchema.role());
                }
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
        return new SearchPathResolver(schemas, catalogListed, userSchemaUncertain, unplaceable, placements);
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
    public static List<String> splitSetting(String setting) {
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
        if (placeable()) {
            // Relations have no overloading: the first schema searched that holds the name is it.
            Optional<List<String>> holders = placements.relationSchemas(name.name());
            if (holders.isPresent()) {
                for (String schema : searchOrder()) {
                    if (holders.get().contains(schema)) {
                        return ResolvedName.certain(schema, name.name());
                    }
                }
            }
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
        if (placeable()) {
            // Functions overload across schemas: PostgreSQL picks by argument types, which the
            // proxy does not know, so only a name held by a single schema of the path is certain.
            Optional<List<String>> holders = placements.functionSchemas(name.name());
            if (holders.isPresent()) {
                List<String> holding = searchOrder().stream().filter(holders.get()::contains).toList();
                if (!holding.isEmpty()) {
                    return ResolvedName.oneOf(holding, name.name());
                }
            }
        }
        return bySearchPath(name.name());
    }

    private boolean placeable() {
        return !userSchemaUncertain && !unplaceable;
    }

    /** The schemas in PostgreSQL's search order: pg_catalog first unless the path places it. */
    private List<String> searchOrder() {
        if (catalogListed) {
            return schemas;
        }
        List<String> order = new ArrayList<>(schemas.size() + 1);
        order.add("pg_catalog");
        order.addAll(schemas);
        return order;
    }

    private ResolvedName bySearchPath(String name) {
        if (unplaceable) {
            return ResolvedName.unknown(name);
        }
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
