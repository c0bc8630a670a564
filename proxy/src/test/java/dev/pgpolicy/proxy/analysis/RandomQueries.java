package dev.pgpolicy.proxy.analysis;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

/**
 * Random queries and DML over the corpus schema (sql-corpus/schema.sql), for comparing the
 * analyser with PostgreSQL's plans beyond the hand-written corpus: joins of every kind, derived
 * tables, IN/EXISTS/ANY/scalar subqueries, CTEs (data-modifying ones too), set operations, and
 * identifiers spelled unquoted, upper-case, quoted and schema-qualified.
 *
 * <p>It keeps to shapes the planner cannot prune, so that any difference is the analyser's:
 * every column a query level projects is used by the level above, and a relation on the nullable
 * side of a LEFT JOIN always contributes one (no join removal), every CTE is referenced, and no
 * condition can be proved true or false from another (constants are distinct and compared with
 * {@code <>}), since the planner drops whatever sits behind such a condition.
 */
final class RandomQueries {
    private record Relation(String name, boolean publicSchema, List<String> ints, List<String> texts) {
    }

    private static final List<Relation> RELATIONS = List.of(
            new Relation("customers", true, List.of("id"), List.of("name", "email", "country")),
            new Relation("orders", true, List.of("id", "customer_id"), List.of("status")),
            new Relation("order_items", true, List.of("order_id", "product_id", "qty"), List.of()),
            new Relation("products", true, List.of("id", "category_id"), List.of("sku", "name")),
            new Relation("categories", true, List.of("id", "parent_id"), List.of("name")),
            new Relation("users", true, List.of("id"), List.of("username", "role")),
            new Relation("audit_log", true, List.of("id"), List.of("actor", "action")),
            new Relation("events", true, List.of("id"), List.of("kind")),
            new Relation("payments.cards", false, List.of("id", "customer_id"), List.of("holder", "card_number")),
            new Relation("payments.transactions", false, List.of("id", "card_id"), List.of("currency", "status")),
            new Relation("payments.refunds", false, List.of("id", "transaction_id"), List.of("reason")),
            new Relation("hr.employees", false, List.of("id", "manager_id", "dept_id"), List.of("name")),
            new Relation("hr.departments", false, List.of("id"), List.of("name")),
            new Relation("\"Sales\".\"Orders\"", false, List.of("\"OrderId\"", "\"CustomerId\""), List.of("\"Region\"")),
            new Relation("\"MixedCase\"", false, List.of("\"Id\"", "lower_col"), List.of("\"Value\"")));

    /** A generated statement and the base-table columns it compares in a condition ("schema.table.column"). */
    record Generated(String sql, Set<String> filterColumns) {
    }

    private final Random random;
    /** Column expressions of base relations ("a3.id") and what they name ("public.customers.id"). */
    private final Map<String, String> baseColumns = new HashMap<>();
    private final Set<String> filters = new TreeSet<>();
    private int aliases;
    private int constants;

    RandomQueries(long seed) {
        this.random = new Random(seed);
    }

    List<Generated> generate(int count) {
        List<Generated> statements = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            aliases = 0;
            constants = 1000;
            baseColumns.clear();
            filters.clear();
            String sql = statement();
            statements.add(new Generated(sql, Set.copyOf(filters)));
        }
        return statements;
    }

    /** An int column of a base relation under an alias, remembered for {@link #filter}. */
    private String column(String alias, Relation relation) {
        String column = anyInt(relation);
        String expression = alias + "." + column;
        baseColumns.put(expression, canonical(relation) + "." + column.replace("\"", ""));
        return expression;
    }

    /** Records that a column expression is compared in a condition; derived columns name no table. */
    private String filter(String expression) {
        String named = baseColumns.get(expression);
        if (named != null) {
            filters.add(named);
        }
        return expression;
    }

    private static String canonical(Relation relation) {
        String name = relation.name().replace("\"", "");
        return relation.publicSchema() || !name.contains(".") ? "public." + name : name;
    }

    private String statement() {
        int shape = random.nextInt(20);
        if (shape < 9) {
            return select(0, false);
        }
        if (shape < 11) {
            return singleIntSelect(1) + (random.nextBoolean() ? " UNION " : random.nextBoolean() ? " UNION ALL " : " EXCEPT ")
                    + singleIntSelect(1);
        }
        if (shape < 13) {
            String cte = alias();
            String outer = alias();
            Relation other = relation();
            return "WITH " + cte + " AS (" + singleIntSelect(1) + ") SELECT " + cte + ".c0, " + outer + "." + anyInt(other)
                    + " FROM " + cte + " JOIN " + name(other) + " " + outer + " ON " + filter(column(outer, other))
                    + " = " + cte + ".c0";
        }
        if (shape < 15) {
            Relation target = relationWithText();
            String a = alias();
            return "UPDATE " + name(target) + " " + a + " SET " + pick(target.texts()) + " = 'v' WHERE "
                    + filter(column(a, target)) + " IN (" + singleIntSelect(1) + ")";
        }
        if (shape < 17) {
            Relation target = relation();
            String a = alias();
            Relation other = relation();
            String b = alias();
            return "DELETE FROM " + name(target) + " " + a + " WHERE EXISTS (SELECT 1 FROM " + name(other) + " " + b
                    + " WHERE " + filter(column(b, other)) + " = " + filter(column(a, target)) + ")";
        }
        if (shape < 19) {
            return "INSERT INTO audit_log (actor, action) SELECT 'generated', src.c0::text FROM (" + singleIntSelect(1) + ") AS src";
        }
        Relation target = relationWithText();
        String moved = alias();
        String purged = anyInt(target);
        filters.add(canonical(target) + "." + purged.replace("\"", ""));
        return "WITH " + moved + " AS (DELETE FROM " + name(target) + " WHERE " + purged
                + " > 1000 RETURNING " + anyInt(target) + " AS c0) INSERT INTO audit_log (actor, action) SELECT 'gc', 'purge' FROM "
                + moved + " WHERE " + moved + ".c0 IN (" + singleIntSelect(1) + ")";
    }

    /** SELECT over one to three joined relations or derived tables, with optional subquery filters. */
    private String select(int depth, boolean singleColumn) {
        int items = 1 + random.nextInt(depth == 0 ? 3 : 2);
        List<String> projections = new ArrayList<>();
        List<String> intColumns = new ArrayList<>();
        List<String> joinable = new ArrayList<>();
        StringBuilder from = new StringBuilder();
        for (int i = 0; i < items; i++) {
            String a = alias();
            String item;
            String column;
            if (depth < 2 && random.nextInt(4) == 0) {
                item = "(" + singleIntSelect(depth + 1) + ") " + a;
                column = a + ".c0";
            } else {
                Relation relation = relation();
                item = name(relation) + " " + a;
                column = column(a, relation);
            }
            if (i == 0) {
                from.append(item);
            } else {
                // JOIN binds tighter than a comma: ON may only name items since the last comma.
                String previous = joinable.get(random.nextInt(joinable.size()));
                // A select projecting one column must not LEFT JOIN: the planner drops a LEFT JOIN
                // whose columns nobody uses when the join cannot duplicate rows.
                // A derived table joined without a condition would have its column unused, and
                // the same removal could then happen inside it.
                boolean derived = item.startsWith("(");
                int join = singleColumn ? 1 + random.nextInt(derived ? 2 : 3) : random.nextInt(4);
                switch (join) {
                    case 0 -> from.append(" LEFT JOIN ").append(item).append(" ON ").append(filter(column)).append(" = ").append(filter(previous));
                    case 1 -> from.append(" JOIN ").append(item).append(" ON ").append(filter(column)).append(" = ").append(filter(previous));
                    case 2 -> from.append(" RIGHT JOIN ").append(item).append(" ON ").append(filter(column)).append(" = ").append(filter(previous));
                    default -> {
                        from.append(", ").append(item);
                        joinable.clear();
                    }
                }
            }
            joinable.add(column);
            intColumns.add(column);
            projections.add(column);
        }
        StringBuilder sql = new StringBuilder("SELECT ");
        if (singleColumn) {
            sql.append(projections.get(0)).append(" AS c0");
        } else {
            sql.append(String.join(", ", projections));
        }
        sql.append(" FROM ").append(from);
        List<String> conditions = new ArrayList<>();
        int predicates = depth < 2 ? random.nextInt(3) : random.nextInt(2);
        for (int i = 0; i < predicates; i++) {
            String column = filter(intColumns.get(random.nextInt(intColumns.size())));
            switch (random.nextInt(depth < 2 ? 6 : 2)) {
                // Constants are compared with <> and never repeat within a statement: the planner
                // drops an OR whose branch it can prove from another condition (x < 168 proves
                // x < 192), and with it any subquery in the other branch. For the same reason there
                // is no IS NOT NULL, which is provably true on a NOT NULL column.
                case 0, 1 -> conditions.add(column + " <> " + (constants++));
                case 2 -> conditions.add(column + " IN (" + singleIntSelect(depth + 1) + ")");
                case 3 -> {
                    Relation other = relation();
                    String b = alias();
                    conditions.add((random.nextBoolean() ? "" : "NOT ") + "EXISTS (SELECT 1 FROM " + name(other) + " " + b
                            + " WHERE " + filter(column(b, other)) + " = " + column + ")");
                }
                case 4 -> conditions.add(column + " > (SELECT max(m.c0) FROM (" + singleIntSelect(depth + 1) + ") m)");
                default -> conditions.add(column + " = ANY (ARRAY(" + singleIntSelect(depth + 1) + "))");
            }
        }
        if (!conditions.isEmpty()) {
            sql.append(" WHERE ").append(String.join(random.nextBoolean() ? " AND " : " OR ", conditions));
        }
        if (depth == 0 && random.nextInt(3) == 0) {
            sql.append(" ORDER BY 1 LIMIT ").append(1 + random.nextInt(50));
        }
        return sql.toString();
    }

    private String singleIntSelect(int depth) {
        return select(depth, true);
    }

    private Relation relation() {
        return RELATIONS.get(random.nextInt(RELATIONS.size()));
    }

    private Relation relationWithText() {
        Relation relation;
        do {
            relation = relation();
        } while (relation.texts().isEmpty());
        return relation;
    }

    private String anyInt(Relation relation) {
        return pick(relation.ints());
    }

    private String pick(List<String> values) {
        return values.get(random.nextInt(values.size()));
    }

    private String alias() {
        return "a" + (aliases++);
    }

    /** The relation's name in one of the spellings PostgreSQL resolves to it. */
    private String name(Relation relation) {
        String name = relation.name();
        if (name.contains("\"")) {
            return name;
        }
        switch (random.nextInt(4)) {
            case 0:
                return name.toUpperCase(java.util.Locale.ROOT);
            case 1:
                return String.join(".", quoteEach(name.split("\\.")));
            case 2:
                return relation.publicSchema() ? "public." + name : name;
            default:
                return name;
        }
    }

    private static List<String> quoteEach(String[] parts) {
        List<String> quoted = new ArrayList<>();
        for (String part : parts) {
            quoted.add('"' + part + '"');
        }
        return quoted;
    }
}
