package dev.pgpolicy.proxy.enforce;

import dev.pgpolicy.policy.MaskBinding;
import dev.pgpolicy.policy.MaskFunction;
import dev.pgpolicy.policy.MaskSet;
import dev.pgpolicy.policy.MaskSpec;
import dev.pgpolicy.policy.NameResolver;
import dev.pgpolicy.policy.ResolvedName;
import dev.pgpolicy.proxy.catalog.CatalogCache;
import dev.pgpolicy.proxy.catalog.QueryDescriber;
import dev.pgpolicy.proxy.catalog.QueryDescriber.DescribedColumn;
import dev.pgpolicy.proxy.session.CopyFilter;
import dev.pgpolicy.proxy.session.SessionException;
import dev.pgpolicy.proxy.session.SessionInfo;
import dev.pgpolicy.proxy.wire.CopyOutResponse;
import dev.pgpolicy.proxy.wire.ErrorResponse;
import dev.pgpolicy.proxy.wire.SqlState;
import dev.pgpolicy.sql.Action;
import dev.pgpolicy.sql.CopyOptions;
import dev.pgpolicy.sql.CopyStatement;
import dev.pgpolicy.sql.ObjectName;
import dev.pgpolicy.sql.QueryAnalysis;
import dev.pgpolicy.sql.StatementFacts;
import dev.pgpolicy.sql.StatementKind;
import dev.pgpolicy.sql.TableAccess;
import java.nio.charset.Charset;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntPredicate;
import java.util.stream.Collectors;

/**
 * Decides, before a COPY runs, how its output reaches a principal with masks; on the decision
 * worker, since it may ask the server.
 *
 * <pre>
 *   decision worker                                        event loop
 *   COPY ... TO STDOUT text|csv ─► origin of each column ─► CopyOutResponse ─► CopyOutMasker
 *     table [(cols)]: the table's copied columns, described            (or the frames as they
 *     (query):        the query, described under the session's path     are, when nothing is
 *   COPY ... TO STDOUT binary, TO 'file', TO PROGRAM of a masked table     masked)
 *     ─► refused, 42501 naming the mask rule
 * </pre>
 *
 * Origins come from the server itself: the COPY's query (or a SELECT of the table's copied
 * columns) is described over the catalog connection without being run ({@link QueryDescriber}),
 * and each output column's table OID and attribute number are named through the catalog, as
 * DataRow masking names RowDescription fields; aliases, joins and CTEs cannot hide a column. When
 * that is not possible (no catalog account, an unknown search_path, a describe the server refuses,
 * a statement the proxy cannot read), the COPY is refused and the error says why.
 */
final class CopyOutPlanner {

    /**
     * How the output of one {@code COPY ... TO STDOUT} is masked; {@code forceQuoted} are the
     * positions of its CSV FORCE_QUOTE columns.
     */
    record CopyOutPlan(CopyOptions options, MaskPlan plan, Set<Integer> forceQuoted, String what) {
        CopyOutPlan {
            Objects.requireNonNull(options);
            Objects.requireNonNull(plan);
            forceQuoted = Set.copyOf(forceQuoted);
            Objects.requireNonNull(what);
        }

        static CopyOutPlan unchanged(CopyOptions options, MaskingKey hashKey, String what) {
            return new CopyOutPlan(options, MaskPlan.of(List.of(), hashKey), Set.of(), what);
        }
    }

    /** The COPY must not run; {@link #error} says why, for the client. */
    static final class Refusal extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient ErrorResponse error;

        Refusal(ErrorResponse error) {
            super(error.message() + (error.detail().isPresent() ? ": " + error.detail().get() : ""));
            this.error = error;
        }

        ErrorResponse error() {
            return error;
        }
    }

    private final CatalogCache catalog;
    private final MaskingKey hashKey;

    /** @param catalog null when no catalog account is configured */
    CopyOutPlanner(CatalogCache catalog, MaskingKey hashKey) {
        this.catalog = catalog;
        this.hashKey = Objects.requireNonNull(hashKey);
    }

    /**
     * The plans of the {@code COPY ... TO STDOUT} statements of {@code sql}, in statement order;
     * empty when it has none. Throws {@link Refusal} when one of its COPY statements cannot be
     * masked for a principal with {@code masks}.
     *
     * @param namesMasked by the index of a statement in {@code analysis}, whether it names a masked
     *     column; the computed columns of its output are then NULL (in a multi-statement text each
     *     COPY is judged by its own statement, not by the others')
     */
    List<CopyOutPlan> plan(SessionInfo session, String sql, boolean standardConformingStrings, QueryAnalysis analysis,
            MaskSet masks, NameResolver resolver, Optional<String> searchPathSetting, IntPredicate namesMasked)
            throws Refusal {
        List<StatementFacts> statements = analysis.statements();
        List<Integer> copyIndexes = new ArrayList<>();
        for (int i = 0; i < statements.size(); i++) {
            if (statements.get(i).kind() == StatementKind.COPY) {
                copyIndexes.add(i);
            }
        }
        if (copyIndexes.isEmpty()) {
            return List.of();
        }
        List<CopyStatement> copies;
        try {
            copies = CopyStatement.readAll(sql, standardConformingStrings);
        } catch (CopyStatement.UnreadableException e) {
            throw refusal(null, "pgpolicy could not read the COPY statement (" + e.getMessage()
                    + "), so it cannot mask its output");
        }
        if (copies.size() != copyIndexes.size()) {
            throw refusal(null, "pgpolicy could not tell the COPY statements of this message apart");
        }
        List<CopyOutPlan> plans = new ArrayList<>();
        for (int i = 0; i < copies.size(); i++) {
            CopyStatement copy = copies.get(i);
            int statement = copyIndexes.get(i);
            StatementFacts facts = statements.get(statement);
            if (copy.from()) {
                continue;
            }
            Optional<MaskBinding> masked = maskedTable(facts, masks, resolver);
            String what = label(copy);
            if (copy.endpoint() != CopyStatement.Endpoint.CLIENT) {
                if (masked.isPresent()) {
                    String where = copy.endpoint() == CopyStatement.Endpoint.FILE ? "file" : "program";
                    throw refusal(masked.get(), what + " writes to a server " + where
                            + ", where pgpolicy cannot mask it; use TO STDOUT");
                }
                continue;
            }
            if (copy.options().format() == CopyOptions.Format.BINARY) {
                if (masked.isPresent()) {
                    throw refusal(masked.get(), "binary COPY cannot be masked: " + what
                            + " reads a table with masked columns; use FORMAT text or csv, which pgpolicy masks");
                }
                plans.add(CopyOutPlan.unchanged(copy.options(), hashKey, what));
                continue;
            }
            if (masked.isEmpty() && facts.parsed()) {
                // No table it reads has a mask: its columns cannot carry a masked value, as for SELECT.
                plans.add(CopyOutPlan.unchanged(copy.options(), hashKey, what));
                continue;
            }
            checkEncoding(session, copy.options());
            plans.add(columnActions(session, copy, masks, searchPathSetting, namesMasked.test(statement),
                    masked.orElse(null), what));
        }
        return List.copyOf(plans);
    }

    /** The first table the COPY copies out that a mask rule covers. */
    private static Optional<MaskBinding> maskedTable(StatementFacts facts, MaskSet masks, NameResolver resolver) {
        for (TableAccess access : facts.tables()) {
            if (access.action() != Action.COPY_OUT && access.action() != Action.COPY_PROGRAM) {
                continue;
            }
            ResolvedName table = resolver.relation(access.table());
            Optional<MaskBinding> binding = masks.maskFor(table, "*");
            if (binding.isPresent()) {
                return binding;
            }
        }
        return Optional.empty();
    }

    private void checkEncoding(SessionInfo session, CopyOptions options) throws Refusal {
        String encoding = options.encoding().orElseGet(() -> session.serverParameter("client_encoding").orElse(""));
        if (CopyEncodings.charset(encoding).isEmpty()) {
            throw refusal(null, "pgpolicy cannot mask COPY output in encoding \"" + encoding + "\"; use UTF8");
        }
    }

    private CopyOutPlan columnActions(SessionInfo session, CopyStatement copy, MaskSet masks,
            Optional<String> searchPathSetting, boolean namesMasked, MaskBinding rule, String what) throws Refusal {
        if (catalog == null) {
            throw refusal(rule, "no catalog account is configured (catalog.user), so pgpolicy cannot tell which"
                    + " columns " + label(copy) + " writes");
        }
        if (searchPathSetting.isEmpty()) {
            throw refusal(rule, "the session changed its search_path in a way pgpolicy cannot follow, so it cannot"
                    + " tell which tables " + label(copy) + " reads");
        }
        String database = session.database().orElse("");
        List<String> path = schemas(searchPathSetting.get(), session.dbUser().orElse(""));
        List<DescribedColumn> described;
        try {
            described = catalog.withConnection(database, connection -> {
                String query = copy.query().isPresent() ? copy.query().get() : selectOfTable(connection, path, copy);
                return QueryDescriber.describe(connection, path, query);
            });
        } catch (SQLException | RuntimeException e) {
            throw refusal(rule, "pgpolicy could not describe the output of " + label(copy) + " over its catalog"
                    + " connection: " + e.getMessage());
        }
        List<MaskPlan.ColumnAction> actions = new ArrayList<>(described.size());
        Set<Integer> forceQuoted = new HashSet<>();
        List<String> forced = copy.options().forceQuote();
        for (int i = 0; i < described.size(); i++) {
            DescribedColumn column = described.get(i);
            actions.add(action(database, column, masks, namesMasked, rule));
            if (forced.equals(List.of("*")) || forced.contains(column.name())) {
                forceQuoted.add(i);
            }
        }
        return new CopyOutPlan(copy.options(), MaskPlan.of(actions, hashKey), forceQuoted, what);
    }

    /** {@code SELECT} of the columns {@code COPY table [(columns)] TO} writes, in its order. */
    private static String selectOfTable(java.sql.Connection connection, List<String> path, CopyStatement copy)
            throws SQLException {
        ObjectName table = copy.table().orElseThrow();
        String name = (table.schema() == null ? "" : QueryDescriber.quoteIdentifier(table.schema()) + ".")
                + QueryDescriber.quoteIdentifier(table.name());
        List<String> columns = copy.columns().isEmpty() ? QueryDescriber.copiedColumns(connection, path, name)
                : copy.columns();
        return "SELECT " + columns.stream().map(QueryDescriber::quoteIdentifier).collect(Collectors.joining(", "))
                + " FROM " + name;
    }

    /** The same rule as DataRow masking (PolicyHooks.plan), for a described column. */
    private MaskPlan.ColumnAction action(String database, DescribedColumn column, MaskSet masks, boolean namesMasked,
            MaskBinding rule) throws Refusal {
        if (column.tableOid() == 0) {
            return namesMasked ? new MaskPlan.Nullify("computed from a masked column") : MaskPlan.KEEP;
        }
        if (column.attributeNumber() <= 0) {
            return MaskPlan.KEEP; // system columns hold no user data
        }
        Optional<CatalogCache.Column> origin;
        try {
            origin = catalog.column(database, column.tableOid(), column.attributeNumber());
        } catch (SQLException e) {
            throw refusal(rule, "pgpolicy could not look up the origin of a COPY column: " + e.getMessage());
        }
        if (origin.isEmpty()) {
            return MaskPlan.KEEP;
        }
        CatalogCache.Column named = origin.get();
        Optional<MaskSpec> mask = masks.maskFor(named.schema(), named.table(), named.column());
        if (mask.isEmpty()) {
            return MaskPlan.KEEP;
        }
        if (MaskPlan.TEXT_LIKE_TYPES.contains(column.typeOid()) && mask.get().function() != MaskFunction.NULL) {
            return new MaskPlan.Mask(mask.get(), named.schema() + "." + named.table() + "." + named.column());
        }
        return new MaskPlan.Nullify("mask " + mask.get() + " has no value of type " + column.typeOid());
    }

    /**
     * The schemas of a search_path setting, in order: quoted names as written, unquoted ones
     * folded to lower case, {@code $user} replaced by the session's role, since the describe runs
     * as the catalog account.
     */
    static List<String> schemas(String setting, String sessionRole) {
        List<String> entries = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < setting.length(); i++) {
            char c = setting.charAt(i);
            if (c == '"') {
                quoted = !quoted; // a doubled quote inside a name toggles twice
            }
            if (c == ',' && !quoted) {
                entries.add(current.toString());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        entries.add(current.toString());
        List<String> schemas = new ArrayList<>();
        for (String entry : entries) {
            String trimmed = entry.strip();
            if (trimmed.isEmpty()) {
                continue;
            }
            String name = trimmed.length() >= 2 && trimmed.startsWith("\"") && trimmed.endsWith("\"")
                    ? trimmed.substring(1, trimmed.length() - 1).replace("\"\"", "\"")
                    : trimmed.toLowerCase(Locale.ROOT);
            schemas.add(name.equals("$user") ? sessionRole : name);
        }
        return schemas;
    }

    private static String label(CopyStatement copy) {
        return copy.table().map(table -> "COPY " + table).orElse("COPY (query)");
    }

    private static Refusal refusal(MaskBinding rule, String detail) {
        String message = rule == null ? "pgpolicy: permission denied: COPY output cannot be masked"
                : "pgpolicy: permission denied by rule \"" + rule.ruleId() + "\"";
        return new Refusal(ErrorResponse.of(ErrorResponse.SEVERITY_ERROR, SqlState.INSUFFICIENT_PRIVILEGE, message, detail));
    }

    // ---------------------------------------------------------------- on the event loop

    /**
     * The filter for the {@code ordinal}-th CopyOutResponse of a request whose statement text was
     * planned as {@code plans}. Throws {@link SessionException} (the session ends before any data
     * is relayed) when the output does not match what was planned.
     */
    static CopyFilter filter(SessionInfo session, List<CopyOutPlan> plans, int ordinal, CopyOutResponse response) {
        if (ordinal >= plans.size()) {
            throw ended("a COPY the proxy did not plan for is sending data");
        }
        CopyOutPlan plan = plans.get(ordinal);
        if (plan.plan().changesNothing()) {
            return CopyFilter.UNCHANGED;
        }
        if (response.isBinary() || plan.options().format() == CopyOptions.Format.BINARY) {
            throw ended(plan.what() + " sends binary data, which cannot be masked");
        }
        if (response.columnFormats().size() != plan.plan().actions().size()) {
            throw ended(plan.what() + " copies " + response.columnFormats().size() + " columns where "
                    + plan.plan().actions().size() + " were planned (the table changed since)");
        }
        String encoding = plan.options().encoding()
                .orElseGet(() -> session.serverParameter("client_encoding").orElse(""));
        Optional<Charset> charset = CopyEncodings.charset(encoding);
        if (charset.isEmpty()) {
            throw ended(plan.what() + " is in encoding \"" + encoding + "\", which pgpolicy cannot mask");
        }
        return new CopyOutMasker(new CopyTextCodec(plan.options(), charset.get(), CopyEncodings.opaque(encoding)),
                plan.plan(), plan.forceQuoted(),
                plan.options().header(), plan.what());
    }

    private static SessionException ended(String why) {
        return new SessionException(SqlState.INSUFFICIENT_PRIVILEGE, "pgpolicy: " + why + "; the session was ended so"
                + " that no unmasked value reached the client");
    }
}
